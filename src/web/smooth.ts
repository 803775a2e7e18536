import { createTracked, destroyTracked } from '../gpu/memory';
import { packUniforms, reflectShader, shaderText } from '../gpu/shader-source';

/**
 * Exponential moving average of a mask over frames, on the GPU (shaders/web/smooth.wgsl): `output`
 * holds the smoothed [h, w] mask after each `encode`. `alpha` is the weight of the new frame (1 =
 * off); the first frame after construction or `reset()` is copied as is.
 */
export class MaskSmoother {
  readonly output: GPUBuffer;
  private readonly pipeline: GPUComputePipeline;
  private readonly uniforms: GPUBuffer;
  private readonly layout: NonNullable<ReturnType<typeof reflectShader>['uniform']>;
  private fresh = true;

  constructor(readonly device: GPUDevice, readonly n: number) {
    const text = shaderText('web/smooth.wgsl');
    this.layout = reflectShader(text).uniform!;
    this.pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: text, label: 'web/smooth.wgsl' }), entryPoint: 'main' } });
    this.uniforms = createTracked(device, { size: this.layout.size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.output = createTracked(device, { size: Math.max(16, n * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'wgseg smoothed mask' });
  }

  reset(): void {
    this.fresh = true;
  }

  /** Record `output = mix(output, mask, alpha)` into `encoder`. */
  encode(encoder: GPUCommandEncoder, mask: GPUBuffer, alpha: number): void {
    const a = this.fresh ? 1 : Math.min(1, Math.max(0, alpha));
    this.fresh = false;
    this.device.queue.writeBuffer(this.uniforms, 0, packUniforms(this.layout, { n: this.n, alpha: a }, 'smooth'));
    const bind = this.device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: mask } },
        { binding: 1, resource: { buffer: this.output } },
        { binding: 2, resource: { buffer: this.uniforms } },
      ],
    });
    const pass = encoder.beginComputePass({ label: 'wgseg mask smoothing' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(Math.ceil(this.n / 64));
    pass.end();
  }

  dispose(): void {
    destroyTracked(this.output);
    destroyTracked(this.uniforms);
  }
}
