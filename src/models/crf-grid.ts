import { WgsegError } from '../errors';
import type { Runtime } from '../gpu/runtime';
import type { GpuTensor } from '../gpu/tensor';
import { linearGrid } from '../kernels/dispatch';

/**
 * The bilateral kernel sum_j exp(-|p_i - p_j|^2 / 2 alpha^2 - |I_i - I_j|^2 / 2 beta^2) q_j on a
 * dense 5-D bilateral grid (x / alpha, y / alpha, r / beta, g / beta, b / beta, cells of
 * `cellScale` sigmas): splat (nearest cell, or multilinear over the 32 corners) in fixed-point
 * atomics, a separable Gaussian blur per axis whose variance makes splat + blur + slice add up to
 * the kernel's, a multilinear slice. Cells no pixel can reach are skipped (occupancy masks, built
 * once per image). Approximate: its error vs the exact filter is measured in test/models/crf.test.ts.
 */

export interface GridOptions {
  alpha: number;
  beta: number;
  cellScale: number;
  splat: 'nearest' | 'linear';
  maxGridBytes?: number;
}

const WG = 256;

/** inv2s2 for the radius-r sampled Gaussian whose normalised weights have variance v (bisection). */
export function discreteGaussian(v: number, r: number): number {
  const variance = (inv: number) => {
    let s = 0, m2 = 0;
    for (let d = -r; d <= r; d++) (s += Math.exp(-d * d * inv)), (m2 += d * d * Math.exp(-d * d * inv));
    return m2 / s;
  };
  let lo = 1e-6, hi = 50;
  for (let k = 0; k < 100; k++) {
    const mid = Math.sqrt(lo * hi);
    if (variance(mid) > v) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}

/** Grid geometry for an H x W image: cells per dimension (x, y, r, g, b) and the fixed-point splat scale. */
export function gridShape(H: number, W: number, o: Pick<GridOptions, 'alpha' | 'beta' | 'cellScale'>) {
  const cxy = o.alpha * o.cellScale, crgb = o.beta * o.cellScale;
  const dims = [Math.floor((W - 1) / cxy) + 2, Math.floor((H - 1) / cxy) + 2, ...Array<number>(3).fill(Math.floor(255 / crgb) + 2)];
  const cells = dims.reduce((a, b) => a * b, 1);
  // a cell takes at most (ceil(cell) + 1)^2 pixels, each adding <= 1: the i32 sums cannot overflow
  const maxPerCell = Math.min(H * W, (Math.ceil(cxy) + 1) ** 2);
  return { dims, cells, invXY: 1 / cxy, invRGB: 1 / crgb, scale: Math.min(2 ** 24, Math.floor((2 ** 31 - 1) / maxPerCell)) };
}

/** Classes per grid pass so that one grid buffer fits the binding limit (and maxGridBytes). */
export function classChunk(rt: Runtime, C: number, g: { dims: number[]; cells: number }, maxGridBytes = Infinity): number {
  const limit = Math.min(maxGridBytes, rt.device.limits.maxStorageBufferBindingSize);
  const cc = Math.min(C, Math.floor(limit / (g.cells * 4)));
  if (cc < 1) throw new WgsegError('BAD_SHAPE', `DenseCRF: bilateral grid of ${g.dims.join('x')} cells exceeds ${limit} bytes; raise the sigmas or cellScale`);
  return cc;
}

/** One image's grid: geometry and occupancy masks; `filter` runs per mean-field step. */
export class BilateralGrid {
  readonly shape: ReturnType<typeof gridShape>;
  private masks: GpuTensor[] = [];
  private readonly radius: number;
  private readonly inv2s2: number;
  private readonly wsum: number;
  private readonly strides: number[];
  private readonly geom: Record<string, number | number[]>;

  constructor(
    private readonly rt: Runtime,
    private readonly img: GpuTensor,
    private readonly H: number,
    private readonly W: number,
    private readonly o: GridOptions,
  ) {
    const g = (this.shape = gridShape(H, W, o));
    // splat adds variance 1/12 (nearest) or 1/6 (linear) per dimension, the slice 1/6: the blur makes up the rest
    const s = 1 / o.cellScale;
    this.radius = Math.ceil(3 * s);
    this.inv2s2 = discreteGaussian(s * s - (o.splat === 'linear' ? 1 / 6 : 1 / 12) - 1 / 6, this.radius);
    this.wsum = 0;
    for (let d = -this.radius; d <= this.radius; d++) this.wsum += Math.exp(-d * d * this.inv2s2);
    const [dx, dy, dr, dg, db] = g.dims;
    this.strides = [1, dx, dx * dy, dx * dy * dr, dx * dy * dr * dg];
    this.geom = { n: H * W, w: W, dims: [dx, dy, dr, dg], dim_b: db, inv_xy: g.invXY, inv_rgb: g.invRGB };
    // masks[0]: cells splatted to; masks[k + 1]: cells the blur along axis k can reach
    const I = img.dtype;
    const args = { shader: 'crf/occupancy.wgsl', defines: { I }, overrides: { WG } };
    const uni = (extra: object) => ({ ...this.geom, cells: g.cells, linear: o.splat === 'linear' ? 1 : 0, len: 1, stride: 1, radius: 0, ...extra });
    this.masks = Array.from({ length: 6 }, () => rt.alloc([g.cells], 'u32'));
    rt.dispatch({ ...args, name: `crf.mask.clear ${g.cells}`, entry: 'clear', uniforms: uni({}), buffers: { img: img.buffer, src: this.masks[1].buffer, mask: this.masks[0].buffer }, workgroups: linearGrid(g.cells, WG) });
    rt.dispatch({ ...args, name: `crf.mask.mark ${H}x${W}`, entry: 'mark', uniforms: uni({}), buffers: { img: img.buffer, src: this.masks[1].buffer, mask: this.masks[0].buffer }, workgroups: linearGrid(H * W, WG) });
    for (let axis = 0; axis < 5; axis++) {
      rt.dispatch({
        ...args, name: `crf.mask.dilate${axis} ${g.cells}`, entry: 'dilate', uniforms: uni({ len: g.dims[axis], stride: this.strides[axis], radius: this.radius }),
        buffers: { img: img.buffer, src: this.masks[axis].buffer, mask: this.masks[axis + 1].buffer }, workgroups: linearGrid(g.cells, WG),
      });
    }
  }

  /** out[c] = bilateral filter of q[c] (including j = i) for every class of q [1,C,H,W], in class chunks that fit. */
  filter(q: GpuTensor, out: GpuTensor): void {
    const { rt, H, W, o } = this, g = this.shape, C = q.shape[1], N = H * W;
    const cc = classChunk(rt, C, g, o.maxGridBytes);
    // exp(-|d|^2 / 2) = (2 pi)^(5/2) * a unit-mass Gaussian; in cells of cellScale sigmas: / cellScale^5
    const norm = (2 * Math.PI) ** 2.5 / o.cellScale ** 5;
    const a = rt.alloc([g.cells * cc]), b = rt.alloc([g.cells * cc]);
    const I = this.img.dtype;
    for (let c0 = 0; c0 < C; c0 += cc) {
      const k = Math.min(cc, C - c0);
      const chunk = { ...this.geom, c0, cc: k };
      const splat = { shader: 'crf/splat.wgsl', defines: { I }, overrides: { WG }, uniforms: { ...chunk, cells: g.cells, scale: g.scale }, buffers: { img: this.img.buffer, q: q.buffer, grid: a.buffer } };
      rt.dispatch({ ...splat, name: `crf.clear ${g.cells}x${k}`, entry: 'clear', workgroups: linearGrid(g.cells * k, WG) });
      rt.dispatch({ ...splat, name: `crf.splat ${H}x${W}x${k}`, entry: o.splat === 'linear' ? 'linear' : 'main', workgroups: linearGrid(N, WG) });
      let src = a, dst = b;
      for (let axis = 0; axis < 5; axis++) {
        rt.dispatch({
          name: `crf.blur${axis} ${g.dims.join('x')}x${k}`, shader: 'crf/blur.wgsl', defines: { S: axis === 0 ? 'i32' : 'f32' }, overrides: { WG },
          uniforms: { total: g.cells * k, cc: k, len: g.dims[axis], stride: this.strides[axis], radius: this.radius, inv2s2: this.inv2s2, in_scale: (axis === 0 ? 1 / g.scale : 1) / this.wsum },
          buffers: { src: src.buffer, dst: dst.buffer, mask: this.masks[axis + 1].buffer }, workgroups: linearGrid(g.cells * k, WG),
        });
        [src, dst] = [dst, src];
      }
      rt.dispatch({
        name: `crf.slice ${H}x${W}x${k}`, shader: 'crf/slice.wgsl', defines: { I }, overrides: { WG },
        uniforms: { ...chunk, scale: norm }, buffers: { img: this.img.buffer, grid: src.buffer, out: out.buffer }, workgroups: linearGrid(N, WG),
      });
    }
    rt.release(a, b);
  }

  dispose(): void {
    this.rt.release(...this.masks);
    this.masks = [];
  }
}
