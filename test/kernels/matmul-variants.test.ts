// Every MatMul / Gemm kernel variant forced on the test adapters (lavapipe, SwiftShader) against the
// f64 reference: odd sizes, partial 64x64 tiles, batch broadcasting, 1-D operands, the scalar-load
// path (K or N not a multiple of 4), Gemm's transposes, alpha/beta, C broadcasts and fused
// activations, and f16 where the adapter has it.
// adapters() is this process's adapter: `npm test` runs the file on lavapipe and again in the
// 'swiftshader' project (vite.config.ts).
import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf, type DType } from '../../src/core/dtype';
import type { Attrs } from '../../src/core/attrs';
import type { Runtime } from '../../src/gpu/runtime';
import { adapters, runOp, variantsOf } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { unaryRef } from '../reference/elementwise';
import { gemmRef, matmulRef } from '../reference/matmul';

const VARIANTS = ['direct', 'gemm', 'tiled-16x16'];
const r = rng(11);
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const rand = (shape: number[], dtype: DType) => {
  const d = r.array(numel(shape));
  return dtype === 'f16' ? d.map((v) => fromHalf(toHalf(v))) : Float32Array.from(d);
};
const tol = (dtype: DType) => (dtype === 'f16' ? TOL.f16 : TOL.f32Reduce);

async function matmul(rt: Runtime, variant: string, aShape: number[], bShape: number[], dtype: DType = 'f32') {
  const a = rand(aShape, dtype),
    b = rand(bShape, dtype);
  const want = matmulRef(a, aShape, b, bShape);
  const ins = [
    { data: a, shape: aShape, dtype },
    { data: b, shape: bShape, dtype },
  ];
  expect(await variantsOf('MatMul', ins, {}, rt)).toEqual(VARIANTS);
  const [y] = await runOp('MatMul', ins, {}, [], { variant, rt });
  const label = `${rt.info.adapter} ${variant} MatMul ${dtype} [${aShape}] x [${bShape}]`;
  expect(y.shape, label).toEqual(want.shape);
  expectClose(y.data, want.data, tol(dtype), label);
}

async function gemm(
  rt: Runtime,
  variant: string,
  [M, N, K]: number[],
  cShape: number[] | null,
  attrs: Attrs = {},
  dtype: DType = 'f32',
) {
  const aShape = attrs.transA ? [K, M] : [M, K],
    bShape = attrs.transB ? [N, K] : [K, N];
  const a = rand(aShape, dtype),
    b = rand(bShape, dtype);
  const c = cShape ? { data: rand(cShape, dtype), shape: cShape, dtype } : undefined;
  const want = gemmRef(a, aShape, b, bShape, c, attrs as Parameters<typeof gemmRef>[5]);
  const act = attrs.activation as string | undefined;
  if (act) {
    const [p0, p1] = (attrs.activation_params as number[] | undefined) ?? [0, 0];
    want.data.forEach((v, i) => (want.data[i] = unaryRef[act](v, p0, p1)));
  }
  const ins = [{ data: a, shape: aShape, dtype }, { data: b, shape: bShape, dtype }, c];
  const [y] = await runOp('Gemm', ins, attrs, [], { variant, rt });
  const label = `${rt.info.adapter} ${variant} Gemm ${dtype} ${M}x${N}x${K} C=${cShape && `[${cShape}]`} ${JSON.stringify(attrs)}`;
  expect(y.shape, label).toEqual([M, N]);
  expectClose(y.data, want.data, tol(dtype), label);
}

describe.each(VARIANTS)('MatMul/Gemm variant %s', (variant) => {
  it('MatMul: odd sizes, partial tiles, batch broadcast, 1-D, vec4 and scalar loads', async () => {
    for (const [name, rt] of await adapters()) {
      const big = !/swiftshader/i.test(name);
      await matmul(rt, variant, [17, 65], [65, 3]); // K, N not multiples of 4: scalar loads
      await matmul(rt, variant, [1, 13], [13, 1]);
      await matmul(rt, variant, [3, 0], [0, 5]); // K = 0 gives zeros
      await matmul(rt, variant, [2, 1, 5, 36], [3, 36, 68]); // vec4 loads, batch broadcast, partial tile
      await matmul(rt, variant, [33], [2, 33, 9]); // 1-D x N-D
      await matmul(rt, variant, [2, 7, 12], [12]); // N-D x 1-D
      await matmul(rt, variant, big ? [70, 90] : [66, 20], big ? [90, 131] : [20, 65]); // several tiles, partial ones
      if (big) await matmul(rt, variant, [129, 64], [64, 132]); // vec4, 3 x 3 tiles, partial last ones
    }
  });

  it('Gemm: transA/transB, alpha/beta, C broadcast, fused activations', async () => {
    for (const [, rt] of await adapters()) {
      for (const c of [null, [], [1], [7], [5, 1], [5, 7]]) await gemm(rt, variant, [5, 7, 9], c);
      await gemm(rt, variant, [3, 65, 17], [65], { transA: 1 });
      await gemm(rt, variant, [65, 3, 17], [65, 1], { transB: 1 });
      await gemm(rt, variant, [17, 66, 70], [17, 66], { transA: 1, transB: 1, alpha: 0.25, beta: 0.35 });
      await gemm(rt, variant, [65, 68, 20], [68], { alpha: 0.5, beta: -1 }); // vec4 loads
      await gemm(rt, variant, [9, 6, 13], [6], { activation: 'Clip', activation_params: [-0.5, 0.75], transB: 1 });
      await gemm(rt, variant, [9, 6, 13], null, { activation: 'LeakyRelu', activation_params: [0.1], alpha: 2 });
    }
  });

  it('f16 where the adapter has it', async () => {
    for (const [, rt] of await adapters()) {
      if (!rt.info.f16) continue;
      await matmul(rt, variant, [3, 17, 65], [65, 19], 'f16');
      await matmul(rt, variant, [2, 13, 16], [16, 68], 'f16'); // vec4 loads of f16, partial tile
      await gemm(
        rt,
        variant,
        [17, 9, 33],
        [9],
        { transA: 1, transB: 1, alpha: 0.5, beta: 2, activation: 'Relu' },
        'f16',
      );
    }
  });
});
