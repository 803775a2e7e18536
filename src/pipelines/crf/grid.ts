import { WgsegError } from '../../core/errors';
import type { Runtime } from '../../gpu/runtime';
import type { GpuTensor } from '../../core/op';
import { linearGrid } from '../../kernels/dispatch';

/**
 * The bilateral kernel sum_j exp(-|p_i - p_j|^2 / 2 alpha^2 - |I_i - I_j|^2 / 2 beta^2) q_j on a
 * dense 5-D bilateral grid (x / alpha, y / alpha, r / beta, g / beta, b / beta, cells of
 * `cellScale` sigmas): splat (nearest cell, or multilinear over the 32 corners) in fixed-point
 * atomics, a separable Gaussian blur per axis whose variance makes splat + blur + slice add up to
 * the kernel's, a multilinear slice. The nearest splat gathers each cell's pixels (a counting sort
 * by cell, once per image); cells no pixel can reach are skipped by the blur (occupancy masks, also
 * once per image). Approximate: its error vs the exact filter is measured in test/pipelines/crf.test.ts.
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
    let s = 0,
      m2 = 0;
    for (let d = -r; d <= r; d++) (s += Math.exp(-d * d * inv)), (m2 += d * d * Math.exp(-d * d * inv));
    return m2 / s;
  };
  let lo = 1e-6,
    hi = 50;
  for (let k = 0; k < 100; k++) {
    const mid = Math.sqrt(lo * hi);
    if (variance(mid) > v) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}

/** Grid geometry for an H x W image: cells per dimension (x, y, r, g, b) and the fixed-point splat scale. */
export function gridShape(H: number, W: number, o: Pick<GridOptions, 'alpha' | 'beta' | 'cellScale'>) {
  const cxy = o.alpha * o.cellScale,
    crgb = o.beta * o.cellScale;
  const dims = [
    Math.floor((W - 1) / cxy) + 2,
    Math.floor((H - 1) / cxy) + 2,
    ...Array<number>(3).fill(Math.floor(255 / crgb) + 2),
  ];
  const cells = dims.reduce((a, b) => a * b, 1);
  // a cell takes at most (ceil(cell) + 1)^2 pixels, each adding <= 1: the i32 sums cannot overflow
  const maxPerCell = Math.min(H * W, (Math.ceil(cxy) + 1) ** 2);
  return {
    dims,
    cells,
    invXY: 1 / cxy,
    invRGB: 1 / crgb,
    scale: Math.min(2 ** 24, Math.floor((2 ** 31 - 1) / maxPerCell)),
  };
}

/** Classes per grid pass so that one grid buffer fits the binding limit (and maxGridBytes). */
export function classChunk(
  rt: Runtime,
  C: number,
  g: { dims: number[]; cells: number },
  maxGridBytes = Infinity,
): number {
  const limit = Math.min(maxGridBytes, rt.device.limits.maxStorageBufferBindingSize);
  const cc = Math.min(C, Math.floor(limit / (g.cells * 4)));
  if (cc < 1)
    throw new WgsegError(
      'BAD_SHAPE',
      `DenseCRF: bilateral grid of ${g.dims.join('x')} cells exceeds ${limit} bytes; raise the sigmas or cellScale`,
    );
  return cc;
}

/** One image's grid: geometry and occupancy masks; `filter` runs per mean-field step. */
export class BilateralGrid {
  readonly shape: ReturnType<typeof gridShape>;
  private masks: GpuTensor[] = [];
  /** nearest splat: the pixels of cell c are list[offsets[c] .. offsets[c + 1]) */
  private offsets: GpuTensor | null = null;
  private list: GpuTensor | null = null;
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
    const I = img.dtype,
      N = H * W;
    this.masks = Array.from({ length: 6 }, () => rt.alloc([g.cells], 'u32'));
    const uni = (extra: object) => ({
      ...this.geom,
      cells: g.cells,
      linear: o.splat === 'linear' ? 1 : 0,
      len: 1,
      stride: 1,
      radius: 0,
      ...extra,
    });
    const occ = (entry: string, name: string, threads: number, src: GpuTensor, mask: GpuTensor, extra = {}) =>
      rt.dispatch({
        shader: 'crf/occupancy.wgsl',
        defines: { I },
        overrides: { WG },
        entry,
        name,
        uniforms: uni(extra),
        buffers: { img: img.buffer, src: src.buffer, mask: mask.buffer },
        workgroups: linearGrid(threads, WG),
      });
    if (o.splat === 'nearest') {
      // counting sort of the pixels by cell; masks[0] = the counts
      this.offsets = rt.alloc([g.cells + 1], 'u32');
      this.list = rt.alloc([N], 'u32');
      const cellOf = rt.alloc([N], 'u32'),
        cursor = rt.alloc([g.cells], 'u32');
      const sort = (entry: string, threads: [number, number]) =>
        rt.dispatch({
          shader: 'crf/cells.wgsl',
          defines: { I },
          overrides: { WG },
          entry,
          name: `crf.cells.${entry} ${H}x${W}`,
          uniforms: { ...this.geom, cells: g.cells },
          buffers: {
            img: img.buffer,
            counts: this.masks[0].buffer,
            cell_of: cellOf.buffer,
            offsets: this.offsets!.buffer,
            cursor: cursor.buffer,
            list: this.list!.buffer,
          },
          workgroups: threads,
        });
      sort('clear', linearGrid(g.cells, WG));
      sort('count', linearGrid(N, WG));
      sort('scan', [1, 1]);
      sort('fill', linearGrid(N, WG));
      rt.release(cellOf, cursor);
    } else {
      occ('clear', `crf.mask.clear ${g.cells}`, g.cells, this.masks[1], this.masks[0]);
      occ('mark', `crf.mask.mark ${H}x${W}`, N, this.masks[1], this.masks[0]);
    }
    for (let axis = 0; axis < 5; axis++) {
      occ('dilate', `crf.mask.dilate${axis} ${g.cells}`, g.cells, this.masks[axis], this.masks[axis + 1], {
        len: g.dims[axis],
        stride: this.strides[axis],
        radius: this.radius,
      });
    }
  }

  /** out[c] = bilateral filter of q[c] (including j = i) for every class of q [1,C,H,W], in class chunks that fit. */
  filter(q: GpuTensor, out: GpuTensor): void {
    const { rt, H, W, o } = this,
      g = this.shape,
      C = q.shape[1],
      N = H * W;
    const cc = classChunk(rt, C, g, o.maxGridBytes);
    // exp(-|d|^2 / 2) = (2 pi)^(5/2) * a unit-mass Gaussian; in cells of cellScale sigmas: / cellScale^5
    const norm = (2 * Math.PI) ** 2.5 / o.cellScale ** 5;
    const a = rt.alloc([g.cells * cc]),
      b = rt.alloc([g.cells * cc]);
    const I = this.img.dtype;
    for (let c0 = 0; c0 < C; c0 += cc) {
      const k = Math.min(cc, C - c0);
      const chunk = { ...this.geom, c0, cc: k };
      if (this.offsets && this.list) {
        rt.dispatch({
          name: `crf.gather ${g.cells}x${k}`,
          shader: 'crf/gather.wgsl',
          overrides: { WG },
          uniforms: { n: N, c0, cc: k, cells: g.cells, scale: g.scale },
          buffers: { offsets: this.offsets.buffer, list: this.list.buffer, q: q.buffer, grid: a.buffer },
          workgroups: linearGrid(g.cells * k, WG),
        });
      } else {
        const splat = {
          shader: 'crf/splat.wgsl',
          defines: { I },
          overrides: { WG },
          uniforms: { ...chunk, cells: g.cells, scale: g.scale },
          buffers: { img: this.img.buffer, q: q.buffer, grid: a.buffer },
        };
        rt.dispatch({
          ...splat,
          name: `crf.clear ${g.cells}x${k}`,
          entry: 'clear',
          workgroups: linearGrid(g.cells * k, WG),
        });
        rt.dispatch({ ...splat, name: `crf.splat ${H}x${W}x${k}`, entry: 'linear', workgroups: linearGrid(N, WG) });
      }
      let src = a,
        dst = b;
      for (let axis = 0; axis < 5; axis++) {
        rt.dispatch({
          name: `crf.blur${axis} ${g.dims.join('x')}x${k}`,
          shader: 'crf/blur.wgsl',
          defines: { S: axis === 0 ? 'i32' : 'f32' },
          overrides: { WG },
          uniforms: {
            total: g.cells * k,
            cc: k,
            len: g.dims[axis],
            stride: this.strides[axis],
            radius: this.radius,
            inv2s2: this.inv2s2,
            in_scale: (axis === 0 ? 1 / g.scale : 1) / this.wsum,
          },
          buffers: { src: src.buffer, dst: dst.buffer, mask: this.masks[axis + 1].buffer },
          workgroups: linearGrid(g.cells * k, WG),
        });
        [src, dst] = [dst, src];
      }
      rt.dispatch({
        name: `crf.slice ${H}x${W}x${k}`,
        shader: 'crf/slice.wgsl',
        defines: { I },
        overrides: { WG },
        uniforms: { ...chunk, scale: norm },
        buffers: { img: this.img.buffer, grid: src.buffer, out: out.buffer },
        workgroups: linearGrid(N, WG),
      });
    }
    rt.release(a, b);
  }

  dispose(): void {
    this.rt.release(...this.masks, ...[this.offsets, this.list].filter((t) => t !== null));
    this.masks = [];
    this.offsets = this.list = null;
  }
}
