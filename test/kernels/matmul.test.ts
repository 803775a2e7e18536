import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { fromHalf, toHalf, type DType } from '../../src/core/dtype';
import { kernelFor } from '../../src/kernels/registry';
import type { Attrs } from '../../src/core/attrs';
import { gpu, runOp, variantsOf } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose, type Tol } from '../helpers/tolerance';
import { unaryRef } from '../reference/elementwise';
import { gemmRef, matmulRef, type GemmRefAttrs, einsumRef } from '../reference/matmul';

const r = rng(7);
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** random data, rounded to what the GPU dtype stores so the f64 reference sees the same inputs */
const rand = (shape: number[], dtype: DType = 'f32') => {
  const d = r.array(numel(shape));
  return dtype === 'f16' ? d.map((v) => fromHalf(toHalf(v))) : Float32Array.from(d);
};

async function checkMatMul(aShape: number[], bShape: number[], dtype: DType = 'f32', tol: Tol = TOL.f32Reduce) {
  const a = rand(aShape, dtype),
    b = rand(bShape, dtype);
  const want = matmulRef(a, aShape, b, bShape);
  const [y] = await runOp('MatMul', [
    { data: a, shape: aShape, dtype },
    { data: b, shape: bShape, dtype },
  ]);
  const label = `MatMul ${dtype} [${aShape}] x [${bShape}]`;
  expect(y.shape, label).toEqual(want.shape);
  expectClose(y.data, want.data, tol, label);
}

async function checkGemm(
  M: number,
  N: number,
  K: number,
  cShape: number[] | null,
  attrs: GemmRefAttrs & Attrs = {},
  dtype: DType = 'f32',
) {
  const aShape = attrs.transA ? [K, M] : [M, K],
    bShape = attrs.transB ? [N, K] : [K, N];
  const a = rand(aShape, dtype),
    b = rand(bShape, dtype);
  const c = cShape ? { data: rand(cShape, dtype), shape: cShape, dtype } : undefined;
  const want = gemmRef(a, aShape, b, bShape, c, attrs);
  const act = attrs.activation as string | undefined;
  if (act) {
    const [p0, p1] = (attrs.activation_params as number[] | undefined) ?? [0, 0];
    want.data.forEach((v, i) => (want.data[i] = unaryRef[act](v, p0, p1)));
  }
  const [y] = await runOp('Gemm', [{ data: a, shape: aShape, dtype }, { data: b, shape: bShape, dtype }, c], attrs);
  const label = `Gemm ${dtype} ${M}x${N}x${K} C=${cShape && `[${cShape}]`} ${JSON.stringify(attrs)}`;
  expect(y.shape, label).toEqual([M, N]);
  expectClose(y.data, want.data, dtype === 'f16' ? TOL.f16 : TOL.f32Reduce, label);
}

function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof WgsegError ? e.code : String(e);
  }
  return 'no error';
}

describe('MatMul', () => {
  it('2-D with odd M, N, K (1, 3, 17, 65)', async () => {
    for (const [M, N, K] of [
      [1, 1, 1],
      [3, 17, 65],
      [65, 3, 17],
      [17, 65, 3],
      [1, 65, 17],
      [65, 1, 1],
    ]) {
      await checkMatMul([M, K], [K, N]);
    }
  });
  it('spans several tiles in M, N and K (70 x 131 x 90)', () => checkMatMul([70, 90], [90, 131]));
  it('batched, with batch broadcasting', async () => {
    await checkMatMul([2, 5, 7], [2, 7, 3]);
    await checkMatMul([3, 1, 5, 6], [4, 6, 9]);
    await checkMatMul([1, 5, 6], [2, 3, 6, 4]);
    await checkMatMul([2, 1, 3, 1, 3, 4], [2, 1, 2, 4, 5]);
  });
  it('1-D operands (1-D x 1-D, 1-D x N-D, N-D x 1-D)', async () => {
    await checkMatMul([17], [17]);
    await checkMatMul([5], [5, 3]);
    await checkMatMul([6], [2, 3, 6, 4]);
    await checkMatMul([3, 7], [7]);
    await checkMatMul([2, 3, 4, 7], [7]);
  });
  it('vec4-load path (K, N multiples of 4): tiles, batch broadcast, 1-D', async () => {
    await checkMatMul([70, 36], [36, 132]);
    await checkMatMul([2, 3, 9, 12], [12, 20]);
    await checkMatMul([1, 5, 8], [3, 8, 4]);
    await checkMatMul([8], [2, 8, 12]);
  });
  it('K = 0 gives zeros', () => checkMatMul([3, 0], [0, 5]));
  it('bad shapes throw BAD_SHAPE', () => {
    const k = kernelFor('MatMul');
    const t = (shape: number[]) => ({ shape, dtype: 'f32' as const });
    expect(() => k.infer([t([3, 4]), t([5, 6])], {}, [])).toThrow(/MatMul: inner dimensions differ/);
    expect(() => k.infer([t([2, 3, 4]), t([3, 4, 5])], {}, [])).toThrow(/MatMul: batch dimensions do not broadcast/);
    expect(() => k.infer([t([1, 1, 1, 1, 1, 3, 4]), t([4, 5])], {}, [])).toThrow(/MatMul: at most 4 batch/);
    expect(() => k.infer([t([3, 4]), { shape: [4, 5], dtype: 'i32' }], {}, [])).toThrow(/MatMul: mixed dtypes/);
    expect(
      errorCode(() =>
        k.infer(
          [
            { shape: [3, 4], dtype: 'i32' },
            { shape: [4, 5], dtype: 'i32' },
          ],
          {},
          [],
        ),
      ),
    ).toBe('UNSUPPORTED_DTYPE');
    expect(errorCode(() => k.infer([t([2, 3, 4]), t([3, 4, 5])], {}, []))).toBe('BAD_SHAPE');
  });
});

describe('Gemm', () => {
  it('every C shape: absent, scalar, [1], [N], [1,N], [M,1], [1,1], [M,N]', async () => {
    const [M, N, K] = [5, 7, 9];
    for (const c of [null, [], [1], [N], [1, N], [M, 1], [1, 1], [M, N]]) await checkGemm(M, N, K, c);
  });
  it('transA, transB, alpha, beta (odd sizes across tiles)', async () => {
    await checkGemm(3, 65, 17, [65], { transA: 1 });
    await checkGemm(65, 3, 17, [65, 1], { transB: 1 });
    await checkGemm(17, 66, 70, [17, 66], { transA: 1, transB: 1, alpha: 0.25, beta: 0.35 });
    await checkGemm(1, 1, 65, [], { alpha: -2, beta: 0 });
    await checkGemm(65, 68, 20, [68], { alpha: 0.5, beta: -1 }); // vec4-load path
    await checkGemm(6, 8, 12, [6, 8], { transB: 1 });
  });
  it('fused activations', async () => {
    const acts: [string, number[] | undefined][] = [
      ['Relu', undefined],
      ['Clip', [-0.5, 0.75]],
      ['LeakyRelu', [0.1]],
      ['Sigmoid', undefined],
      ['HardSigmoid', [0.3, 0.4]],
      ['HardSwish', undefined],
      ['Tanh', undefined],
    ];
    for (const [activation, activation_params] of acts) {
      await checkGemm(9, 6, 13, [6], {
        activation,
        ...(activation_params && { activation_params }),
        alpha: 2,
        transB: 1,
      });
    }
  });
  it('bad attributes and shapes throw', () => {
    const k = kernelFor('Gemm');
    const t = (shape: number[]) => ({ shape, dtype: 'f32' as const });
    expect(() => k.infer([t([3, 4]), t([5, 6])], {}, [])).toThrow(/Gemm: inner dimensions differ/);
    expect(() => k.infer([t([3, 4]), t([4, 6]), t([4, 6])], {}, [])).toThrow(
      /Gemm: C \[4,6\] does not broadcast to \[3,6\]/,
    );
    expect(() => k.infer([t([2, 3, 4]), t([4, 6])], {}, [])).toThrow(/Gemm: A and B must be 2-D/);
    expect(() => k.infer([t([3, 4]), t([4, 6])], { transA: 2 }, [])).toThrow(/Gemm: attribute transA must be 0 or 1/);
    expect(() => k.infer([t([3, 4]), t([4, 6])], { alpha: 'x' }, [])).toThrow(/Gemm: attribute alpha/);
    expect(() => k.infer([t([3, 4]), t([4, 6])], { activation: 'Softsign' }, [])).toThrow(
      /Gemm: unsupported fused activation/,
    );
    expect(errorCode(() => k.infer([t([3, 4]), t([5, 6])], {}, []))).toBe('BAD_SHAPE');
    expect(errorCode(() => k.infer([t([3, 4]), t([4, 6])], { transB: -1 }, []))).toBe('BAD_ATTRIBUTE');
  });
});

describe('f16', () => {
  it('MatMul and Gemm in f16', async () => {
    if (!(await gpu()).info.f16) return;
    await checkMatMul([3, 17, 65], [65, 19], 'f16', TOL.f16);
    await checkMatMul([2, 1, 5, 9], [3, 9, 6], 'f16', TOL.f16);
    await checkMatMul([9], [9, 7], 'f16', TOL.f16);
    await checkGemm(17, 9, 33, [9], { transA: 1, transB: 1, alpha: 0.5, beta: 2, activation: 'Relu' }, 'f16');
    await checkGemm(5, 66, 3, [5, 66], {}, 'f16');
    await checkMatMul([2, 13, 16], [16, 20], 'f16', TOL.f16); // vec4 loads of f16
    await checkGemm(9, 12, 8, [1, 12], { activation: 'LeakyRelu', activation_params: [0.2] }, 'f16');
  });
});

describe('Einsum', () => {
  const r = rng(77);
  // [equation, operand shapes, the same equation written out for the reference (ellipsis expanded)]
  const cases: [string, number[][], string?][] = [
    [
      'bij, bjk -> bik',
      [
        [5, 2, 3],
        [5, 3, 4],
      ],
    ], // conformance einsum_batch_matmul
    ['...ii ->...i', [[3, 5, 5]], 'aii->ai'], // einsum_batch_diagonal
    ['i,i', [[5], [5]], 'i,i->'], // einsum_inner_prod (implicit output)
    ['ij->i', [[3, 4]]], // einsum_sum
    ['ij->ji', [[3, 4]]], // einsum_transpose
    ['->', [[]]], // einsum_scalar
    [
      'bhid,bhjd->bhij',
      [
        [2, 3, 5, 4],
        [2, 3, 7, 4],
      ],
    ], // attention scores
    [
      'bhij,bhjd->bhid',
      [
        [2, 3, 5, 7],
        [2, 3, 7, 4],
      ],
    ], // attention values
    [
      'bnc,cd->bnd',
      [
        [2, 6, 5],
        [5, 3],
      ],
    ], // a linear layer
    ['bchw->bhwc', [[2, 3, 4, 5]]],
    ['ii', [[4, 4]], 'ii->'], // trace, implicit
    [
      'ij,jk',
      [
        [3, 5],
        [5, 2],
      ],
      'ij,jk->ik',
    ],
    [
      '...ij,...jk->...ik',
      [
        [2, 3, 4],
        [4, 5],
      ],
      'aij,jk->aik',
    ], // ellipsis broadcast against none
    ['i,j->ij', [[3], [4]]], // outer product
    [
      'bij,bij->b',
      [
        [2, 3, 4],
        [2, 3, 4],
      ],
    ],
    [
      'bnc,cd->bnd',
      [
        [2, 6, 8],
        [8, 12],
      ],
    ], // contiguous K and N multiples of 4: the vec4 GEMM
    [
      'nc,bdc->bnd',
      [
        [5, 6],
        [3, 4, 6],
      ],
    ], // B's own label b leads the output: not one GEMM, the label map runs it
  ];
  // the equations that are one batched GEMM run on the tiled GEMM by default ('gemm'); every one also on 'labels'
  const GEMM = new Set([
    'bij, bjk -> bik',
    'i,i',
    'bhid,bhjd->bhij',
    'bhij,bhjd->bhid',
    'bnc,cd->bnd',
    'ij,jk',
    '...ij,...jk->...ik',
    'i,j->ij',
    'bij,bij->b',
    'bnc,cd->bnd',
  ]);
  for (const [eq, shapes, refEq] of cases) {
    it(`"${eq}" on ${shapes.map((s) => `[${s}]`).join(' ')}`, async () => {
      const xs = shapes.map((shape) => ({
        data: Float32Array.from(
          r.array(
            shape.reduce((a, b) => a * b, 1),
            -2,
            2,
          ),
        ),
        shape,
      }));
      const want = einsumRef(refEq ?? eq, xs);
      const variants = await variantsOf('Einsum', xs, { equation: eq });
      expect(variants).toEqual(GEMM.has(eq) ? ['gemm', 'labels'] : ['labels']);
      for (const variant of variants) {
        const [y] = await runOp('Einsum', xs, { equation: eq }, [], { variant });
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data, want.data, TOL.f32Reduce, `${eq} (${variant})`);
      }
    });
  }

  it('f16 operands when the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return;
    const xs = [
      [2, 5, 6],
      [2, 4, 6],
    ].map((shape) => ({
      data: Float32Array.from(
        r.array(
          shape.reduce((a, b) => a * b, 1),
          -1,
          1,
        ),
      ),
      shape,
      dtype: 'f16' as DType,
    }));
    const [y] = await runOp('Einsum', xs, { equation: 'bid,bjd->bij' });
    expectClose(y.data, einsumRef('bid,bjd->bij', xs).data, TOL.f16, 'f16');
  });

  it('malformed equations throw BAD_ATTRIBUTE naming Einsum', () => {
    const t = (shape: number[]) => ({ shape, dtype: 'f32' as DType });
    const infer =
      (eq: string, ...shapes: number[][]) =>
      () =>
        kernelFor('Einsum').infer(shapes.map(t), { equation: eq }, []);
    expect(infer('ij,jk->ik', [2, 3])).toThrow(/Einsum: .*1 inputs/);
    expect(infer('ij->ik', [2, 3])).toThrow(/output label k/);
    expect(infer('ij,jk->ik', [2, 3], [4, 5])).toThrow(/label j is 3 in one place and 4/);
    expect(infer('ijk->i', [2, 3])).toThrow(/3 labels for an operand of rank 2/);
  });
});
