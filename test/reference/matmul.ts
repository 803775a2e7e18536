// f64 references for MatMul (numpy matmul semantics) and Gemm, written from the ONNX definitions.

const strides = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/** numpy.matmul on row-major data: 1-D operands promoted and the promoted dim dropped again. */
export function matmulRef(
  a: ArrayLike<number>,
  aShape: number[],
  b: ArrayLike<number>,
  bShape: number[],
): { data: Float64Array; shape: number[] } {
  const as = aShape.length === 1 ? [1, aShape[0]] : aShape;
  const bs = bShape.length === 1 ? [bShape[0], 1] : bShape;
  const M = as[as.length - 2],
    K = as[as.length - 1],
    N = bs[bs.length - 1];
  if (bs[bs.length - 2] !== K) throw new Error('matmulRef: inner dims differ');
  const rank = Math.max(as.length, bs.length) - 2;
  const ab = [...Array(rank - (as.length - 2)).fill(1), ...as.slice(0, -2)];
  const bb = [...Array(rank - (bs.length - 2)).fill(1), ...bs.slice(0, -2)];
  const batch = ab.map((d, i) => Math.max(d, bb[i]));
  const outStrides = strides(batch),
    aStr = strides(ab),
    bStr = strides(bb);
  const nb = batch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(nb * M * N);
  for (let t = 0; t < nb; t++) {
    let ao = 0,
      bo = 0;
    for (let d = 0; d < rank; d++) {
      const i = Math.floor(t / outStrides[d]) % batch[d];
      ao += (ab[d] === 1 ? 0 : i) * aStr[d];
      bo += (bb[d] === 1 ? 0 : i) * bStr[d];
    }
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[(ao * M + m) * K + k] * b[(bo * K + k) * N + n];
        out[(t * M + m) * N + n] = s;
      }
    }
  }
  const shape = [...batch, ...(aShape.length === 1 ? [] : [M]), ...(bShape.length === 1 ? [] : [N])];
  return { data: out, shape };
}

export interface GemmRefAttrs {
  transA?: number;
  transB?: number;
  alpha?: number;
  beta?: number;
}

/** Y = alpha * A' * B' + beta * C, with C unidirectionally broadcast to [M, N]. */
export function gemmRef(
  a: ArrayLike<number>,
  aShape: number[],
  b: ArrayLike<number>,
  bShape: number[],
  c: { data: ArrayLike<number>; shape: number[] } | undefined,
  at: GemmRefAttrs = {},
): { data: Float64Array; shape: number[] } {
  const { transA = 0, transB = 0, alpha = 1, beta = 1 } = at;
  const [M, K] = transA ? [aShape[1], aShape[0]] : aShape;
  const N = transB ? bShape[0] : bShape[1];
  const A = (m: number, k: number) => (transA ? a[k * M + m] : a[m * K + k]);
  const B = (k: number, n: number) => (transB ? b[n * K + k] : b[k * N + n]);
  const cs = c ? [...Array(2 - c.shape.length).fill(1), ...c.shape] : [1, 1];
  const C = (m: number, n: number) => (c ? c.data[(cs[0] === 1 ? 0 : m) * cs[1] + (cs[1] === 1 ? 0 : n)] : 0);
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A(m, k) * B(k, n);
      out[m * N + n] = alpha * s + beta * C(m, n);
    }
  }
  return { data: out, shape: [M, N] };
}

/**
 * Einsum by brute force over every assignment of the labels (explicit equations only, no ellipsis:
 * tests write the ellipsis out). The output is the sum over the labels missing on the right of the
 * product of the operands at those labels.
 */
export function einsumRef(equation: string, xs: { data: ArrayLike<number>; shape: number[] }[]) {
  const [lhs, rhs] = equation.replace(/\s/g, '').split('->');
  const terms = lhs.split(',').map((t) => [...t]);
  const size: Record<string, number> = {};
  terms.forEach((t, k) => t.forEach((l, d) => (size[l] = xs[k].shape[d])));
  const all = Object.keys(size);
  const out = [...rhs];
  const outShape = out.map((l) => size[l]);
  const y = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(0);
  const v: Record<string, number> = {};
  const walk = (i: number) => {
    if (i === all.length) {
      let p = 1;
      terms.forEach((t, k) => {
        p *= xs[k].data[t.reduce((o, l, d) => o * xs[k].shape[d] + v[l], 0)];
      });
      y[out.reduce((o, l, d) => o * outShape[d] + v[l], 0)] += p;
      return;
    }
    for (v[all[i]] = 0; v[all[i]] < size[all[i]]; v[all[i]]++) walk(i + 1);
  };
  walk(0);
  return { data: y, shape: outShape };
}
