import { createTracked, destroyTracked } from '../gpu/memory';
import { packUniforms, reflectShader, shaderText } from '../gpu/shader-source';

export type CompositeMode = 'mask' | 'blur' | 'replace' | 'cutout';
export const COMPOSITE_MODES: readonly CompositeMode[] = ['mask', 'blur', 'replace', 'cutout'];

export interface CompositeOptions {
  mode: CompositeMode;
  /** the frame was mirrored for the model (Preprocessor mirror): show it mirrored too */
  mirror?: boolean;
  /** the mask is softened by smoothstep(lo, hi) (defaults 0.3, 0.7) */
  lo?: number;
  hi?: number;
  /** overlay colour (rgb in [0,1]) and opacity, for mode 'mask' */
  tint?: [number, number, number, number];
  /** the background for mode 'replace': a colour (rgb in [0,1]) or an image texture (cover-fitted); default a gradient */
  background?: Background;
  /** mode 'cutout': the frame with alpha = the softened mask instead of over a checkerboard (for a target with alpha, e.g. a PNG) */
  transparent?: boolean;
}

export type Background = { color: [number, number, number] } | { texture: GPUTexture };

/** uv scale and offset that cover-fit a `bw` x `bh` image onto a `fw` x `fh` frame (centred, cropped, no stretching). */
export function coverFit(fw: number, fh: number, bw: number, bh: number): [number, number, number, number] {
  const frame = fw / fh,
    image = bw / bh;
  const [sx, sy] = image > frame ? [frame / image, 1] : [1, image / frame];
  return [sx, sy, (1 - sx) / 2, (1 - sy) / 2];
}

/**
 * Draws frame + mask onto a WebGPU canvas in one render pass: a full-screen triangle whose fragment
 * shader reads the frame texture and the model's [h, w] mask buffer directly (bilinear), so nothing
 * leaves the GPU.
 *
 * The one GPU pipeline outside the Program / pipeline-cache path: a render pipeline drawing into
 * the canvas's format (the Runtime records compute dispatches only). It stays special here, in
 * this one place; every compute pass (graph kernels, CRF, OCR, web preprocessing and smoothing)
 * goes through `Runtime.dispatch`. Its uniforms are still packed from the reflected WGSL.
 */
export class Compositor {
  private readonly pipeline: GPURenderPipeline;
  private readonly uniforms: GPUBuffer;
  private readonly layout: NonNullable<ReturnType<typeof reflectShader>['uniform']>;
  private readonly sampler: GPUSampler;
  /** bound as `background` when the background is not an image */
  private readonly blank: GPUTexture;

  constructor(
    readonly device: GPUDevice,
    readonly format: GPUTextureFormat,
  ) {
    const text = shaderText('web/composite.wgsl');
    this.layout = reflectShader(text).uniform!;
    const module = device.createShaderModule({ code: text, label: 'web/composite.wgsl' });
    this.pipeline = device.createRenderPipeline({
      layout: 'auto',
      vertex: { module, entryPoint: 'vs' },
      fragment: { module, entryPoint: 'fs', targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
    });
    this.uniforms = createTracked(device, {
      size: this.layout.size,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.sampler = device.createSampler({
      magFilter: 'linear',
      minFilter: 'linear',
      addressModeU: 'clamp-to-edge',
      addressModeV: 'clamp-to-edge',
    });
    this.blank = device.createTexture({
      size: [1, 1],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.TEXTURE_BINDING,
      label: 'wgseg no background',
    });
  }

  /** Record the composite of `frame` and `mask` ([maskH, maskW] f32) into `target`. */
  encode(
    encoder: GPUCommandEncoder,
    target: GPUTextureView,
    frame: GPUTexture,
    mask: GPUBuffer,
    maskW: number,
    maskH: number,
    o: CompositeOptions,
  ): void {
    const values = {
      mask_w: maskW,
      mask_h: maskH,
      mode: COMPOSITE_MODES.indexOf(o.mode),
      mirror: o.mirror ? 1 : 0,
      texel: [1 / frame.width, 1 / frame.height],
      lo: o.lo ?? 0.3,
      hi: o.hi ?? 0.7,
      tint: o.tint ?? [0.1, 0.9, 0.4, 0.5],
      bg_kind: !o.background ? 0 : 'color' in o.background ? 1 : 2,
      transparent: o.transparent ? 1 : 0,
      bg_color: o.background && 'color' in o.background ? [...o.background.color, 1] : [0, 0, 0, 1],
      bg_uv:
        o.background && 'texture' in o.background
          ? coverFit(frame.width, frame.height, o.background.texture.width, o.background.texture.height)
          : [1, 1, 0, 0],
    };
    const bg = o.background && 'texture' in o.background ? o.background.texture : this.blank;
    this.device.queue.writeBuffer(this.uniforms, 0, packUniforms(this.layout, values, 'composite'));
    const bind = this.device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: frame.createView() },
        { binding: 1, resource: this.sampler },
        { binding: 2, resource: { buffer: mask } },
        { binding: 3, resource: { buffer: this.uniforms } },
        { binding: 4, resource: bg.createView() },
      ],
    });
    const pass = encoder.beginRenderPass({
      colorAttachments: [{ view: target, loadOp: 'clear', storeOp: 'store', clearValue: [0, 0, 0, 1] }],
    });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bind);
    pass.draw(3);
    pass.end();
  }

  dispose(): void {
    destroyTracked(this.uniforms);
    this.blank.destroy();
  }
}
