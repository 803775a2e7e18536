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
