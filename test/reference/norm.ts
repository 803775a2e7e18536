// f64 references for BatchNormalization (inference) and InstanceNormalization, from the ONNX definitions.

/** y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + B[c], X of shape [N, C, ...]. */
export function batchNormRef(
  x: ArrayLike<number>,
  shape: number[],
  scale: ArrayLike<number>,
  b: ArrayLike<number>,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  eps: number,
): number[] {
  const c = shape[1],
    inner = shape.slice(2).reduce((a, v) => a * v, 1);
  return Array.from(x, (v, i) => {
    const ch = Math.floor(i / inner) % c;
    return ((v - mean[ch]) / Math.sqrt(variance[ch] + eps)) * scale[ch] + b[ch];
  });
}

/** Per (n, c): y = scale[c] * (x - mean) / sqrt(var + eps) + B[c], mean/var (population) over the spatial dims. */
export function instanceNormRef(
  x: ArrayLike<number>,
  shape: number[],
  scale: ArrayLike<number>,
  b: ArrayLike<number>,
  eps: number,
): number[] {
  const [n, c] = shape,
    size = shape.slice(2).reduce((a, v) => a * v, 1);
  const y: number[] = [];
  for (let p = 0; p < n * c; p++) {
    const vals = Array.from({ length: size }, (_, i) => x[p * size + i]);
    const mean = vals.reduce((a, v) => a + v, 0) / size;
    const variance = vals.reduce((a, v) => a + (v - mean) ** 2, 0) / size;
    for (const v of vals) y.push((scale[p % c] * (v - mean)) / Math.sqrt(variance + eps) + b[p % c]);
  }
  return y;
}

/** training_mode=1: normalise with the batch mean/var (population, over N and spatial dims); running = input * momentum + batch * (1 - momentum). */
export function batchNormTrainRef(
  x: ArrayLike<number>,
  shape: number[],
  scale: ArrayLike<number>,
  b: ArrayLike<number>,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  eps: number,
  momentum: number,
) {
  const c = shape[1],
    inner = shape.slice(2).reduce((a, v) => a * v, 1);
  const groups = Array.from({ length: c }, () => [] as number[]);
  Array.from(x).forEach((v, i) => groups[Math.floor(i / inner) % c].push(v));
  const bm = groups.map((g) => g.reduce((a, v) => a + v, 0) / g.length);
  const bv = groups.map((g, k) => g.reduce((a, v) => a + (v - bm[k]) ** 2, 0) / g.length);
  return {
    y: batchNormRef(x, shape, scale, b, bm, bv, eps),
    runningMean: bm.map((m, k) => mean[k] * momentum + m * (1 - momentum)),
    runningVar: bv.map((v, k) => variance[k] * momentum + v * (1 - momentum)),
  };
}

/** Mean and population variance of one run of values, f64. */
function moments(vals: number[]): [number, number] {
  const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
  return [mean, vals.reduce((a, v) => a + (v - mean) ** 2, 0) / vals.length];
}

/** Right-aligned broadcast read of `t` (shape `ts`) at the coordinates `c` of a tensor of shape `shape`. */
function bcastAt(t: ArrayLike<number>, ts: number[], c: number[]): number {
  let off = 0;
  for (let d = 0; d < ts.length; d++) off = off * ts[d] + (ts[d] === 1 ? 0 : c[c.length - ts.length + d]);
  return t[off];
}

/**
 * LayerNormalization: per index of X's dims before `axis`, normalise over the dims from `axis` on;
 * Scale and B broadcast (numpy, right-aligned) to those dims. Also Mean and InvStdDev per group.
 */
export function layerNormRef(
  x: ArrayLike<number>,
  shape: number[],
  axis: number,
  scale: { data: ArrayLike<number>; shape: number[] },
  b: { data: ArrayLike<number>; shape: number[] } | undefined,
  eps: number,
): { y: number[]; mean: number[]; invStd: number[] } {
  const a = axis < 0 ? axis + shape.length : axis;
  const inner = shape.slice(a),
    size = inner.reduce((p, v) => p * v, 1),
    groups = x.length / size;
  const y: number[] = [],
    mean: number[] = [],
    invStd: number[] = [];
  for (let g = 0; g < groups; g++) {
    const vals = Array.from({ length: size }, (_, j) => x[g * size + j]);
    const [m, v] = moments(vals);
    const k = 1 / Math.sqrt(v + eps);
    mean.push(m), invStd.push(k);
    vals.forEach((val, j) => {
      const c: number[] = [];
      for (let d = inner.length - 1, r = j; d >= 0; d--) c.unshift(r % inner[d]), (r = Math.floor(r / inner[d]));
      y.push((val - m) * k * bcastAt(scale.data, scale.shape, c) + (b ? bcastAt(b.data, b.shape, c) : 0));
    });
  }
  return { y, mean, invStd };
}

/** GroupNormalization: X [N, C, ...] in num_groups groups of C/G channels; scale/bias per group ([G], opset 18) or per channel ([C], opset 21). */
export function groupNormRef(
  x: ArrayLike<number>,
  shape: number[],
  groups: number,
  scale: ArrayLike<number>,
  b: ArrayLike<number>,
  eps: number,
): number[] {
  const [n, c] = shape,
    spatial = shape.slice(2).reduce((p, v) => p * v, 1),
    per = c / groups;
  const y = new Array<number>(x.length);
  for (let i = 0; i < n; i++)
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let ch = g * per; ch < (g + 1) * per; ch++)
        for (let s = 0; s < spatial; s++) idx.push((i * c + ch) * spatial + s);
      const [m, v] = moments(idx.map((k) => x[k]));
      for (const k of idx) {
        const ch = Math.floor(k / spatial) % c,
          p = scale.length === c ? ch : g;
        y[k] = ((x[k] - m) / Math.sqrt(v + eps)) * scale[p] + b[p];
      }
    }
  return y;
}
