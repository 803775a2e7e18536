import { WgsegError } from '../core/errors';
import { createTracked, destroyTracked } from '../gpu/memory';
import { packUniforms, reflectShader, shaderText } from '../gpu/shader-source';

export type InputLayout = 'nhwc' | 'nchw';

export interface PreprocessOptions {
  width: number;
  height: number;
  layout: InputLayout;
  /** per-channel affine on RGB in [0,1]: value * scale + bias (defaults: 1 and 0, i.e. [0,1]) */
  scale?: [number, number, number];
  bias?: [number, number, number];
  /** flip left-right (a selfie view) */
  mirror?: boolean;
}

/**
 * Video/image frame -> model input tensor, on the GPU: a video (element or VideoFrame) is imported
 * as an external texture and copied by a compute dispatch into an rgba8unorm frame texture (other
 * sources by copyExternalImageToTexture); nothing goes through the CPU. A second dispatch resizes
 * it bilinearly, normalises and writes f32 NHWC or NCHW into `output`, a storage buffer that can be
 * fed to Session.run as `{ buffer, dims, type: 'float32' }`. The frame texture stays valid for the
 * compositor after the (asynchronous) model run, unlike the external texture.
 */
export class Preprocessor {
  readonly output: GPUBuffer;
  readonly dims: number[];
  private readonly pipeline: GPUComputePipeline;
  private readonly toFrame: GPUComputePipeline;
  private readonly uniforms: GPUBuffer;
  private readonly sampler: GPUSampler;
  private texture: GPUTexture | null = null;
  private bindGroup: GPUBindGroup | null = null;

  constructor(readonly device: GPUDevice, readonly opts: PreprocessOptions) {
    const { width: w, height: h, layout } = opts;
    if (!(w > 0 && h > 0)) throw new WgsegError('BAD_SHAPE', `preprocess: output size ${w}x${h} is not positive`);
    const text = shaderText('web/preprocess.wgsl');
    const u = reflectShader(text).uniform!;
    const module = device.createShaderModule({ code: text, label: 'web/preprocess.wgsl' });
    this.pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    this.toFrame = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'to_frame' } });
    this.uniforms = createTracked(device, { size: u.size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const s = opts.scale ?? [1, 1, 1], b = opts.bias ?? [0, 0, 0];
    device.queue.writeBuffer(this.uniforms, 0, packUniforms(u, { out_w: w, out_h: h, nchw: layout === 'nchw' ? 1 : 0, mirror: opts.mirror ? 1 : 0, scale: [...s, 1], bias: [...b, 0] }, 'preprocess'));
    this.output = createTracked(device, { size: w * h * 3 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'wgseg preprocess output' });
    this.dims = layout === 'nchw' ? [1, 3, h, w] : [1, h, w, 3];
    this.sampler = device.createSampler({ magFilter: 'linear', minFilter: 'linear' });
  }

  /** The frame texture (rgba8unorm, the source's size) after the last `encode`. */
  get frame(): GPUTexture | null {
    return this.texture;
  }

  /** Record the frame copy and the resize into `encoder` (submit it in this task: the external texture expires). */
  encode(encoder: GPUCommandEncoder, source: HTMLVideoElement | VideoFrame | ImageBitmap | HTMLCanvasElement | HTMLImageElement, width: number, height: number): void {
    if (!this.texture || this.texture.width !== width || this.texture.height !== height) {
      this.texture?.destroy();
      this.texture = this.device.createTexture({
        size: [width, height],
        format: 'rgba8unorm',
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
        label: 'wgseg frame',
      });
      this.bindGroup = this.device.createBindGroup({
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: this.texture.createView() },
          { binding: 1, resource: this.sampler },
          { binding: 2, resource: { buffer: this.output } },
          { binding: 3, resource: { buffer: this.uniforms } },
        ],
      });
    }
    // the import throws where the browser cannot share the video with WebGPU (headless Chromium on
    // SwiftShader): the caller then passes an ImageBitmap of the video instead
    const video = (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) || (typeof VideoFrame !== 'undefined' && source instanceof VideoFrame);
    const external = video ? this.device.importExternalTexture({ source }) : null;
    if (!external) this.device.queue.copyExternalImageToTexture({ source }, { texture: this.texture }, [width, height]);
    const pass = encoder.beginComputePass({ label: 'wgseg preprocess' });
    if (external) {
      const bind = this.device.createBindGroup({
        layout: this.toFrame.getBindGroupLayout(0),
        entries: [
          { binding: 4, resource: external },
          { binding: 5, resource: this.texture.createView() },
        ],
      });
      pass.setPipeline(this.toFrame);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(Math.ceil(width / 8), Math.ceil(height / 8));
    }
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.opts.width / 8), Math.ceil(this.opts.height / 8));
    pass.end();
  }

  dispose(): void {
    this.texture?.destroy();
    this.texture = null;
    destroyTracked(this.output);
    destroyTracked(this.uniforms);
  }
}
