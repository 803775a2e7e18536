import { WgsegError } from '../core/errors';
import { createTracked, destroyTracked } from '../gpu/memory';
import type { Runtime } from '../gpu/runtime';
import type { Compositor, CompositeOptions } from './composite';
import { Preprocessor, type InputLayout } from './preprocess';
import type { SegModel } from './seg-model';
import { MaskSmoother } from './smooth';

/** Milliseconds per stage of one frame (each stage waits for the GPU queue to drain). */
export interface StageTimes {
  prep: number;
  model: number;
  composite: number;
}

/** One frame's model input and raw (unsmoothed) mask, read back on request. */
export interface FrameSample {
  /** mean mask value, fraction of mask pixels > 0.5, centroid of those (0..1) */
  mean: number;
  coverage: number;
  cx: number;
  cy: number;
  mask: number[];
  maskW: number;
  maskH: number;
  /** the model input (what the mask was computed from), its layout and size */
  input: number[];
  layout: InputLayout;
  width: number;
  height: number;
}

export type FrameInput = HTMLVideoElement | ImageBitmap;
const isVideo = (s: FrameInput): s is HTMLVideoElement =>
  typeof HTMLVideoElement !== 'undefined' && s instanceof HTMLVideoElement;

/**
 * One live view's GPU work per frame, shared by demos/webcam and <wgseg-view>: frame -> GPU
 * preprocessing (importExternalTexture, or an ImageBitmap copy where the browser cannot import the
 * video) -> the model's Session with the GPU buffer as input -> temporal smoothing -> composite onto
 * a canvas. Pixels stay on the GPU unless a sample is asked for.
 */
export class SegmentRenderer {
  readonly pre: Preprocessor;
  readonly smooth: MaskSmoother;
  /** how frames reach the GPU: importExternalTexture, or an ImageBitmap copy where that fails */
  path: 'external' | 'bitmap' = 'external';
  /** the stage running now (for error messages) */
  stage = '';
  private waiters: ((s: FrameSample) => void)[] = [];

  constructor(
    readonly rt: Runtime,
    readonly model: SegModel,
    readonly mirror: boolean,
  ) {
    this.pre = new Preprocessor(rt, { width: model.width, height: model.height, layout: model.layout, mirror });
    this.smooth = new MaskSmoother(rt, model.maskW * model.maskH);
  }

  /** Read back the next frame's model input and raw mask. */
  sample(): Promise<FrameSample> {
    return new Promise((ok) => this.waiters.push(ok));
  }

  get pendingSamples(): number {
    return this.waiters.length;
  }

  /** GPU bytes this renderer holds (its frame texture and buffers; the session's are the session's). */
  get bytes(): number {
    const f = this.pre.frame;
    return this.pre.output.size + this.smooth.output.size + (f ? f.width * f.height * 4 : 0);
  }

  /**
   * One frame: `source` (width x height) -> model -> mask smoothed with weight `smoothing` on the
   * previous frames (0 = off) -> composited by `comp` into `target()` (called once the mask is
   * ready, e.g. the canvas context's current texture view).
   */
  async frame(
    source: FrameInput,
    width: number,
    height: number,
    comp: Compositor,
    target: () => GPUTextureView,
    opts: CompositeOptions & { smoothing?: number },
  ): Promise<StageTimes> {
    const { device } = this.rt,
      m = this.model;
    this.stage = 'preprocess';
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    if (this.path === 'external' || !isVideo(source)) {
      try {
        this.pre.encode(enc, source, width, height);
      } catch (e) {
        if (!isVideo(source) || (e instanceof WgsegError && e.code === 'DEVICE_LOST')) throw e;
        // this browser cannot import the video as an external texture (headless Chromium on SwiftShader)
        console.info(`importExternalTexture failed (${(e as Error).message}); using createImageBitmap(video) instead`);
        this.path = 'bitmap';
      }
    }
    if (this.path === 'bitmap' && isVideo(source)) {
      const bitmap = await createImageBitmap(source);
      this.pre.encode(enc, bitmap, width, height);
      bitmap.close();
    }
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const t1 = performance.now();
    this.stage = 'model';
    const out = await m.session.run({ [m.input]: { buffer: this.pre.output, dims: this.pre.dims, type: 'float32' } });
    let staging: GPUBuffer | null = null;
    try {
      const mask = out[m.output];
      await device.queue.onSubmittedWorkDone();
      const t2 = performance.now();
      this.stage = 'composite';
      const enc2 = device.createCommandEncoder();
      this.smooth.encode(enc2, mask.buffer, 1 - (opts.smoothing ?? 0));
      comp.encode(enc2, target(), this.pre.frame!, this.smooth.output, m.maskW, m.maskH, opts);
      const waiters = this.waiters;
      this.waiters = [];
      const nIn = this.pre.output.size,
        nMask = m.maskW * m.maskH * 4;
      if (waiters.length) {
        staging = createTracked(device, {
          size: nIn + nMask,
          usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
          label: 'wgseg frame sample',
        });
        enc2.copyBufferToBuffer(this.pre.output, 0, staging, 0, nIn);
        enc2.copyBufferToBuffer(mask.buffer, 0, staging, nIn, nMask);
      }
      device.queue.submit([enc2.finish()]);
      await device.queue.onSubmittedWorkDone();
      const t3 = performance.now();
      if (staging) {
        this.stage = 'read back';
        await staging.mapAsync(GPUMapMode.READ);
        const input = new Float32Array(staging.getMappedRange(0, nIn).slice(0));
        const mk = new Float32Array(staging.getMappedRange(nIn, nMask).slice(0));
        const s: FrameSample = {
          ...maskStats(mk, m.maskW, m.maskH),
          mask: Array.from(mk),
          maskW: m.maskW,
          maskH: m.maskH,
          input: Array.from(input),
          layout: m.layout,
          width: m.width,
          height: m.height,
        };
        for (const ok of waiters) ok(s);
      }
      return { prep: t1 - t0, model: t2 - t1, composite: t3 - t2 };
    } finally {
      for (const t of Object.values(out)) t.dispose();
      if (staging) destroyTracked(staging);
    }
  }

  dispose(): void {
    this.pre.dispose();
    this.smooth.dispose();
  }
}

/** Mean, coverage (> 0.5) and centroid (0..1) of a [h, w] mask. */
export function maskStats(mask: ArrayLike<number>, w: number, h: number) {
  let sum = 0,
    n = 0,
    sx = 0,
    sy = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = mask[y * w + x];
      sum += v;
      if (v > 0.5) n++, (sx += x + 0.5), (sy += y + 0.5);
    }
  return { mean: sum / (w * h), coverage: n / (w * h), cx: n ? sx / n / w : NaN, cy: n ? sy / n / h : NaN };
}
