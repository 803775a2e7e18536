import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf } from '../../src/core/dtype';
import type { Runtime } from '../../src/gpu/runtime';
import { adapters, runOp, variantsOf } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { poolAttrs, poolRef, type PoolOpts } from '../reference/pool';
import { reduceAll } from '../reference/softmax';

// Every variant of the pooling family, forced, on lavapipe and SwiftShader, against the f64 references.
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const quant = (a: Float32Array, dtype: string) => (dtype === 'f16' ? a.map((v) => fromHalf(toHalf(v))) : a);

// 3x3 stride 1 and 2 (overlapping windows), 2x2 stride 2, strides above the kernel, pads, ceil_mode,
// SAME/VALID, row dilation, odd widths (partial quads of 4), batch 2, many channels
const WINDOWED: [number[], PoolOpts][] = [
  [[2, 19, 9, 11], { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
  [[1, 5, 8, 13], { kernel: [3, 3], pads: [1, 1, 1, 1] }],
  [[2, 3, 7, 9], { kernel: [2, 2], strides: [2, 2], ceil: true }],
  [[1, 4, 10, 17], { kernel: [2, 3], strides: [1, 5], pads: [0, 1, 2, 0], dilations: [2, 1] }],
  [[2, 3, 7, 8], { kernel: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil: true }],
  [[1, 3, 2, 2], { kernel: [3, 3], strides: [3, 3], pads: [1, 1, 1, 1], ceil: true }],
  [[2, 3, 6, 9], { kernel: [3, 4], strides: [2, 2], autoPad: 'SAME_UPPER' }],
  [[1, 3, 7, 6], { kernel: [4, 3], strides: [3, 1], autoPad: 'SAME_LOWER' }],
  [[1, 2, 9, 10], { kernel: [3, 3], strides: [2, 2], autoPad: 'VALID' }],
  [[1, 2, 5, 1], { kernel: [2, 1], pads: [1, 0, 0, 0] }],
];

async function windowed(
  rt: Runtime,
  variant: string,
  shape: number[],
  o: PoolOpts,
  seed: number,
  dtype: 'f32' | 'f16',
) {
  const x = quant(Float32Array.from(rng(seed).array(numel(shape), -5, 5)), dtype);
  const tol = dtype === 'f16' ? TOL.f16 : TOL.f32Reduce;
  const label = `${variant} [${shape}] ${JSON.stringify(o)} ${dtype}`;
  for (const columnMajor of [false, true]) {
    const want = poolRef('max', x, shape, { ...o, columnMajor });
    const [y, idx] = await runOp('MaxPool', [{ data: x, shape, dtype }], poolAttrs({ ...o, columnMajor }), [], {
      variant,
      rt,
    });
    expect(y.shape).toEqual(want.shape);
    expectClose(y.data, want.y, TOL.exact, `max ${label}`);
    expect(Array.from(idx.data), `indices ${label}`).toEqual(want.idx);
  }
  for (const count of [false, true]) {
    const want = poolRef('avg', x, shape, { ...o, countIncludePad: count });
    const [y] = await runOp('AveragePool', [{ data: x, shape, dtype }], poolAttrs(o, count), [], { variant, rt });
    expect(y.shape).toEqual(want.shape);
    expectClose(y.data, want.y, tol, `avg count_include_pad=${count} ${label}`);
  }
}

// rank 4 small maps with many channels, a long plane, rank 3 and 5, 1x1 planes, batch 2
const GLOBAL: number[][] = [
  [2, 37, 7, 7],
  [1, 96, 8, 8],
  [1, 3, 45, 47],
  [2, 5, 300],
  [1, 3, 2, 3, 4],
  [2, 9, 1, 1],
];

async function global(rt: Runtime, variant: string, op: string, shape: number[], seed: number, dtype: 'f32' | 'f16') {
  const x = quant(Float32Array.from(rng(seed).array(numel(shape), -3, 3)), dtype);
  const [y] = await runOp(op, [{ data: x, shape, dtype }], {}, [], { variant, rt });
  expect(y.shape).toEqual(shape.map((s, d) => (d < 2 ? s : 1)));
  const spatial = shape.map((_, d) => d).slice(2);
  const want = reduceAll(op === 'GlobalMaxPool' ? 'ReduceMax' : 'ReduceMean', x, shape, spatial);
  expectClose(y.data, want, dtype === 'f16' ? TOL.f16 : TOL.f32Reduce, `${variant} ${op} [${shape}] ${dtype}`);
}

describe('pooling variants on both adapters', async () => {
  for (const [name, rt] of await adapters()) {
    for (const variant of ['window', 'row4']) {
      it(`${name} ${variant}: MaxPool (+ indices) and AveragePool`, async () => {
        for (const [i, [shape, o]] of WINDOWED.entries()) {
          await windowed(rt, variant, shape, o, 900 + i, 'f32');
          if (rt.info.f16) await windowed(rt, variant, shape, o, 920 + i, 'f16');
        }
      });
      it(`${name} ${variant}: 1-D pools and integer MaxPool`, async () => {
        const x = Float32Array.from(rng(31).array(2 * 3 * 11, -1, 1));
        const attrs = { kernel_shape: [3], strides: [2], pads: [1, 1] };
        const [y] = await runOp('MaxPool', [{ data: x, shape: [2, 3, 11] }], { ...attrs, __outputs: 1 }, [], {
          variant,
          rt,
        });
        expect(y.shape).toEqual([2, 3, 6]);
        const want = poolRef('max', x, [2, 3, 1, 11], { kernel: [1, 3], strides: [1, 2], pads: [0, 1, 0, 1] });
        expectClose(y.data, want.y, TOL.exact, `1-D ${variant}`);
        const shape = [2, 3, 6, 9];
        const ints = Array.from({ length: numel(shape) }, (_, i) => (i * 7919) % 5); // ties: first index wins
        const o: PoolOpts = { kernel: [3, 3], strides: [1, 2], pads: [1, 1, 0, 1] };
        for (const dtype of ['i32', 'u32'] as const) {
          const [yi, idx] = await runOp('MaxPool', [{ data: ints, shape, dtype }], poolAttrs(o), [], { variant, rt });
          expect(Array.from(yi.data), dtype).toEqual(poolRef('max', ints, shape, o).y);
          expect(Array.from(idx.data), dtype).toEqual(poolRef('max', ints, shape, o).idx);
        }
      });
    }
    for (const variant of ['planes', 'reduce']) {
      it(`${name} ${variant}: GlobalAveragePool and GlobalMaxPool`, async () => {
        for (const op of ['GlobalAveragePool', 'GlobalMaxPool'])
          for (const [i, shape] of GLOBAL.entries()) {
            await global(rt, variant, op, shape, 950 + i, 'f32');
            if (rt.info.f16) await global(rt, variant, op, shape, 970 + i, 'f16');
          }
      });
    }
  }

  it('row4 applies only with unit width dilation; both global variants always apply', async () => {
    const x = { data: new Float32Array(2 * 3 * 9 * 9), shape: [2, 3, 9, 9] };
    expect(await variantsOf('MaxPool', [x], { kernel_shape: [3, 3], dilations: [1, 2] })).toEqual(['window']);
    expect(await variantsOf('AveragePool', [x], { kernel_shape: [3, 3], dilations: [2, 1] })).toEqual([
      'window',
      'row4',
    ]);
    expect(await variantsOf('GlobalAveragePool', [x])).toEqual(['planes', 'reduce']);
  });
});
