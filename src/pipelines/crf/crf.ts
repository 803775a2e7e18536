import { WgsegError } from '../../core/errors';
import type { Runtime } from '../../gpu/runtime';
import type { GpuTensor } from '../../core/op';
import { linearGrid } from '../../kernels/dispatch';
import { BilateralGrid, classChunk, gridShape } from './grid';
import type { Tensor } from '../../session';

/**
 * DeepLab's fully connected CRF (Krahenbuhl & Koltun 2011) on the GPU: mean-field iterations
 *   Q(l) <- softmax_l(-U(l) - sum_m w_m sum_l' mu(l,l') sum_{j != i} k_m(f_i, f_j) Q_j(l'))
 * with Potts mu, a Gaussian position kernel exp(-|p_i - p_j|^2 / 2 gamma^2) (weight w2) and a
 * bilateral kernel exp(-|p_i - p_j|^2 / 2 alpha^2 - |I_i - I_j|^2 / 2 beta^2) (weight w1).
 *
 * The position kernel is exact (separable blur, truncated at 4 sigma); the bilateral kernel runs on
 * a 5-D bilateral grid (src/pipelines/crf/grid.ts), an approximation whose error vs the exact filter
 * is measured in test/pipelines/crf.test.ts. Everything stays on the GPU; `run` records dispatches
 * and does not submit.
 */

export interface DenseCRFOptions {
  /** mean-field iterations (default 5) */
  iterations?: number;
  /** bilateral (appearance) kernel: weight w1, position sigma alpha (px), colour sigma beta (0..255) */
  bilateral?: { weight?: number; sigmaXY?: number; sigmaRGB?: number };
  /** Gaussian (smoothness) kernel: weight w2, position sigma gamma (px) */
  gaussian?: { weight?: number; sigmaXY?: number };
  /** probabilities are clamped to eps before -log (default 1e-6) */
  eps?: number;
  /** bilateral grid cell size in sigmas, <= 1.5 (default 1) */
  cellScale?: number;
  /** bilateral grid splat: 'nearest' cell (default; a gather over the pixels sorted by cell) or 'linear' (32 corners, atomics: ~30% less RMS error, slower) */
  splat?: 'nearest' | 'linear';
  /** largest bilateral grid buffer in bytes; classes are filtered in chunks that fit (default: the device's binding limit) */
  maxGridBytes?: number;
}

/** `data` is interleaved RGB or RGBA (ImageData), `channels` 3 or 4 (default 4). */
export type HostImage = { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels?: 3 | 4 };
export type CrfTensor = GpuTensor | Tensor;
export interface CrfResult {
  /** refined probabilities [1,C,H,W] f32 */
  probs: GpuTensor;
  /** argmax labels [1,H,W] i32 */
  labels: GpuTensor;
}

const WG = 256;
/** Gaussian kernels are truncated at this many sigmas. */
const TRUNC = 4;

const gpuOf = (t: CrfTensor): GpuTensor => ('gpu' in t ? t.gpu : t);

export class DenseCRF {
  readonly iterations: number;
  readonly w1: number;
  readonly alpha: number;
  readonly beta: number;
  readonly w2: number;
  readonly gamma: number;
  readonly eps: number;
  readonly cellScale: number;
  readonly splat: 'nearest' | 'linear';

  constructor(
    readonly rt: Runtime,
    readonly opts: DenseCRFOptions = {},
  ) {
    this.iterations = opts.iterations ?? 5;
    this.w1 = opts.bilateral?.weight ?? 10;
    this.alpha = opts.bilateral?.sigmaXY ?? 80;
    this.beta = opts.bilateral?.sigmaRGB ?? 13;
    this.w2 = opts.gaussian?.weight ?? 3;
    this.gamma = opts.gaussian?.sigmaXY ?? 3;
    this.eps = opts.eps ?? 1e-6;
    this.cellScale = opts.cellScale ?? 1;
    this.splat = opts.splat ?? 'nearest';
    const bad = (what: string, v: number, ok: boolean) => {
      if (!ok) throw new WgsegError('BAD_ATTRIBUTE', `DenseCRF: ${what} ${v} out of range`);
    };
    bad('iterations', this.iterations, Number.isInteger(this.iterations) && this.iterations >= 0);
    for (const [k, v] of Object.entries({
      'bilateral.sigmaXY': this.alpha,
      'bilateral.sigmaRGB': this.beta,
      'gaussian.sigmaXY': this.gamma,
      eps: this.eps,
    }))
      bad(k, v, v > 0);
    bad('gaussian.sigmaXY', this.gamma, this.gamma >= 0.25);
    bad('cellScale', this.cellScale, this.cellScale > 0 && this.cellScale <= 1.5);
  }

  /**
   * Refine class scores [1,C,H,W] (probabilities, or logits with `{ logits: true }`) with the image
   * [1,3,H,W] (0..255; f32, f16 or integer) or host RGB(A) bytes. Records the dispatches (the caller
   * submits, or reads the outputs); the caller releases the outputs (`rt.release`).
   */
  run(scores: CrfTensor, image: CrfTensor | HostImage, opt: { logits?: boolean } = {}): CrfResult {
    const rt = this.rt;
    const x = gpuOf(scores);
    const [C, H, W] = this.checkScores(x);
    const N = H * W;
    if (this.iterations > 0) classChunk(rt, C, this.gridShape(H, W), this.opts.maxGridBytes);
    const { img, owned } = this.imageTensor(image, H, W);
    const unary = rt.alloc([C, N]);
    let q = rt.alloc([1, C, H, W]);
    const labels = rt.alloc([1, H, W], 'i32');
    rt.dispatch({
      name: `crf.unary ${C}x${H}x${W}`,
      shader: 'crf/unary.wgsl',
      defines: { T: x.dtype },
      overrides: { WG },
      uniforms: { n: N, c: C, logits: opt.logits ? 1 : 0, eps: this.eps },
      buffers: { x: x.buffer, unary: unary.buffer, q: q.buffer },
      workgroups: linearGrid(N, WG),
    });
    const mg = rt.alloc([C, N]),
      mb = rt.alloc([C, N]),
      tmp = rt.alloc([C, N]);
    const grid = this.iterations > 0 ? this.grid(img, H, W) : null;
    for (let it = 0; it < this.iterations; it++) {
      this.gaussian(q, tmp, mg, C, H, W);
      grid!.filter(q, mb);
      const next = rt.alloc([1, C, H, W]);
      rt.dispatch({
        name: `crf.update ${C}x${H}x${W}`,
        shader: 'crf/update.wgsl',
        overrides: { WG },
        uniforms: { n: N, c: C, w_gauss: this.w2, w_bilat: this.w1 },
        buffers: {
          unary: unary.buffer,
          q: q.buffer,
          mg: mg.buffer,
          mb: mb.buffer,
          qout: next.buffer,
          labels: labels.buffer,
        },
        workgroups: linearGrid(N, WG),
      });
      rt.release(q);
      q = next;
    }
    if (this.iterations === 0) this.argmax(q, labels, unary, C, N);
    grid?.dispose();
    rt.release(unary, mg, mb, tmp, ...owned);
    return { probs: q, labels };
  }

  /** run() on a Session output, logits by default (DeepLab's `out`); the results stay on the GPU. */
  refine(output: Tensor, image: CrfTensor | HostImage, opt: { logits?: boolean } = { logits: true }): CrfResult {
    return this.run(output, image, opt);
  }

  /**
   * The two filtered messages sum_{j != i} k_m(f_i, f_j) q_j(l) of one mean-field step for q [1,C,H,W]
   * (exposed to measure the approximation): `gaussian` is exact, `bilateral` the grid's.
   */
  filter(q: GpuTensor, image: CrfTensor | HostImage): { gaussian: GpuTensor; bilateral: GpuTensor } {
    const [C, H, W] = this.checkScores(q);
    classChunk(this.rt, C, this.gridShape(H, W), this.opts.maxGridBytes);
    const { img, owned } = this.imageTensor(image, H, W);
    const mg = this.rt.alloc([1, C, H, W]),
      mb = this.rt.alloc([1, C, H, W]),
      tmp = this.rt.alloc([C, H * W]);
    this.gaussian(q, tmp, mg, C, H, W);
    const grid = this.grid(img, H, W);
    grid.filter(q, mb);
    grid.dispose();
    this.rt.release(tmp, ...owned);
    return { gaussian: mg, bilateral: mb }; // include the pixel itself: subtract q for j != i
  }

  private checkScores(x: GpuTensor): [number, number, number] {
    if (x.shape.length !== 4 || x.shape[0] !== 1 || x.dtype === 'i32' || x.dtype === 'u32') {
      throw new WgsegError(
        'BAD_SHAPE',
        `DenseCRF: scores must be float [1,C,H,W], got ${x.dtype} [${x.shape.join(',')}]`,
      );
    }
    const [, C, H, W] = x.shape;
    if (C < 1 || H < 1 || W < 1) throw new WgsegError('BAD_SHAPE', `DenseCRF: empty scores [${x.shape.join(',')}]`);
    return [C, H, W];
  }

  private imageTensor(image: CrfTensor | HostImage, H: number, W: number): { img: GpuTensor; owned: GpuTensor[] } {
    if ('data' in image) {
      const ch = image.channels ?? 4;
      if (image.width !== W || image.height !== H || image.data.length !== W * H * ch) {
        throw new WgsegError(
          'BAD_SHAPE',
          `DenseCRF: image ${image.width}x${image.height}x${ch} (${image.data.length} bytes) for ${W}x${H} scores`,
        );
      }
      const planar = new Float32Array(3 * H * W);
      for (let i = 0; i < H * W; i++) for (let k = 0; k < 3; k++) planar[k * H * W + i] = image.data[i * ch + k];
      const img = this.rt.upload(planar, [1, 3, H, W]);
      return { img, owned: [img] };
    }
    const img = gpuOf(image);
    const [n, c, h, w] = img.shape;
    if (img.shape.length !== 4 || n !== 1 || c !== 3 || h !== H || w !== W) {
      throw new WgsegError('BAD_SHAPE', `DenseCRF: image must be [1,3,${H},${W}], got [${img.shape.join(',')}]`);
    }
    return { img, owned: [] };
  }

  /** mg = exact separable position-kernel filter of q (including j = i). */
  private gaussian(q: GpuTensor, tmp: GpuTensor, mg: GpuTensor, C: number, H: number, W: number) {
    const total = C * H * W;
    const radius = Math.ceil(TRUNC * this.gamma);
    const inv2s2 = 1 / (2 * this.gamma * this.gamma);
    for (const [axis, src, dst] of [
      [0, q, tmp],
      [1, tmp, mg],
    ] as const) {
      this.rt.dispatch({
        name: `crf.gauss${axis} ${C}x${H}x${W}`,
        shader: 'crf/gauss.wgsl',
        overrides: { WG },
        uniforms: { w: W, h: H, total, axis, radius, inv2s2 },
        buffers: { x: src.buffer, y: dst.buffer },
        workgroups: linearGrid(total, WG),
      });
    }
  }

  private grid(img: GpuTensor, H: number, W: number) {
    return new BilateralGrid(this.rt, img, H, W, {
      alpha: this.alpha,
      beta: this.beta,
      cellScale: this.cellScale,
      splat: this.splat,
      maxGridBytes: this.opts.maxGridBytes,
    });
  }

  /** Bilateral grid geometry for an H x W image (cells per dimension x, y, r, g, b). */
  gridShape(H: number, W: number) {
    return gridShape(H, W, this);
  }

  /** labels of the unrefined estimate (iterations: 0): one update with zero weights. */
  private argmax(q: GpuTensor, labels: GpuTensor, unary: GpuTensor, C: number, N: number) {
    const out = this.rt.alloc([C, N]);
    this.rt.dispatch({
      name: `crf.argmax ${C}x${N}`,
      shader: 'crf/update.wgsl',
      overrides: { WG },
      uniforms: { n: N, c: C, w_gauss: 0, w_bilat: 0 },
      buffers: {
        unary: unary.buffer,
        q: q.buffer,
        mg: q.buffer,
        mb: q.buffer,
        qout: out.buffer,
        labels: labels.buffer,
      },
      workgroups: linearGrid(N, WG),
    });
    this.rt.release(out);
  }
}
