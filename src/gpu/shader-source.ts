import type { Defines, UniformValues } from '../core/op';
import { WgslReflect, type VariableInfo } from 'wgsl_reflect';
import { WgsegError } from '../core/errors';

/** Every .wgsl file under shaders/, as text, keyed 'family/name.wgsl' (bundled by Vite). */
const files: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob('/shaders/**/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>)
    .map(([path, text]) => [path.replace(/^\/shaders\//, ''), text]),
);

/**
 * The tiny preprocessor: `// #include family/file.wgsl` pulls in a shared file once, and
 * `{{NAME}}` is replaced from `defines` (only dtype and vector width are meant to vary this way).
 * A define whose value is f16 turns on `enable f16;`.
 */
export function shaderText(name: string, defines: Defines = {}): string {
  const seen = new Set<string>();
  const expand = (file: string): string => {
    const src = files[file];
    if (src === undefined) throw new WgsegError('SHADER', `shader "${file}" not found under shaders/`);
    return src.replace(/^\s*\/\/\s*#include\s+(\S+)\s*$/gm, (_, inc: string) => {
      if (seen.has(inc)) return '';
      seen.add(inc);
      return expand(inc);
    });
  };
  let text = expand(name).replace(/\{\{\s*(\w+)\s*\}\}/g, (_, key: string) => {
    if (!(key in defines)) throw new WgsegError('SHADER', `shader "${name}" needs define {{${key}}}`);
    return String(defines[key]);
  });
  if (Object.values(defines).some((v) => /\bf16\b/.test(String(v)))) text = 'enable f16;\n' + text;
  return text;
}

export interface UniformField { offset: number; type: string; count: number; stride: number }
export interface ShaderLayout {
  /** group-0 resources in binding order */
  bindings: { name: string; binding: number; kind: 'uniform' | 'read-only-storage' | 'storage' }[];
  /** the uniform struct named in `var<uniform>`, if any: field -> byte offset and scalar type */
  uniform?: { name: string; size: number; fields: Map<string, UniformField> };
}

const layouts = new Map<string, ShaderLayout>();

/** Binding and uniform layout read from the WGSL itself (wgsl_reflect); cached per text. */
export function reflectShader(text: string): ShaderLayout {
  let layout = layouts.get(text);
  if (layout) return layout;
  const r = new WgslReflect(text);
  const group = (r.getBindGroups()[0] ?? []).filter(Boolean) as VariableInfo[];
  if (r.getBindGroups().length > 1) throw new WgsegError('SHADER', 'shaders use bind group 0 only');
  layout = {
    bindings: group.map((v) => ({
      name: v.name,
      binding: v.binding,
      kind: r.uniforms.includes(v) ? 'uniform' : v.access === 'read' ? 'read-only-storage' : 'storage',
    })),
  };
  const u = r.uniforms[0];
  if (u) {
    if (r.uniforms.length > 1) throw new WgsegError('SHADER', 'at most one uniform binding per shader');
    const fields = new Map<string, UniformField>();
    for (const m of u.members ?? []) {
      const base = m.isArray ? (m.format?.getTypeName() ?? '') : m.type.getTypeName();
      fields.set(m.name, { offset: m.offset, type: base, count: m.isArray ? m.count : 1, stride: m.isArray ? m.stride : m.size });
    }
    layout.uniform = { name: u.name, size: Math.ceil(u.size / 16) * 16, fields };
  }
  layouts.set(text, layout);
  return layout;
}

/** Packs named values into the uniform struct's bytes; every field must be given. */
export function packUniforms(layout: NonNullable<ShaderLayout['uniform']>, values: UniformValues, where: string): ArrayBuffer {
  const buf = new ArrayBuffer(layout.size);
  const view = new DataView(buf);
  for (const [name, f] of layout.fields) {
    const v = values[name];
    if (v === undefined) throw new WgsegError('SHADER', `${where}: uniform field "${name}" not given`);
    const flat = typeof v === 'number' ? [v] : v;
    const scalar = /f32|^vec\df$/.test(f.type) ? 'f32' : /i32|^vec\di$/.test(f.type) ? 'i32' : 'u32'; // vec4<f32> reflects as 'vec4f'
    const lanes = /vec(\d)/.exec(f.type)?.[1];
    const per = lanes ? Number(lanes) : 1;
    if (flat.length !== per * f.count) throw new WgsegError('SHADER', `${where}: uniform "${name}" wants ${per * f.count} values, got ${flat.length}`);
    for (let i = 0; i < flat.length; i++) {
      const at = f.offset + Math.floor(i / per) * f.stride + (i % per) * 4;
      if (scalar === 'f32') view.setFloat32(at, flat[i], true);
      else if (scalar === 'i32') view.setInt32(at, flat[i], true);
      else view.setUint32(at, flat[i], true);
    }
  }
  for (const k of Object.keys(values)) {
    if (!layout.fields.has(k)) throw new WgsegError('SHADER', `${where}: uniform has no field "${k}"`);
  }
  return buf;
}
