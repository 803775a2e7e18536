import { expect } from 'vitest';
import * as ort from 'onnxruntime-web';

/**
 * onnxruntime-web (wasm backend, CPU) as the independent oracle for whole networks, and the
 * issue's comparison rule for them.
 */

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export interface OrtFeed {
  data: Float32Array | Int32Array | BigInt64Array;
  dims: number[];
}
export interface OrtOutput {
  /** int64 outputs come back as numbers (exact below 2^53) */
  data: Float32Array | Float64Array | Int32Array;
  dims: number[];
  type: string;
}

const typeOf = (d: OrtFeed['data']) => (d instanceof Float32Array ? 'float32' : d instanceof Int32Array ? 'int32' : 'int64');

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
      const data = d instanceof BigInt64Array ? Float64Array.from(d, Number) : (d as Float32Array | Int32Array);
      out[k] = { data, dims: [...t.dims], type: t.type };
    }
    return out;
  } finally {
    await s.release();
  }
}

/**
 * The rule for whole networks: |got - ref| <= atol + rtol * |ref| with
 * atol = 1e-4 * max(1, max|ref|) and rtol = 1e-3. `scale` loosens both (f16 runs); returns the
 * worst excess ratio (<= 1 passes) and fails with the worst index and both values.
 */
export function expectNetClose(got: ArrayLike<number>, ref: ArrayLike<number>, label: string, scale = 1): { maxAbsErr: number; worst: number } {
  expect(got.length, `${label}: length`).toBe(ref.length);
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) maxRef = Math.max(maxRef, Math.abs(ref[i]));
  const atol = 1e-4 * Math.max(1, maxRef) * scale, rtol = 1e-3 * scale;
  let worst = 0, worstAt = -1, maxAbsErr = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]);
    const ratio = Number.isNaN(err) ? Infinity : err / (atol + rtol * Math.abs(ref[i]));
    if (err > maxAbsErr || Number.isNaN(err)) maxAbsErr = Number.isNaN(err) ? Infinity : err;
    if (ratio > worst) (worst = ratio), (worstAt = i);
  }
  if (worst > 1) expect.fail(`${label}: index ${worstAt} got ${got[worstAt]} want ${ref[worstAt]} (atol ${atol.toExponential(2)} rtol ${rtol}; max |ref| ${maxRef.toPrecision(4)}; max abs err ${maxAbsErr.toExponential(3)})`);
  return { maxAbsErr, worst };
}

/** For integer outputs (ArgMax): the fraction of positions that differ (ties between near-equal scores may flip). */
export function mismatchFraction(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < ref.length; i++) if (got[i] !== ref[i]) n++;
  return n / ref.length;
}
