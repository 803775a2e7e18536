import { WgsegError } from '../core/errors';
import { createTracked, destroyTracked } from '../gpu/memory';
import { Runtime } from '../gpu/runtime';
import { packUniforms } from '../gpu/shader-source';

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

const SHADER = 'web/preprocess.wgsl';

/** RGBA8 pixels on the host, rows packed (a decoded PNG/JPEG in Node, an ImageData): written to the frame texture as they are. */
export interface PixelSource {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}
const isPixels = (s: object): s is PixelSource => ArrayBuffer.isView((s as Partial<PixelSource>).data);

/**
 * Video/image frame -> model input tensor, on the GPU: a video (element or VideoFrame) is imported
 * as an external texture and copied by a compute dispatch into an rgba8unorm frame texture (other
 * sources by copyExternalImageToTexture; host pixels, as in Node, by writeTexture); a frame goes
 * through the CPU only when it starts there. A second dispatch resizes
 * it bilinearly, normalises and writes f32 NHWC or NCHW into `output`, a storage buffer that can be
 * fed to Session.run as `{ buffer, dims, type: 'float32' }`. The frame texture stays valid for the
 * compositor after the (asynchronous) model run, unlike the external texture.
 *
 * Both dispatches are Programs recorded by a Runtime (the device's pipeline cache, debug error
 * scopes) into the caller's encoder: the one given, or one made on the given device.
 */
export class Preprocessor {
  readonly output: GPUBuffer;
  readonly dims: number[];
  readonly device: GPUDevice;
  private readonly rt: Runtime;
  /** the packed Params struct: constant, written once */
  private readonly uniforms: GPUBuffer;
  private readonly sampler: GPUSampler;
  private texture: GPUTexture | null = null;
  private view: GPUTextureView | null = null;

  constructor(
    gpu: GPUDevice | Runtime,
    readonly opts: PreprocessOptions,
  ) {
    const { width: w, height: h, layout } = opts;
    if (!(w > 0 && h > 0)) throw new WgsegError('BAD_SHAPE', `preprocess: output size ${w}x${h} is not positive`);
    this.rt = gpu instanceof Runtime ? gpu : new Runtime(gpu);
    const device = (this.device = this.rt.device);
    const u = this.rt.pipelines.get(SHADER, {}, {}, 'main').layout.uniform!;
    this.rt.pipelines.get(SHADER, {}, {}, 'to_frame');
    this.uniforms = createTracked(device, { size: u.size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const s = opts.scale ?? [1, 1, 1],
      b = opts.bias ?? [0, 0, 0];
    device.queue.writeBuffer(
      this.uniforms,
      0,
      packUniforms(
        u,
        {
          out_w: w,
          out_h: h,
          nchw: layout === 'nchw' ? 1 : 0,
          mirror: opts.mirror ? 1 : 0,
          scale: [...s, 1],
          bias: [...b, 0],
        },
        'preprocess',
      ),
    );
    this.output = createTracked(device, {
      size: w * h * 3 * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      label: 'wgseg preprocess output',
    });
    this.dims = layout === 'nchw' ? [1, 3, h, w] : [1, h, w, 3];
    this.sampler = device.createSampler({ magFilter: 'linear', minFilter: 'linear' });
  }

  /** The frame texture (rgba8unorm, the source's size) after the last `encode`. */
  get frame(): GPUTexture | null {
    return this.texture;
  }

  /** Record the frame copy and the resize into `encoder` (submit it in this task: the external texture expires). */
  encode(
    encoder: GPUCommandEncoder,
    source: HTMLVideoElement | VideoFrame | ImageBitmap | HTMLCanvasElement | HTMLImageElement | PixelSource,
    width: number,
    height: number,
  ): void {
    if (!this.texture || !this.view || this.texture.width !== width || this.texture.height !== height) {
      this.texture?.destroy();
      this.texture = this.device.createTexture({
        size: [width, height],
        format: 'rgba8unorm',
        usage:
          GPUTextureUsage.TEXTURE_BINDING |
          GPUTextureUsage.STORAGE_BINDING |
          GPUTextureUsage.COPY_DST |
          GPUTextureUsage.RENDER_ATTACHMENT,
        label: 'wgseg frame',
      });
      this.view = this.texture.createView();
    }
    // the import throws where the browser cannot share the video with WebGPU (headless Chromium on
    // SwiftShader): the caller then passes an ImageBitmap of the video instead
    const video =
      (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) ||
      (typeof VideoFrame !== 'undefined' && source instanceof VideoFrame);
    const external = video ? this.device.importExternalTexture({ source }) : null;
    if (isPixels(source)) {
      if (source.data.length < width * height * 4)
        throw new WgsegError(
          'BAD_INPUT',
          `preprocess: ${source.data.length} bytes are not ${width}x${height} RGBA pixels`,
        );
      this.device.queue.writeTexture(
        { texture: this.texture },
        source.data as Uint8Array<ArrayBuffer>,
        { bytesPerRow: width * 4 },
        [width, height],
      );
    } else if (!external)
      this.device.queue.copyExternalImageToTexture({ source }, { texture: this.texture }, [width, height]);
    else
      this.rt.dispatch(
        {
          name: `web preprocess to_frame ${width}x${height}`,
          shader: SHADER,
          entry: 'to_frame',
          buffers: {},
          externalTextures: { camera: external },
          textures: { frame_out: this.view },
          workgroups: [Math.ceil(width / 8), Math.ceil(height / 8)],
        },
        encoder,
      );
    const { width: w, height: h, layout } = this.opts;
    this.rt.dispatch(
      {
        name: `web preprocess ${width}x${height} -> ${layout} ${w}x${h}`,
        shader: SHADER,
        buffers: { dst: this.output },
        uniformBuffer: this.uniforms,
        textures: { frame: this.view },
        samplers: { smp: this.sampler },
        workgroups: [Math.ceil(w / 8), Math.ceil(h / 8)],
      },
      encoder,
    );
  }

  dispose(): void {
    this.texture?.destroy();
    this.texture = null;
    this.view = null;
    destroyTracked(this.output);
    destroyTracked(this.uniforms);
  }
}
