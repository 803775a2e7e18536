// Exact fully connected CRF (Krahenbuhl & Koltun 2011) in f64, O(N^2) per iteration: the reference
// for src/pipelines/crf/crf.ts, written from the paper. Planar layouts: scores/probs [C][N], image [3][N]
// (0..255), N = H * W, pixel i at (x, y) = (i % W, floor(i / W)).

import { rng } from '../helpers/random';

export interface CrfParams {
  iterations: number;
  /** bilateral kernel weight, position sigma (px), colour sigma */
  w1: number;
  alpha: number;
  beta: number;
  /** Gaussian kernel weight, position sigma (px) */
  w2: number;
  gamma: number;
  /** probability clamp before -log */
  eps: number;
}

export const DEFAULT_CRF: CrfParams = { iterations: 5, w1: 10, alpha: 80, beta: 13, w2: 3, gamma: 3, eps: 1e-6 };

/** sum_{j != i} k(f_i, f_j) q_j(l) for both kernels, exactly. */
export function crfFilters(
  q: ArrayLike<number>,
  img: ArrayLike<number>,
  H: number,
  W: number,
  C: number,
  p: CrfParams,
) {
  const N = H * W;
  const gaussian = new Float64Array(C * N),
    bilateral = new Float64Array(C * N);
  const rgb = (i: number) => [0, 1, 2].map((k) => Math.min(255, Math.max(0, img[k * N + i])));
  const col = Array.from({ length: N }, (_, i) => rgb(i));
  for (let i = 0; i < N; i++) {
    const xi = i % W,
      yi = Math.floor(i / W);
    for (let j = 0; j < N; j++) {
      if (j === i) continue;
      const dx = xi - (j % W),
        dy = yi - Math.floor(j / W);
      const d2 = dx * dx + dy * dy;
      const c2 = (col[i][0] - col[j][0]) ** 2 + (col[i][1] - col[j][1]) ** 2 + (col[i][2] - col[j][2]) ** 2;
      const kg = Math.exp(-d2 / (2 * p.gamma * p.gamma));
      const kb = Math.exp(-d2 / (2 * p.alpha * p.alpha) - c2 / (2 * p.beta * p.beta));
      for (let l = 0; l < C; l++) {
        gaussian[l * N + i] += kg * q[l * N + j];
        bilateral[l * N + i] += kb * q[l * N + j];
      }
    }
  }
  return { gaussian, bilateral };
}

/** Mean-field inference with Potts compatibility; unary -log(max(p, eps)) or -log softmax(logits). */
export function denseCrf(
  scores: ArrayLike<number>,
  img: ArrayLike<number>,
  H: number,
  W: number,
  C: number,
  p: CrfParams,
  logits = false,
) {
  const N = H * W;
  const unary = new Float64Array(C * N);
  for (let i = 0; i < N; i++) {
    let lse = 0;
    if (logits) {
      let m = -Infinity;
      for (let l = 0; l < C; l++) m = Math.max(m, scores[l * N + i]);
      let s = 0;
      for (let l = 0; l < C; l++) s += Math.exp(scores[l * N + i] - m);
      lse = m + Math.log(s);
    }
    for (let l = 0; l < C; l++)
      unary[l * N + i] = logits ? lse - scores[l * N + i] : -Math.log(Math.max(scores[l * N + i], p.eps));
  }
  let q = softmaxPixels(
    unary.map((u) => -u),
    C,
    N,
  );
  for (let it = 0; it < p.iterations; it++) {
    const { gaussian, bilateral } = crfFilters(q, img, H, W, C, p);
    // Potts: sum_{l' != l} M(l') = total - M(l); the total is the same for every l and cancels in the softmax
    q = softmaxPixels(
      unary.map((u, k) => -u + p.w2 * gaussian[k] + p.w1 * bilateral[k]),
      C,
      N,
    );
  }
  return { probs: q, labels: argmaxPixels(q, C, N) };
}

export function softmaxPixels(x: Float64Array, C: number, N: number): Float64Array {
  const y = new Float64Array(C * N);
  for (let i = 0; i < N; i++) {
    let m = -Infinity,
      s = 0;
    for (let l = 0; l < C; l++) m = Math.max(m, x[l * N + i]);
    for (let l = 0; l < C; l++) s += Math.exp(x[l * N + i] - m);
    for (let l = 0; l < C; l++) y[l * N + i] = Math.exp(x[l * N + i] - m) / s;
  }
  return y;
}

export function argmaxPixels(q: ArrayLike<number>, C: number, N: number): Int32Array {
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let l = 1; l < C; l++) if (q[l * N + i] > q[best * N + i]) best = l;
    labels[i] = best;
  }
  return labels;
}

/** Mean intersection-over-union of `labels` against `truth` over the classes present in either. */
export function meanIoU(labels: ArrayLike<number>, truth: ArrayLike<number>, C: number): number {
  let sum = 0,
    count = 0;
  for (let l = 0; l < C; l++) {
    let inter = 0,
      union = 0;
    for (let i = 0; i < truth.length; i++) {
      const a = labels[i] === l,
        b = truth[i] === l;
      if (a && b) inter++;
      if (a || b) union++;
    }
    if (union) (sum += inter / union), count++;
  }
  return sum / count;
}

/** A deterministic generator in [0, 1) (test/helpers/random.ts's mulberry32). */
export function uniform(seed: number): () => number {
  return rng(seed).next;
}

/**
 * A synthetic scene: background (class 0) with a disc, a rectangle and a triangle (classes 1-3) in
 * distinct colours plus uniform pixel noise of width `colourNoise`. `probs` are the one-hot mask box-blurred (radius `blur`), mixed
 * with uniform noise (`noise`), and renormalised: a soft, wrong-near-edges segmentation to refine.
 */
export function syntheticScene(
  H: number,
  W: number,
  seed = 1,
  blur = Math.round(W / 10),
  noise = 0.6,
  colourNoise = 30,
) {
  const rnd = uniform(seed);
  const N = H * W,
    C = 4;
  const truth = new Int32Array(N);
  const colours = [
    [40, 60, 90],
    [220, 60, 50],
    [60, 190, 80],
    [240, 220, 60],
  ];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = x / W,
        v = y / H;
      let l = 0;
      if ((u - 0.3) ** 2 + (v - 0.32) ** 2 < 0.2 ** 2) l = 1;
      else if (u > 0.55 && u < 0.9 && v > 0.15 && v < 0.5) l = 2;
      else if (v > 0.58 && v < 0.92 && Math.abs(u - 0.5) < (v - 0.58) * 0.9) l = 3;
      truth[y * W + x] = l;
    }
  }
  const img = new Float32Array(3 * N);
  for (let i = 0; i < N; i++)
    for (let k = 0; k < 3; k++)
      img[k * N + i] = Math.min(255, Math.max(0, colours[truth[i]][k] + (rnd() - 0.5) * colourNoise));
  const probs = new Float32Array(C * N);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      let total = 0;
      const acc = new Float64Array(C);
      for (let dy = -blur; dy <= blur; dy++) {
        for (let dx = -blur; dx <= blur; dx++) {
          const yy = Math.min(H - 1, Math.max(0, y + dy)),
            xx = Math.min(W - 1, Math.max(0, x + dx));
          acc[truth[yy * W + xx]]++;
        }
      }
      for (let l = 0; l < C; l++) (acc[l] = acc[l] / (2 * blur + 1) ** 2 + noise * rnd()), (total += acc[l]);
      for (let l = 0; l < C; l++) probs[l * N + i] = acc[l] / total;
    }
  }
  return { H, W, C, img, probs, truth };
}

/**
 * A busier RGB image [3][N] for timing: smooth colour gradients over the whole range, the
 * synthetic scene's shapes on top and pixel noise, so the bilateral grid is far from empty.
 */
export function busyImage(H: number, W: number, seed = 2): Float32Array {
  const rnd = uniform(seed),
    N = H * W;
  const shapes = syntheticScene(H, W, seed, 0, 0);
  const img = new Float32Array(3 * N);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const base = [
        128 + 110 * Math.sin((x * 6) / W),
        128 + 110 * Math.cos((y * 5) / H),
        128 + 110 * Math.sin(((x + y) * 4) / (W + H)),
      ];
      for (let k = 0; k < 3; k++) {
        const v = shapes.truth[i] ? shapes.img[k * N + i] : base[k];
        img[k * N + i] = Math.min(255, Math.max(0, v + (rnd() - 0.5) * 40));
      }
    }
  }
  return img;
}
