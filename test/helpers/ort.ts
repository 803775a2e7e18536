import { expect } from 'vitest';
import * as ort from 'onnxruntime-web';
import { fromHalf } from '../../src/internal';

/**
 * onnxruntime-web (wasm backend, CPU) as the independent oracle for whole networks, and the
 * issue's comparison rule for them.
 */

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export interface OrtFeed {
  /** Uint16Array: float16 bit patterns */
  data: Float32Array | Int32Array | BigInt64Array | Uint16Array;
  dims: number[];
}
export interface OrtOutput {
  /** int64 outputs come back as numbers (exact below 2^53) */
  data: Float32Array | Float64Array | Int32Array;
  dims: number[];
  type: string;
}

const typeOf = (d: OrtFeed['data']) =>
  d instanceof Float32Array
    ? 'float32'
    : d instanceof Int32Array
      ? 'int32'
      : d instanceof Uint16Array
        ? 'float16'
        : 'int64';

/** Run a model (ONNX bytes) in onnxruntime-web on the CPU; every graph output, by name. */
export async function ortRun(bytes: Uint8Array, feeds: Record<string, OrtFeed>): Promise<Record<string, OrtOutput>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) inputs[k] = new ort.Tensor(typeOf(v.data), v.data, v.dims);
    const res = await s.run(inputs);
    const out: Record<string, OrtOutput> = {};
    for (const [k, t] of Object.entries(res)) {
      const d = t.data;
      const data =
        d instanceof BigInt64Array
          ? Float64Array.from(d, Number)
          : t.type === 'float16'
            ? Float32Array.from(d as ArrayLike<number>, (h) =>
                typeof h === 'number' && d instanceof Uint16Array ? fromHalf(h) : Number(h),
              )
            : (d as Float32Array | Int32Array);
      out[k] = { data, dims: [...t.dims], type: t.type };
    }
    return out;
  } finally {
    await s.release();
  }
}

/** The rule for whole networks: |got - ref| <= atol * max(1, max|ref|) + rtol * |ref|. */
export const NET_TOL = { atol: 1e-4, rtol: 1e-3 };
export type NetTol = typeof NET_TOL;

/**
 * Assert `got` matches `ref` under a NetTol (default: the rule); fails naming the worst
 * index, both values and the largest error. Returns the largest error and the worst error/allowed
 * ratio (<= 1 passes) so tests can print how much margin there was.
 */
export function expectNetClose(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  label: string,
  tol: NetTol = NET_TOL,
): { maxAbsErr: number; worst: number } {
  expect(got.length, `${label}: length`).toBe(ref.length);
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) maxRef = Math.max(maxRef, Math.abs(ref[i]));
  const atol = tol.atol * Math.max(1, maxRef),
    rtol = tol.rtol;
  let worst = 0,
    worstAt = -1,
    maxAbsErr = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]);
    const ratio = Number.isNaN(err) ? Infinity : err / (atol + rtol * Math.abs(ref[i]));
    maxAbsErr = Math.max(maxAbsErr, Number.isNaN(err) ? Infinity : err);
    if (ratio > worst) (worst = ratio), (worstAt = i);
  }
  if (worst > 1)
    expect.fail(
      `${label}: index ${worstAt} got ${got[worstAt]} want ${ref[worstAt]} (atol ${atol.toExponential(2)} rtol ${rtol}; max |ref| ${maxRef.toPrecision(4)}; max abs err ${maxAbsErr.toExponential(3)})`,
    );
  return { maxAbsErr, worst };
}

/**
 * ArgMax over axis 1 of NCHW logits: labels must equal the reference except at near-ties, where
 * the reference scores of both labels lie within the tolerance of each other. Returns how many
 * positions were near-ties that flipped.
 */
export function expectArgMaxClose(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  refLogits: ArrayLike<number>,
  dims: number[],
  label: string,
  tol: NetTol = NET_TOL,
): number {
  expect(got.length, `${label}: length`).toBe(ref.length);
  const [n, c, h, w] = dims,
    hw = h * w;
  let maxRef = 0;
  for (let i = 0; i < refLogits.length; i++) maxRef = Math.max(maxRef, Math.abs(refLogits[i]));
  let flips = 0;
  for (let b = 0; b < n; b++)
    for (let p = 0; p < hw; p++) {
      const i = b * hw + p,
        g = got[i],
        r = ref[i];
      if (g === r) continue;
      expect(g >= 0 && g < c, `${label}: label ${g} at ${i} out of range`).toBe(true);
      const sg = refLogits[(b * c + g) * hw + p],
        sr = refLogits[(b * c + r) * hw + p];
      const allowed = 2 * (tol.atol * Math.max(1, maxRef) + tol.rtol * Math.abs(sr));
      if (sr - sg > allowed)
        expect.fail(`${label}: index ${i} got label ${g} (score ${sg}) want ${r} (score ${sr}), not a near-tie`);
      flips++;
    }
  return flips;
}
