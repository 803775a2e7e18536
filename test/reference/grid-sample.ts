// f64 references for GridSample and AffineGrid, written from the ONNX operator definitions and
// PyTorch's grid_sampler_2d (ATen GridSampler.h): unnormalize, reflect/clip, then interpolate.
export interface GridSampleOpts {
  mode: 'nearest' | 'linear' | 'cubic';
  padding: 'zeros' | 'border' | 'reflection';
  align: boolean;
}

/** nearbyint: round half to even. */
export function rint(v: number): number {
  const f = Math.floor(v),
    d = v - f;
  if (d !== 0.5) return Math.round(v);
  return f % 2 === 0 ? f : f + 1;
}

function unnormalize(g: number, size: number, align: boolean): number {
  return align ? ((g + 1) / 2) * (size - 1) : ((g + 1) * size - 1) / 2;
}

function reflectCoordinates(v: number, twiceLow: number, twiceHigh: number): number {
  if (twiceLow === twiceHigh) return 0;
  const min = twiceLow / 2,
    span = (twiceHigh - twiceLow) / 2;
  const a = Math.abs(v - min);
  const extra = a % span,
    flips = Math.floor(a / span);
  return flips % 2 === 0 ? extra + min : span - extra + min;
}

function computeCoordinates(v: number, size: number, o: GridSampleOpts): number {
  if (o.padding === 'border') return Math.min(Math.max(v, 0), size - 1);
  if (o.padding === 'reflection') {
    const r = o.align ? reflectCoordinates(v, 0, 2 * (size - 1)) : reflectCoordinates(v, -1, 2 * size - 1);
    return Math.min(Math.max(r, 0), size - 1);
  }
  return v;
}

function cubicCoeffs(t: number, A = -0.75): number[] {
  const c1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const c2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)];
}

/** X [N,C,H,W], grid [N,Ho,Wo,2] -> [N,C,Ho,Wo] */
export function gridSampleRef(
  x: ArrayLike<number>,
  xs: number[],
  grid: ArrayLike<number>,
  gs: number[],
  o: GridSampleOpts,
): Float64Array {
  const [N, C, H, W] = xs,
    [, Ho, Wo] = gs;
  const out = new Float64Array(N * C * Ho * Wo);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const at = (yy: number, xx: number) =>
        yy >= 0 && yy < H && xx >= 0 && xx < W ? x[((n * C + c) * H + yy) * W + xx] : 0;
      const bounded = (yy: number, xx: number) =>
        at(Math.trunc(computeCoordinates(yy, H, o)), Math.trunc(computeCoordinates(xx, W, o)));
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++) {
          const g = ((n * Ho + oy) * Wo + ox) * 2;
          let ix = unnormalize(grid[g], W, o.align),
            iy = unnormalize(grid[g + 1], H, o.align);
          let v: number;
          if (o.mode === 'cubic') {
            const fx = Math.floor(ix),
              fy = Math.floor(iy);
            const cx = cubicCoeffs(ix - fx),
              cy = cubicCoeffs(iy - fy);
            v = 0;
            for (let j = 0; j < 4; j++) {
              let row = 0;
              for (let i = 0; i < 4; i++) row += cx[i] * bounded(fy - 1 + j, fx - 1 + i);
              v += cy[j] * row;
            }
          } else if (o.mode === 'linear') {
            ix = computeCoordinates(ix, W, o);
            iy = computeCoordinates(iy, H, o);
            const x0 = Math.floor(ix),
              y0 = Math.floor(iy),
              x1 = x0 + 1,
              y1 = y0 + 1;
            const nw = (x1 - ix) * (y1 - iy),
              ne = (ix - x0) * (y1 - iy),
              sw = (x1 - ix) * (iy - y0),
              se = (ix - x0) * (iy - y0);
            v = nw * at(y0, x0) + ne * at(y0, x1) + sw * at(y1, x0) + se * at(y1, x1);
          } else {
            // ONNX: round to nearest even first, then pad the integer location
            v = bounded(rint(iy), rint(ix));
          }
          out[((n * C + c) * Ho + oy) * Wo + ox] = v;
        }
      }
    }
  }
  return out;
}

/** theta [N,2,3], size [N,C,H,W] -> grid [N,H,W,2] */
export function affineGridRef(theta: ArrayLike<number>, size: number[], align: boolean): Float64Array {
  const [N, , H, W] = size;
  const lin = (i: number, d: number) => (d === 1 ? 0 : align ? -1 + (2 / (d - 1)) * i : -1 + 1 / d + (2 / d) * i);
  const out = new Float64Array(N * H * W * 2);
  for (let n = 0; n < N; n++) {
    const t = Array.from({ length: 6 }, (_, k) => theta[n * 6 + k]);
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const bx = lin(w, W),
          by = lin(h, H),
          o = ((n * H + h) * W + w) * 2;
        out[o] = t[0] * bx + t[1] * by + t[2];
        out[o + 1] = t[3] * bx + t[4] * by + t[5];
      }
    }
  }
  return out;
}
