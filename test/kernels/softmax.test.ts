import { describe, expect, it } from 'vitest';
import type { DType } from '../../src/core/dtype';
import { WgsegError } from '../../src/core/errors';
import { gpu, runOp } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { argRef, cumSumRef, reduceAll, reduceRef, softmaxRef, topKRef } from '../reference/softmax';

const r = rng(13);
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const SHAPES = [
  [5, 7],
  [3, 4, 5],
  [2, 3, 5, 6],
];

async function expectError(p: Promise<unknown>, code: string, pattern: RegExp) {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WgsegError);
  expect((e as WgsegError).code).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

describe('Softmax / LogSoftmax', () => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    for (const shape of SHAPES) {
      it(`${op} [${shape}] on every axis, positive and negative`, async () => {
        const x = Float32Array.from(r.array(numel(shape), -4, 4));
        for (let axis = -shape.length; axis < shape.length; axis++) {
          const [y] = await runOp(op, [{ data: x, shape }], { axis });
          const a = axis < 0 ? axis + shape.length : axis;
          expectClose(y.data, softmaxRef(x, shape, [a], op === 'LogSoftmax'), TOL.f32Reduce, `${op} axis ${axis}`);
        }
      });
    }
  }

  it('default axis is -1 (opset 13); opset < 13 flattens from axis (default 1)', async () => {
    const shape = [2, 3, 4];
    const x = Float32Array.from(r.array(24, -3, 3));
    const [y13] = await runOp('Softmax', [{ data: x, shape }]);
    expectClose(y13.data, softmaxRef(x, shape, [2]), TOL.f32Reduce, 'opset 13 default');
    const [y11] = await runOp('Softmax', [{ data: x, shape }], { __opset: 11 });
    expectClose(y11.data, softmaxRef(x, shape, [1, 2]), TOL.f32Reduce, 'opset 11 default');
    const [l11] = await runOp('LogSoftmax', [{ data: x, shape }], { __opset: 11, axis: 0 });
    expectClose(l11.data, softmaxRef(x, shape, [0, 1, 2], true), TOL.f32Reduce, 'opset 11 axis 0');
  });

  it('long rows (workgroup path) and many short rows (lane path)', async () => {
    for (const shape of [
      [3, 1000],
      [2, 300, 3],
      [700, 5],
    ]) {
      const x = Float32Array.from(r.array(numel(shape), -6, 6));
      for (const axis of [0, -1]) {
        const [y] = await runOp('Softmax', [{ data: x, shape }], { axis });
        expectClose(
          y.data,
          softmaxRef(x, shape, [axis < 0 ? shape.length - 1 : axis]),
          TOL.f32Reduce,
          `[${shape}] axis ${axis}`,
        );
      }
    }
  });

  it('is stable for large numbers', async () => {
    const x = [10000, 10001, 10002, 10003, 1e30, 1e30 + 1, -1e30, 0];
    for (const op of ['Softmax', 'LogSoftmax']) {
      const [y] = await runOp(op, [{ data: x, shape: [2, 4] }]);
      expectClose(y.data, softmaxRef(x, [2, 4], [1], op === 'LogSoftmax'), TOL.f32Reduce, op);
      expect(Array.from(y.data).every(Number.isFinite)).toBe(true);
    }
  });

  it('f16 when the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return;
    const shape = [2, 3, 40];
    const x = Float32Array.from(r.array(numel(shape), -3, 3));
    const [y] = await runOp('Softmax', [{ data: x, shape, dtype: 'f16' }], { axis: 1 });
    expectClose(y.data, softmaxRef(x, shape, [1]), TOL.f16, 'f16 softmax');
  });

  it('rejects a bad axis and integer input', async () => {
    await expectError(
      runOp('Softmax', [{ data: [1, 2], shape: [1, 2] }], { axis: 2 }),
      'BAD_ATTRIBUTE',
      /Softmax: axis 2 out of range/,
    );
    await expectError(
      runOp('LogSoftmax', [{ data: [1, 2], shape: [2], dtype: 'i32' }]),
      'UNSUPPORTED_DTYPE',
      /LogSoftmax: input dtype i32/,
    );
  });
});

describe('ArgMax / ArgMin', () => {
  for (const op of ['ArgMax', 'ArgMin']) {
    for (const shape of SHAPES) {
      it(`${op} [${shape}] every axis, keepdims 0/1, select_last_index with ties`, async () => {
        // small integers: plenty of ties
        const x = Float32Array.from({ length: numel(shape) }, () => r.int(-3, 3));
        for (let axis = -shape.length; axis < shape.length; axis++) {
          const a = axis < 0 ? axis + shape.length : axis;
          for (const [keepdims, last] of [
            [1, 0],
            [0, 1],
            [1, 1],
          ]) {
            const [y] = await runOp(op, [{ data: x, shape }], { axis, keepdims, select_last_index: last });
            expect(y.shape).toEqual(
              keepdims ? shape.map((s, d) => (d === a ? 1 : s)) : shape.filter((_, d) => d !== a),
            );
            expect(Array.from(y.data), `${op} axis ${axis} last ${last}`).toEqual(
              argRef(x, shape, a, op === 'ArgMin', last === 1),
            );
          }
        }
      });
    }
  }

  it('long axis (workgroup path), integer dtype, default axis 0', async () => {
    const shape = [600, 3];
    const x = Int32Array.from({ length: 1800 }, () => r.int(-50, 50));
    for (const last of [0, 1]) {
      const [y] = await runOp('ArgMax', [{ data: x, shape, dtype: 'i32' }], { select_last_index: last });
      expect(Array.from(y.data)).toEqual(argRef(x, shape, 0, false, last === 1));
      const [z] = await runOp('ArgMin', [{ data: x, shape: [3, 600], dtype: 'i32' }], {
        axis: 1,
        keepdims: 0,
        select_last_index: last,
      });
      expect(Array.from(z.data)).toEqual(argRef(x, [3, 600], 1, true, last === 1));
    }
  });

  it('rejects an out-of-range axis', async () => {
    await expectError(
      runOp('ArgMax', [{ data: [1, 2], shape: [1, 2] }], { axis: -3 }),
      'BAD_ATTRIBUTE',
      /ArgMax: axis -3 out of range for rank 2/,
    );
  });
});

describe('Reduce*', () => {
  const ops = Object.keys(reduceRef);
  it('every op over random axis sets of 2-D..4-D tensors, attribute and input axes, keepdims', async () => {
    for (const op of ops) {
      for (const shape of SHAPES) {
        const positive = ['ReduceLogSum', 'ReduceProd'].includes(op);
        const x = Float32Array.from(r.array(numel(shape), positive ? 0.5 : -2, 2));
        const axes = shape.map((_, d) => d).filter(() => r.next() < 0.5);
        if (axes.length === 0) axes.push(r.int(0, shape.length - 1));
        const signed = axes.map((a) => (r.next() < 0.5 ? a - shape.length : a));
        const keepdims = r.int(0, 1);
        const asInput = r.next() < 0.5;
        const [y] = asInput
          ? await runOp(
              op,
              [
                { data: x, shape },
                { data: signed, shape: [signed.length], dtype: 'i32' },
              ],
              { keepdims },
            )
          : await runOp(op, [{ data: x, shape }], { axes: signed, keepdims });
        expect(y.shape).toEqual(
          keepdims ? shape.map((s, d) => (axes.includes(d) ? 1 : s)) : shape.filter((_, d) => !axes.includes(d)),
        );
        expectClose(y.data, reduceAll(op, x, shape, axes), TOL.f32Reduce, `${op} [${shape}] axes [${signed}]`);
      }
    }
  });

  it('empty axes reduce everything, or nothing with noop_with_empty_axes', async () => {
    const shape = [3, 5, 7];
    const x = Float32Array.from(r.array(105, 0.1, 2));
    for (const op of ['ReduceSum', 'ReduceL2', 'ReduceLogSumExp', 'ReduceSumSquare']) {
      const [all] = await runOp(
        op,
        [
          { data: x, shape },
          { data: [], shape: [0] },
        ],
        { keepdims: 0 },
      );
      expect(all.shape).toEqual([]);
      expectClose(all.data, reduceAll(op, x, shape, [0, 1, 2]), TOL.f32Reduce, `${op} all`);
      const [none] = await runOp(op, [{ data: x, shape }], { noop_with_empty_axes: 1 });
      expect(none.shape).toEqual(shape);
      expectClose(none.data, reduceAll(op, x, shape, []), TOL.f32Reduce, `${op} noop`);
    }
  });

  it('long reductions (workgroup path) and rank 6', async () => {
    const shape = [2, 3, 2, 5, 4, 3];
    const x = Float32Array.from(r.array(numel(shape), -1, 1));
    for (const [op, axes] of [
      ['ReduceMean', [1, 3, 5]],
      ['ReduceLogSumExp', [0, 2, 4]],
      ['ReduceMax', [5]],
      ['ReduceSum', [0, 1, 2, 3, 4, 5]],
    ] as const) {
      const [y] = await runOp(op, [{ data: x, shape }], { axes: [...axes] });
      expectClose(y.data, reduceAll(op, x, shape, [...axes]), TOL.f32Reduce, `${op} rank 6`);
    }
    const big = Float32Array.from(r.array(3 * 2000, -1, 1));
    for (const op of ['ReduceSum', 'ReduceMin', 'ReduceL1']) {
      const [y] = await runOp(op, [{ data: big, shape: [3, 2000] }], { axes: [1] });
      expectClose(y.data, reduceAll(op, big, [3, 2000], [1]), TOL.f32Reduce, `${op} long`);
    }
  });

  it('f16 reductions and ArgMax when the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return;
    const shape = [3, 4, 50];
    // values exactly representable in f16 so the reference sees the stored inputs
    const x = Float32Array.from({ length: numel(shape) }, () => r.int(-64, 64) / 32);
    for (const [op, axes] of [
      ['ReduceSum', [2]],
      ['ReduceMax', [0, 2]],
      ['ReduceMean', [1]],
      ['ReduceLogSumExp', [2]],
    ] as const) {
      const [y] = await runOp(op, [{ data: x, shape, dtype: 'f16' }], { axes: [...axes], keepdims: 0 });
      expectClose(y.data, reduceAll(op, x, shape, [...axes]), TOL.f16, `f16 ${op}`);
    }
    const [a] = await runOp('ArgMax', [{ data: x, shape, dtype: 'f16' }], { axis: 2, select_last_index: 1 });
    expect(Array.from(a.data)).toEqual(argRef(x, shape, 2, false, true));
  });

  it('rejects repeated or out-of-range axes', async () => {
    await expectError(
      runOp('ReduceSum', [{ data: [1, 2], shape: [1, 2] }], { axes: [1, -1] }),
      'BAD_ATTRIBUTE',
      /ReduceSum: repeated entry in axes/,
    );
    await expectError(
      runOp('ReduceMax', [{ data: [1, 2], shape: [1, 2] }], { axes: [2] }),
      'BAD_ATTRIBUTE',
      /ReduceMax: axes entry 2 out of range/,
    );
  });
});

describe('CumSum', () => {
  const r = rng(61);
  // [shape, axis, exclusive, reverse, dtype]
  const cases: [number[], number, boolean, boolean, DType][] = [
    [[2, 7, 3], 1, false, false, 'f32'],
    [[2, 7, 3], -1, true, false, 'f32'],
    [[5, 4], 0, false, true, 'f32'],
    [[3, 300], 1, true, true, 'f32'],
    [[2, 3, 6], 2, false, false, 'i32'],
    [[4, 5], -2, true, true, 'i32'],
    [[2, 9, 4], 1, false, true, 'f16'],
  ];
  for (const [shape, axis, exclusive, reverse, dtype] of cases) {
    it(`[${shape}] axis ${axis}${exclusive ? ' exclusive' : ''}${reverse ? ' reverse' : ''} ${dtype}`, async () => {
      if (dtype === 'f16' && !(await gpu()).info.f16) return;
      const n = shape.reduce((a, b) => a * b, 1);
      const x =
        dtype === 'i32'
          ? Array.from({ length: n }, () => r.int(-50, 50))
          : Array.from(Float32Array.from(r.array(n, -2, 2)));
      const [y] = await runOp(
        'CumSum',
        [
          { data: x, shape, dtype },
          { data: [axis], shape: [] },
        ],
        {
          exclusive: +exclusive,
          reverse: +reverse,
        },
      );
      const tol = dtype === 'i32' ? TOL.exact : dtype === 'f16' ? TOL.f16 : TOL.f32Reduce;
      expectClose(y.data, cumSumRef(x, shape, axis, exclusive, reverse), tol, `CumSum ${dtype}`);
    });
  }
});

describe('TopK', () => {
  const r = rng(62);
  // [shape, axis, k, largest, dtype]; ties (repeated values) must go to the lower index
  const cases: [number[], number, number, boolean, DType][] = [
    [[3, 10], -1, 4, true, 'f32'],
    [[3, 10], 1, 3, false, 'f32'],
    [[2, 6, 3], 1, 6, true, 'f32'],
    [[2, 6, 3], 0, 1, true, 'f32'],
    [[4, 50], 1, 7, true, 'i32'],
    [[2, 12], -1, 5, false, 'f16'],
    [[3, 5], 1, 0, true, 'f32'],
  ];
  for (const [shape, axis, k, largest, dtype] of cases) {
    it(`[${shape}] axis ${axis} k ${k} ${largest ? 'largest' : 'smallest'} ${dtype}`, async () => {
      if (dtype === 'f16' && !(await gpu()).info.f16) return;
      const n = shape.reduce((a, b) => a * b, 1);
      // few distinct values: many ties
      const x = Array.from({ length: n }, () => (dtype === 'i32' ? r.int(-5, 5) : r.int(-8, 8) / 4));
      const want = topKRef(x, shape, axis, k, largest);
      const [values, indices] = await runOp(
        'TopK',
        [
          { data: x, shape, dtype },
          { data: [k], shape: [1] },
        ],
        {
          axis,
          largest: +largest,
        },
      );
      expect(values.shape).toEqual(want.shape);
      expect(indices.shape).toEqual(want.shape);
      expect(Array.from(values.data)).toEqual(want.values);
      expect(Array.from(indices.data)).toEqual(want.indices);
    });
  }

  it('K out of range throws BAD_INPUT naming TopK', async () => {
    await expect(
      runOp('TopK', [
        { data: [1, 2, 3], shape: [3] },
        { data: [4], shape: [1] },
      ]),
    ).rejects.toThrow(/TopK: K \[4\] must be one integer in \[0, 3\]/);
  });
});
