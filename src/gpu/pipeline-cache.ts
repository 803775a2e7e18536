import { WgsegError } from '../core/errors';
import { reflectShader, shaderText, type ShaderLayout } from './shader-source';
import type { Defines } from '../core/op';

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: ShaderLayout;
  bindGroupLayout: GPUBindGroupLayout;
  label: string;
}

/**
 * Compute pipelines keyed by shader + defines + override constants + entry point, bind-group
 * layouts keyed by their binding signature: the resources the entry point uses (storage and uniform
 * buffers, textures, storage textures, samplers, external textures), reflected from the WGSL.
 * Nothing here is created per dispatch.
 */
export class PipelineCache {
  private static readonly perDevice = new WeakMap<GPUDevice, PipelineCache>();

  /** The device's one cache: every Runtime (and so every Session) on a device shares its pipelines. */
  static for(device: GPUDevice): PipelineCache {
    let c = PipelineCache.perDevice.get(device);
    if (!c) PipelineCache.perDevice.set(device, (c = new PipelineCache(device)));
    return c;
  }

  private pipelines = new Map<string, CachedPipeline>();
  private pendingCompiles = new Map<string, Promise<CachedPipeline>>();
  private bgls = new Map<string, GPUBindGroupLayout>();
  private pipelineLayouts = new Map<GPUBindGroupLayout, GPUPipelineLayout>();

  constructor(readonly device: GPUDevice) {}

  static key(shader: string, defines: Defines = {}, overrides: Record<string, number> = {}, entry = 'main') {
    const sorted = (o: object) => JSON.stringify(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
    return `${shader}|${entry}|${sorted(defines)}|${sorted(overrides)}`;
  }

  get size() {
    return this.pipelines.size;
  }

  private bindGroupLayout(layout: ShaderLayout): GPUBindGroupLayout {
    const sig = layout.bindings
      .map((b) => `${b.binding}:${b.entry.buffer ? b.kind : `${b.kind}${JSON.stringify(Object.values(b.entry)[0])}`}`)
      .join(',');
    let bgl = this.bgls.get(sig);
    if (!bgl) {
      bgl = this.device.createBindGroupLayout({
        label: sig,
        entries: layout.bindings.map((b) => ({ binding: b.binding, visibility: GPUShaderStage.COMPUTE, ...b.entry })),
      });
      this.bgls.set(sig, bgl);
    }
    return bgl;
  }

  private descriptor(shader: string, defines: Defines, overrides: Record<string, number>, entry: string) {
    const code = shaderText(shader, defines);
    const layout = reflectShader(code, entry);
    const bindGroupLayout = this.bindGroupLayout(layout);
    let pl = this.pipelineLayouts.get(bindGroupLayout);
    if (!pl) {
      pl = this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] });
      this.pipelineLayouts.set(bindGroupLayout, pl);
    }
    const module = this.device.createShaderModule({ label: shader, code });
    const desc: GPUComputePipelineDescriptor = {
      label: shader,
      layout: pl,
      compute: { module, entryPoint: entry, constants: overrides },
    };
    return { desc, layout, bindGroupLayout, module };
  }

  /** Synchronous get-or-create (compiles on the spot when not cached). */
  get(shader: string, defines: Defines = {}, overrides: Record<string, number> = {}, entry = 'main'): CachedPipeline {
    const key = PipelineCache.key(shader, defines, overrides, entry);
    let hit = this.pipelines.get(key);
    if (!hit) {
      const { desc, layout, bindGroupLayout } = this.descriptor(shader, defines, overrides, entry);
      hit = { pipeline: this.device.createComputePipeline(desc), layout, bindGroupLayout, label: key };
      this.pipelines.set(key, hit);
    }
    return hit;
  }

  /** Asynchronous compile (createComputePipelineAsync), deduplicated; errors name the shader. */
  async compile(
    shader: string,
    defines: Defines = {},
    overrides: Record<string, number> = {},
    entry = 'main',
  ): Promise<CachedPipeline> {
    const key = PipelineCache.key(shader, defines, overrides, entry);
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    let p = this.pendingCompiles.get(key);
    if (!p) {
      p = (async () => {
        const { desc, layout, bindGroupLayout, module } = this.descriptor(shader, defines, overrides, entry);
        try {
          const pipeline = await this.device.createComputePipelineAsync(desc);
          const cp = { pipeline, layout, bindGroupLayout, label: key };
          this.pipelines.set(key, cp);
          return cp;
        } catch (e) {
          const info = await module.getCompilationInfo();
          const msgs = info.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
          throw new WgsegError('SHADER', `pipeline ${key} failed: ${(e as Error).message}\n${msgs}`);
        } finally {
          this.pendingCompiles.delete(key);
        }
      })();
      this.pendingCompiles.set(key, p);
    }
    return p;
  }
}
