import type { Defines, UniformValues } from '../core/op';
import { ResourceType, WgslReflect, type TemplateInfo, type VariableInfo } from 'wgsl_reflect';
import { WgsegError } from '../core/errors';

/** Every .wgsl file under shaders/, as text, keyed 'family/name.wgsl' (bundled by Vite). */
const files: Record<string, string> = Object.fromEntries(
  Object.entries(
    import.meta.glob('/shaders/**/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>,
  ).map(([path, text]) => [path.replace(/^\/shaders\//, ''), text]),
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

export interface UniformField {
  offset: number;
  type: string;
  count: number;
  stride: number;
}

/** What a binding holds; the Program field it is bound from follows (runtime.ts `record`). */
export type BindingKind =
  | 'uniform'
  | 'read-only-storage'
  | 'storage'
  | 'texture'
  | 'storage-texture'
  | 'external-texture'
  | 'sampler';

export interface ShaderBinding {
  name: string;
  binding: number;
  kind: BindingKind;
  /** its bind-group-layout entry, less binding and visibility */
  entry: Omit<GPUBindGroupLayoutEntry, 'binding' | 'visibility'>;
}

export interface ShaderLayout {
  /** group-0 resources in binding order (those of one entry point when reflected for one) */
  bindings: ShaderBinding[];
  /** the uniform struct named in `var<uniform>`, if any: field -> byte offset and scalar type */
  uniform?: { name: string; size: number; fields: Map<string, UniformField> };
}

const VIEW: Record<string, GPUTextureViewDimension> = {
  '1d': '1d',
  '2d': '2d',
  '2d_array': '2d-array',
  '3d': '3d',
  cube: 'cube',
  cube_array: 'cube-array',
};
const SAMPLE: Record<string, GPUTextureSampleType> = { f32: 'float', i32: 'sint', u32: 'uint' };
const ACCESS: Record<string, GPUStorageTextureAccess> = {
  read: 'read-only',
  write: 'write-only',
  read_write: 'read-write',
};

/** The layout entry WebGPU's `layout: 'auto'` would make for one resource (f32 textures as filterable 'float'). */
function bindingOf(v: VariableInfo): ShaderBinding {
  const at = { name: v.name, binding: v.binding };
  const type = v.type.name;
  const view = (prefix: string) => VIEW[type.slice(prefix.length)];
  const format = (v.type as TemplateInfo).format?.name ?? '';
  switch (v.resourceType) {
    case ResourceType.Uniform:
      return { ...at, kind: 'uniform', entry: { buffer: { type: 'uniform' } } };
    case ResourceType.Storage:
      return v.access === 'read'
        ? { ...at, kind: 'read-only-storage', entry: { buffer: { type: 'read-only-storage' } } }
        : { ...at, kind: 'storage', entry: { buffer: { type: 'storage' } } };
    case ResourceType.Sampler:
      return {
        ...at,
        kind: 'sampler',
        entry: { sampler: { type: type === 'sampler_comparison' ? 'comparison' : 'filtering' } },
      };
    case ResourceType.StorageTexture:
      return {
        ...at,
        kind: 'storage-texture',
        entry: {
          storageTexture: {
            format: format as GPUTextureFormat,
            access: ACCESS[(v.type as TemplateInfo).access],
            viewDimension: view('texture_storage_'),
          },
        },
      };
    case ResourceType.Texture:
      if (type === 'texture_external') return { ...at, kind: 'external-texture', entry: { externalTexture: {} } };
      if (type.startsWith('texture_depth_multisampled_'))
        return {
          ...at,
          kind: 'texture',
          entry: { texture: { sampleType: 'depth', viewDimension: '2d', multisampled: true } },
        };
      if (type.startsWith('texture_depth_'))
        return {
          ...at,
          kind: 'texture',
          entry: { texture: { sampleType: 'depth', viewDimension: view('texture_depth_') } },
        };
      if (type.startsWith('texture_multisampled_'))
        return {
          ...at,
          kind: 'texture',
          entry: {
            texture: {
              sampleType: format === 'f32' ? 'unfilterable-float' : SAMPLE[format],
              viewDimension: '2d',
              multisampled: true,
            },
          },
        };
      return {
        ...at,
        kind: 'texture',
        entry: { texture: { sampleType: SAMPLE[format], viewDimension: view('texture_') } },
      };
  }
  throw new WgsegError('SHADER', `binding ${v.name}: resource type ${type} is not supported`);
}

const layouts = new Map<string, ShaderLayout>();

/**
 * Binding and uniform layout read from the WGSL itself (wgsl_reflect); cached per text and entry.
 * With `entry`, only the resources that entry point uses (through the functions it calls), as
 * WebGPU's `layout: 'auto'` does: entry points of one file may then bind a texture as sampled in
 * one and as a storage texture in the other.
 */
export function reflectShader(text: string, entry?: string): ShaderLayout {
  const key = `${entry ?? ''}\n${text}`;
  let layout = layouts.get(key);
  if (layout) return layout;
  const r = new WgslReflect(text);
  if (r.getBindGroups().length > 1) throw new WgsegError('SHADER', 'shaders use bind group 0 only');
  let group = (r.getBindGroups()[0] ?? []).filter(Boolean) as VariableInfo[];
  if (entry !== undefined) {
    const fn = r.entry.compute.find((f) => f.name === entry);
    if (!fn) throw new WgsegError('SHADER', `no compute entry point "${entry}"`);
    const used = new Set(fn.resources.map((v) => v.name));
    group = group.filter((v) => used.has(v.name));
  }
  layout = { bindings: group.map((v) => bindingOf(v)) };
  if (r.uniforms.length > 1) throw new WgsegError('SHADER', 'at most one uniform binding per shader');
  const u = r.uniforms[0];
  if (u && group.includes(u)) {
    const fields = new Map<string, UniformField>();
    for (const m of u.members ?? []) {
      const base = m.isArray ? (m.format?.getTypeName() ?? '') : m.type.getTypeName();
      fields.set(m.name, {
        offset: m.offset,
        type: base,
        count: m.isArray ? m.count : 1,
        stride: m.isArray ? m.stride : m.size,
      });
    }
    layout.uniform = { name: u.name, size: Math.ceil(u.size / 16) * 16, fields };
  }
  layouts.set(key, layout);
  return layout;
}

/** Packs named values into the uniform struct's bytes; every field must be given. */
export function packUniforms(
  layout: NonNullable<ShaderLayout['uniform']>,
  values: UniformValues,
  where: string,
): ArrayBuffer {
  const buf = new ArrayBuffer(layout.size);
  const view = new DataView(buf);
  for (const [name, f] of layout.fields) {
    const v = values[name];
    if (v === undefined) throw new WgsegError('SHADER', `${where}: uniform field "${name}" not given`);
    const flat = typeof v === 'number' ? [v] : v;
    const scalar = /f32|^vec\df$/.test(f.type) ? 'f32' : /i32|^vec\di$/.test(f.type) ? 'i32' : 'u32'; // vec4<f32> reflects as 'vec4f'
    const lanes = /vec(\d)/.exec(f.type)?.[1];
    const per = lanes ? Number(lanes) : 1;
    if (flat.length !== per * f.count)
      throw new WgsegError('SHADER', `${where}: uniform "${name}" wants ${per * f.count} values, got ${flat.length}`);
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
