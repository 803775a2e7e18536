// f64 reference for Resize (ONNX opset 11-19) and Upsample, written from the ONNX operator
// definition in the structure of onnx/reference/ops/op_resize.py: every output coordinate is
// interpolated one dimension at a time; the n neighbours of a source position come from the
// edge-padded input (nearest first, ties to the smaller index) and the coefficients from the ratio
// in (0, 1].
export interface ResizeOpts {
  mode?: 'nearest' | 'linear' | 'cubic';
  coord?: string;
  nearest?: string;
  a?: number;
  exclude?: boolean;
  antialias?: boolean;
  extrap?: number;
  scales?: number[];
  sizes?: number[];
  roi?: number[];
  axes?: number[];
  keep?: 'stretch' | 'not_larger' | 'not_smaller';
}

type Coeffs = (ratio: number, scale: number) => number[];

function nearestCoeffs(mode: string): Coeffs {
  return (ratio) => {
    if (Number.isInteger(ratio)) return [0, 1];
    if (mode === 'round_prefer_floor') return [ratio <= 0.5 ? 1 : 0, ratio > 0.5 ? 1 : 0];
    if (mode === 'round_prefer_ceil') return [ratio < 0.5 ? 1 : 0, ratio >= 0.5 ? 1 : 0];
    return mode === 'floor' ? [1, 0] : [0, 1];
  };
}

function keys(x: number, A: number): number {
  x = Math.abs(x);
  if (x <= 1) return (A + 2) * x ** 3 - (A + 3) * x ** 2 + 1;
  if (x < 2) return A * x ** 3 - 5 * A * x ** 2 + 8 * A * x - 4 * A;
  return 0;
}

function cubicCoeffs(A: number, antialias: boolean): Coeffs {
  if (!antialias) return (r) => [keys(r + 1, A), keys(r, A), keys(1 - r, A), keys(2 - r, A)];
  return (ratio, scale) => {
    const s = Math.min(scale, 1);
    const iStart = Math.floor(-2 / s) + 1,
      iEnd = 2 - iStart;
    const c: number[] = [];
    for (let i = iStart; i < iEnd; i++) c.push(keys(s * (i - ratio), A));
    const sum = c.reduce((p, q) => p + q, 0);
    return c.map((v) => v / sum);
  };
}

function linearCoeffs(antialias: boolean): Coeffs {
  if (!antialias) return (r) => [1 - r, r];
  return (ratio, scale) => {
    const s = Math.min(scale, 1);
    const start = Math.floor(-1 / s) + 1,
      footprint = 2 - 2 * start;
    const c = Array.from({ length: footprint }, (_, i) =>
      Math.min(Math.max(1 - Math.abs((start + i - ratio) * s), 0), 1),
    );
    const sum = c.reduce((p, q) => p + q, 0);
    return c.map((v) => v / sum);
  };
}

/** the n indices of the edge-padded array nearest to x (ties: smaller), in unpadded coordinates */
function neighbours(x: number, n: number, len: number): number[] {
  const pad = Math.ceil(n / 2),
    xp = x + pad;
  const all = Array.from({ length: len + 2 * pad }, (_, i) => i);
  all.sort((p, q) => Math.abs(xp - p) - Math.abs(xp - q) || p - q);
  return all
    .slice(0, n)
    .sort((p, q) => p - q)
    .map((i) => i - pad);
}

interface Axis {
  len: number;
  scale: number;
  outInt: number;
  roi: [number, number];
}

function interp1d(get: (i: number) => number, ax: Axis, x: number, coeffs: Coeffs, o: ResizeOpts): number {
  const len = ax.len,
    outW = ax.scale * len,
    coord = o.coord ?? 'half_pixel';
  let xo: number;
  if (coord === 'align_corners') xo = outW === 1 ? 0 : (x * (len - 1)) / (outW - 1);
  else if (coord === 'asymmetric') xo = x / ax.scale;
  else if (coord === 'tf_crop_and_resize') {
    const [r0, r1] = ax.roi;
    xo = outW === 1 ? ((r1 - r0) * (len - 1)) / 2 : (x * (r1 - r0) * (len - 1)) / (outW - 1);
    xo += r0 * (len - 1);
    if (xo < 0 || xo > len - 1) return o.extrap ?? 0;
  } else if (coord === 'pytorch_half_pixel') xo = outW === 1 ? -0.5 : (x + 0.5) / ax.scale - 0.5;
  else if (coord === 'half_pixel_symmetric') xo = (len / 2) * (1 - ax.outInt / outW) + (x + 0.5) / ax.scale - 0.5;
  else xo = (x + 0.5) / ax.scale - 0.5;
  const ratio = Number.isInteger(xo) ? 1 : xo - Math.floor(xo);
  const c = coeffs(ratio, ax.scale);
  const idx = neighbours(xo, c.length, len);
  if (o.exclude) {
    idx.forEach((i, k) => {
      if (i < 0 || i >= len) c[k] = 0;
    });
    const sum = c.reduce((p, q) => p + q, 0);
    for (let k = 0; k < c.length; k++) c[k] /= sum;
  }
  let v = 0;
  idx.forEach((i, k) => {
    if (c[k] !== 0) v += c[k] * get(Math.min(Math.max(i, 0), len - 1));
  });
  return v;
}

/** Output shape and per-dim scales, as ONNX computes them (sizes: out/in, keep_aspect_ratio_policy). */
export function resizeShape(shape: number[], o: ResizeOpts): { out: number[]; scales: number[] } {
  const r = shape.length,
    axes = o.axes?.map((a) => (a < 0 ? a + r : a)) ?? shape.map((_, i) => i);
  if (o.scales) {
    const scales = shape.map(() => 1);
    axes.forEach((d, i) => (scales[d] = o.scales![i]));
    return { scales, out: shape.map((d, i) => Math.floor(scales[i] * d)) };
  }
  let out = [...shape];
  axes.forEach((d, i) => (out[d] = o.sizes![i]));
  let scales = out.map((v, i) => v / shape[i]);
  if (o.keep && o.keep !== 'stretch') {
    const sel = axes.map((d) => scales[d]);
    const s = o.keep === 'not_larger' ? Math.min(...sel) : Math.max(...sel);
    scales = shape.map((_, i) => (axes.includes(i) ? s : 1));
    out = shape.map((d, i) => (axes.includes(i) ? Math.trunc(s * d + 0.5) : d));
  }
  return { out, scales };
}

export function resizeRef(
  x: ArrayLike<number>,
  shape: number[],
  o: ResizeOpts,
): { data: Float64Array; shape: number[] } {
  const r = shape.length,
    { out, scales } = resizeShape(shape, o);
  const axes = o.axes?.map((a) => (a < 0 ? a + r : a)) ?? shape.map((_, i) => i);
  const roi: [number, number][] = shape.map(() => [0, 1]);
  if (o.roi) axes.forEach((d, i) => (roi[d] = [o.roi![i], o.roi![axes.length + i]]));
  const mode = o.mode ?? 'nearest';
  const coeffs =
    mode === 'nearest'
      ? nearestCoeffs(o.nearest ?? 'round_prefer_floor')
      : mode === 'cubic'
        ? cubicCoeffs(o.a ?? -0.75, !!o.antialias)
        : linearCoeffs(!!o.antialias);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
  const ax: Axis[] = shape.map((len, d) => ({ len, scale: scales[d], outInt: out[d], roi: roi[d] }));
  // value at output coordinate `oc` from dims d.. with the input offset fixed for dims < d
  const rec = (d: number, offset: number, oc: number[]): number =>
    interp1d((i) => (d === r - 1 ? x[offset + i] : rec(d + 1, offset + i * strides[d], oc)), ax[d], oc[d], coeffs, o);
  const total = out.reduce((p, q) => p * q, 1);
  const data = new Float64Array(total);
  for (let flat = 0; flat < total; flat++) {
    const oc: number[] = [];
    for (let d = r - 1, t = flat; d >= 0; d--) (oc[d] = t % out[d]), (t = Math.floor(t / out[d]));
    data[flat] = rec(0, 0, oc);
  }
  return { data, shape: out };
}
