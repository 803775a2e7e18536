import { expect } from 'vitest';

/** Every tolerance the suite uses, in one table: |got - want| <= abs + rel * |want|. */
export const TOL = {
  /** plain elementwise / data movement in f32 */
  exact: { abs: 0, rel: 0 },
  f32: { abs: 1e-5, rel: 1e-5 },
  /** long f32 reductions (conv, gemm, pooling averages, softmax) */
  f32Reduce: { abs: 1e-4, rel: 1e-4 },
  /** f16 storage and arithmetic, accumulations of up to a few thousand terms */
  f16: { abs: 2e-2, rel: 2e-2 },
  /** the ONNX backend runner's default, used by the conformance test */
  onnx: { abs: 1e-3, rel: 1e-3 },
} as const;
export type Tol = { abs: number; rel: number };

/** Assert elementwise closeness; the message names the worst index and both values. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, label = ''): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  let worst = -1,
    worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i],
      w = want[i];
    if (g === w) continue; // also equal infinities
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    const excess = Math.abs(g - w) - (tol.abs + tol.rel * Math.abs(w));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess)))
      (worst = i), (worstExcess = excess);
  }
  if (worst >= 0) {
    expect.fail(`${label}: index ${worst} got ${got[worst]} want ${want[worst]} (tol abs ${tol.abs} rel ${tol.rel})`);
  }
}
