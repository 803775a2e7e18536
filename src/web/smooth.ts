import { createTracked, destroyTracked } from '../gpu/memory';
import { Runtime } from '../gpu/runtime';
import { packUniforms, type ShaderLayout } from '../gpu/shader-source';

const SHADER = 'web/smooth.wgsl';

/**
 * Exponential moving average of a mask over frames, on the GPU (shaders/web/smooth.wgsl): `output`
 * holds the smoothed [h, w] mask after each `encode`. `alpha` is the weight of the new frame (1 =
 * off); the first frame after construction or `reset()` is copied as is. The dispatch is a Program
 * recorded by a Runtime (the device's pipeline cache, debug error scopes) into the caller's encoder:
 * the one given, or one made on the given device.
 */
export class MaskSmoother {
  readonly output: GPUBuffer;
  readonly device: GPUDevice;
  private readonly rt: Runtime;
  private readonly uniforms: GPUBuffer;
  private readonly layout: NonNullable<ShaderLayout['uniform']>;
  private fresh = true;

  constructor(
    gpu: GPUDevice | Runtime,
    readonly n: number,
  ) {
    this.rt = gpu instanceof Runtime ? gpu : new Runtime(gpu);
    const device = (this.device = this.rt.device);
    this.layout = this.rt.pipelines.get(SHADER).layout.uniform!;
    this.uniforms = createTracked(device, {
      size: this.layout.size,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.output = createTracked(device, {
      size: Math.max(16, n * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      label: 'wgseg smoothed mask',
    });
  }

  reset(): void {
    this.fresh = true;
  }

  /** Record `output = mix(output, mask, alpha)` into `encoder`. */
  encode(encoder: GPUCommandEncoder, mask: GPUBuffer, alpha: number): void {
    const a = this.fresh ? 1 : Math.min(1, Math.max(0, alpha));
    this.fresh = false;
    this.device.queue.writeBuffer(this.uniforms, 0, packUniforms(this.layout, { n: this.n, alpha: a }, 'smooth'));
    this.rt.dispatch(
      {
        name: `web mask smoothing ${this.n}`,
        shader: SHADER,
        buffers: { mask, state: this.output },
        uniformBuffer: this.uniforms,
        workgroups: [Math.ceil(this.n / 64)],
      },
      encoder,
    );
  }

  dispose(): void {
    destroyTracked(this.output);
    destroyTracked(this.uniforms);
  }
}
