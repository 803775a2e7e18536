import type { DType } from '../../src/core/dtype';
import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { gpu, runOp } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { poolAttrs, poolRef, type PoolOpts, pool3dRef } from '../reference/pool';
import { reduceAll } from '../reference/softmax';

const r = rng(7);
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

// [input shape, options]: pads, strides, dilations, ceil_mode, SAME/VALID, odd sizes, batch 2, C not a multiple of 4
const CASES: [number[], PoolOpts][] = [
  [[2, 3, 9, 7], { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
  [[1, 5, 8, 11], { kernel: [2, 3], strides: [1, 2], pads: [0, 1, 2, 0], dilations: [2, 1] }],
  [[2, 3, 7, 8], { kernel: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil: true }],
  [[1, 3, 2, 2], { kernel: [3, 3], strides: [3, 3], pads: [1, 1, 1, 1], ceil: true }], // last window would start on the pad
  [[1, 2, 5, 5], { kernel: [2, 2], strides: [2, 2], ceil: true }], // ceil window overhangs the input
  [[2, 3, 6, 9], { kernel: [3, 4], strides: [2, 2], autoPad: 'SAME_UPPER' }],
  [[1, 3, 7, 6], { kernel: [4, 3], strides: [3, 1], autoPad: 'SAME_LOWER' }],
  [[2, 2, 9, 10], { kernel: [3, 3], strides: [2, 2], autoPad: 'VALID', dilations: [2, 3] }],
  [[1, 6, 10, 9], { kernel: [3, 3], dilations: [2, 2], pads: [2, 1, 2, 3], ceil: true, strides: [2, 2] }],
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

describe('MaxPool', () => {
  CASES.forEach(([shape, o], n) => {
    it(`case ${n}: [${shape}] ${JSON.stringify(o)} with row- and column-major indices`, async () => {
      const x = Float32Array.from(r.array(numel(shape), -5, 5));
      for (const columnMajor of [false, true]) {
        const want = poolRef('max', x, shape, { ...o, columnMajor });
        const [y, idx] = await runOp('MaxPool', [{ data: x, shape }], poolAttrs({ ...o, columnMajor }));
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data, want.y, TOL.exact, `max case ${n}`);
        expect(idx.shape).toEqual(want.shape);
        expect(Array.from(idx.data), `indices case ${n}`).toEqual(want.idx);
      }
    });
  });

  it('integer inputs (i32, u32 for ONNX uint8) and ties pick the first index', async () => {
    const shape = [2, 3, 6, 5],
      o: PoolOpts = { kernel: [3, 2], strides: [2, 1], pads: [1, 1, 0, 1] };
    const x = Array.from({ length: numel(shape) }, () => r.int(0, 4));
    for (const dtype of ['i32', 'u32'] as const) {
      const want = poolRef('max', x, shape, o);
      const [y, idx] = await runOp('MaxPool', [{ data: x, shape, dtype }], poolAttrs(o));
      expect(Array.from(y.data), dtype).toEqual(want.y);
      expect(Array.from(idx.data), dtype).toEqual(want.idx);
    }
    const neg = Array.from({ length: numel(shape) }, () => r.int(-1000000, -5));
    const [y] = await runOp('MaxPool', [{ data: neg, shape, dtype: 'i32' }], poolAttrs(o));
    expect(Array.from(y.data)).toEqual(poolRef('max', neg, shape, o).y);
  });

  it('1-D pooling ([N,C,W]) and __outputs: 1 drops Indices', async () => {
    const x = Float32Array.from(r.array(2 * 3 * 11, -1, 1));
    const [y, idx] = await runOp('MaxPool', [{ data: x, shape: [2, 3, 11] }], {
      kernel_shape: [3],
      strides: [2],
      pads: [1, 2],
    });
    const want = poolRef('max', x, [2, 3, 1, 11], { kernel: [1, 3], strides: [1, 2], pads: [0, 1, 0, 2] });
    expect(y.shape).toEqual([2, 3, 6]);
    expectClose(y.data, want.y, TOL.exact, 'max 1-D');
    expect(Array.from(idx.data)).toEqual(want.idx);
    const outs = await runOp('MaxPool', [{ data: x, shape: [2, 3, 11] }], { kernel_shape: [3], __outputs: 1 });
    expect(outs.length).toBe(1);
  });
});

describe('AveragePool', () => {
  CASES.forEach(([shape, o], n) => {
    it(`case ${n}: [${shape}] ${JSON.stringify(o)}, count_include_pad 0 and 1`, async () => {
      const x = Float32Array.from(r.array(numel(shape), -5, 5));
      for (const count of [false, true]) {
        const want = poolRef('avg', x, shape, { ...o, countIncludePad: count });
        const [y] = await runOp('AveragePool', [{ data: x, shape }], poolAttrs(o, count));
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data, want.y, TOL.f32, `avg case ${n} count_include_pad ${count}`);
      }
    });
  });

  it('1-D pooling with ceil_mode and count_include_pad', async () => {
    const x = Float32Array.from(r.array(3 * 2 * 10, -1, 1));
    const [y] = await runOp('AveragePool', [{ data: x, shape: [3, 2, 10] }], {
      kernel_shape: [4],
      strides: [3],
      pads: [1, 1],
      ceil_mode: 1,
      count_include_pad: 1,
    });
    const want = poolRef('avg', x, [3, 2, 1, 10], {
      kernel: [1, 4],
      strides: [1, 3],
      pads: [0, 1, 0, 1],
      ceil: true,
      countIncludePad: true,
    });
    expect(y.shape).toEqual([3, 2, 4]);
    expectClose(y.data, want.y, TOL.f32, 'avg 1-D');
  });

  it('f16 max and average pooling when the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return;
    const [shape, o] = CASES[0];
    const x = Float32Array.from(r.array(numel(shape), -2, 2));
    const [m] = await runOp('MaxPool', [{ data: x, shape, dtype: 'f16' }], poolAttrs(o));
    expectClose(m.data, poolRef('max', x, shape, o).y, TOL.f16, 'f16 max');
    const [a] = await runOp('AveragePool', [{ data: x, shape, dtype: 'f16' }], poolAttrs(o, true));
    expectClose(a.data, poolRef('avg', x, shape, { ...o, countIncludePad: true }).y, TOL.f16, 'f16 avg');
  });
});

describe('3-D MaxPool / AveragePool', () => {
  const r = rng(33);
  // [shape, kernel, strides, dilations, pads, count_include_pad]
  const cases: [number[], number[], number[]?, number[]?, number[]?, boolean?][] = [
    [
      [1, 2, 5, 6, 7],
      [2, 2, 2],
    ],
    [
      [2, 3, 6, 5, 4],
      [3, 2, 2],
      [2, 1, 2],
      [1, 2, 1],
      [1, 0, 1, 1, 1, 0],
    ],
    [[1, 1, 7, 7, 7], [2, 3, 2], [1, 2, 2], [2, 1, 2], [0, 1, 1, 1, 1, 0], true],
  ];
  for (const [shape, kernel, strides, dilations, pads, cip] of cases) {
    for (const kind of ['max', 'avg'] as const) {
      it(`${kind} [${shape}] kernel [${kernel}] strides [${strides ?? ''}] dilations [${dilations ?? ''}] pads [${pads ?? ''}]${cip ? ' count_include_pad' : ''}`, async () => {
        const x = Float32Array.from(
          r.array(
            shape.reduce((a, b) => a * b, 1),
            -5,
            5,
          ),
        );
        const want = pool3dRef(x, shape, kind, kernel, strides, dilations, pads, cip);
        const attrs = {
          kernel_shape: kernel,
          ...(strides ? { strides } : {}),
          ...(dilations ? { dilations } : {}),
          ...(pads ? { pads } : {}),
          ...(cip ? { count_include_pad: 1 } : {}),
        };
        const outs = await runOp(kind === 'max' ? 'MaxPool' : 'AveragePool', [{ data: x, shape }], attrs);
        expect(outs[0].shape).toEqual(want.shape);
        expectClose(outs[0].data, want.y, kind === 'max' ? TOL.exact : TOL.f32, `${kind} 3-D`);
        if (kind === 'max') expect(Array.from(outs[1].data)).toEqual(want.indices);
      });
    }
  }
});

describe('MaxUnpool', () => {
  const r = rng(44);
  /** y = zeros(out); y[I[i]] = X[i] (ONNX: indices flat over the whole output). */
  const unpoolRef = (x: ArrayLike<number>, idx: number[], total: number) => {
    const y = new Array<number>(total).fill(0);
    idx.forEach((j, i) => (y[j] = x[i]));
    return y;
  };
  // [X shape, attrs, output_shape input, the output shape ONNX defines]
  const cases: [number[], Record<string, number[]>, number[] | undefined, number[]][] = [
    [[1, 2, 2, 3], { kernel_shape: [2, 2], strides: [2, 2] }, undefined, [1, 2, 4, 6]],
    [[2, 3, 3, 3], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, undefined, [2, 3, 5, 5]],
    [[1, 2, 3, 3], { kernel_shape: [2, 2], strides: [2, 2] }, [1, 2, 7, 7], [1, 2, 7, 7]], // odd size via output_shape
    [[2, 2, 5], { kernel_shape: [2], strides: [2] }, undefined, [2, 2, 10]], // 1-D
  ];
  for (const [shape, attrs, outShape, want] of cases) {
    it(`X [${shape}] ${JSON.stringify(attrs)}${outShape ? ` output_shape [${outShape}]` : ''}`, async () => {
      const n = numel(shape),
        total = numel(want);
      // distinct random positions of the output, as MaxPool's argmax gives
      const pos = Array.from({ length: total }, (_, i) => i);
      for (let i = total - 1; i > 0; i--) {
        const j = r.int(0, i);
        [pos[i], pos[j]] = [pos[j], pos[i]];
      }
      const idx = pos.slice(0, n);
      const x = Float32Array.from(r.array(n, -4, 4));
      for (const dtype of ['f32', 'f16'] as DType[]) {
        if (dtype === 'f16' && !(await gpu()).info.f16) continue;
        const [y] = await runOp(
          'MaxUnpool',
          [
            { data: x, shape, dtype },
            { data: idx, shape, dtype: 'i32' },
            outShape && { data: outShape, shape: [outShape.length] },
          ],
          attrs,
        );
        expect(y.shape).toEqual(want);
        expectClose(y.data, unpoolRef(x, idx, total), dtype === 'f16' ? TOL.f16 : TOL.exact, `MaxUnpool ${dtype}`);
      }
    });
  }

  it('indices of another shape, output_shape of another batch, missing kernel_shape', async () => {
    const x = { data: new Float32Array(4), shape: [1, 1, 2, 2] };
    const i = (shape: number[]) => ({ data: new Array(numel(shape)).fill(0), shape, dtype: 'i32' as DType });
    await expectError(
      runOp('MaxUnpool', [x, i([1, 1, 4])], { kernel_shape: [2, 2] }),
      'BAD_SHAPE',
      /MaxUnpool: I \[1,1,4\]/,
    );
    await expectError(
      runOp('MaxUnpool', [x, i([1, 1, 2, 2]), { data: [2, 1, 4, 4], shape: [4] }], { kernel_shape: [2, 2] }),
      'BAD_SHAPE',
      /output_shape \[2,1,4,4\]/,
    );
    await expectError(runOp('MaxUnpool', [x, i([1, 1, 2, 2])], {}), 'BAD_ATTRIBUTE', /kernel_shape/);
  });
});

describe('GlobalAveragePool / GlobalMaxPool', () => {
  for (const shape of [
    [2, 3, 5, 7],
    [1, 5, 24, 20],
    [2, 3, 9],
  ]) {
    it(`[${shape}]`, async () => {
      const x = Float32Array.from(r.array(numel(shape), -3, 3));
      const spatial = shape.map((_, d) => d).filter((d) => d >= 2);
      const outShape = shape.map((s, d) => (d < 2 ? s : 1));
      for (const [op, ref] of [
        ['GlobalAveragePool', 'ReduceMean'],
        ['GlobalMaxPool', 'ReduceMax'],
      ]) {
        const [y] = await runOp(op, [{ data: x, shape }]);
        expect(y.shape).toEqual(outShape);
        expectClose(y.data, reduceAll(ref, x, shape, spatial), TOL.f32Reduce, op);
      }
    });
  }
});

describe('pool errors', () => {
  const x = { data: new Float32Array(2 * 8 * 2), shape: [1, 2, 2, 2, 2, 2] };
  it('rejects 4-D pooling, missing kernel_shape, bad attributes, windows that do not fit, integer averages', async () => {
    await expectError(
      runOp('MaxPool', [x], { kernel_shape: [2, 2, 2, 2] }),
      'BAD_SHAPE',
      /MaxPool: input must be .*\[N,C,D,H,W\]/,
    );
    await expectError(
      runOp('AveragePool', [{ data: new Float32Array(16), shape: [1, 1, 4, 4] }]),
      'BAD_ATTRIBUTE',
      /AveragePool: attribute kernel_shape is required/,
    );
    await expectError(
      runOp('MaxPool', [{ data: new Float32Array(16), shape: [1, 1, 4, 4] }], { kernel_shape: [2] }),
      'BAD_ATTRIBUTE',
      /MaxPool: kernel_shape \[2\] must be 2 integers/,
    );
    await expectError(
      runOp('MaxPool', [{ data: new Float32Array(16), shape: [1, 1, 4, 4] }], {
        kernel_shape: [2, 2],
        storage_order: 2,
      }),
      'BAD_ATTRIBUTE',
      /MaxPool: storage_order 2/,
    );
    await expectError(
      runOp('MaxPool', [{ data: new Float32Array(16), shape: [1, 1, 4, 4] }], {
        kernel_shape: [2, 2],
        auto_pad: 'SAME',
      }),
      'BAD_ATTRIBUTE',
      /MaxPool: auto_pad "SAME"/,
    );
    await expectError(
      runOp('AveragePool', [{ data: new Float32Array(16), shape: [1, 1, 4, 4] }], { kernel_shape: [5, 2] }),
      'BAD_SHAPE',
      /AveragePool: window of 5/,
    );
    await expectError(
      runOp('AveragePool', [{ data: new Int32Array(16), shape: [1, 1, 4, 4], dtype: 'i32' }], { kernel_shape: [2, 2] }),
      'UNSUPPORTED_DTYPE',
      /AveragePool: input dtype i32/,
    );
  });
});
