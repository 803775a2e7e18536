import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf } from '../../src/core/dtype';
import type { Runtime } from '../../src/gpu/runtime';
import { adapters, runOp, variantsOf } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { reduceAll, softmaxRef } from '../reference/softmax';

// Every variant of Softmax / LogSoftmax and Reduce*, forced, on lavapipe and SwiftShader, against the f64 references.
const VARIANTS = ['split', 'segmented'];
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

// [shape, axis]: short rows (1-8 lanes a row), long rows (32 lanes), a middle axis (strided rows), rows not a multiple of the rows per workgroup
const SOFTMAX: [number[], number][] = [
  [[5, 7], -1],
  [[37, 21], 1],
  [[3, 530], -1],
  [[2, 3, 5, 6], 1],
  [[2, 70, 3], 1],
  [[4, 1], -1],
];

// [op, shape, axes]: one trailing axis, several axes, all axes (axes []), a row of one element
const REDUCE: [string, number[], number[]][] = [
  ['ReduceMean', [9, 301], [-1]],
  ['ReduceSum', [2, 3, 5, 6], [1, 3]],
  ['ReduceMax', [2, 37, 9], [0, 2]],
  ['ReduceMin', [13, 5], [0]],
  ['ReduceLogSumExp', [3, 70], [1]],
  ['ReduceL2', [4, 17, 3], [1]],
  ['ReduceSumSquare', [6, 11], []],
  ['ReduceMean', [7, 1], [1]],
];

const quant = (a: Float32Array, dtype: string) => (dtype === 'f16' ? a.map((v) => fromHalf(toHalf(v))) : a);

async function softmaxCase(
  rt: Runtime,
  variant: string,
  op: string,
  shape: number[],
  axis: number,
  seed: number,
  dtype: 'f32' | 'f16',
) {
  const x = quant(Float32Array.from(rng(seed).array(numel(shape), -4, 4)), dtype);
  const a = axis < 0 ? axis + shape.length : axis;
  const [y] = await runOp(op, [{ data: x, shape, dtype }], { axis }, [], { variant, rt });
  expect(y.shape).toEqual(shape);
  const tol = dtype === 'f16' ? TOL.f16 : TOL.f32Reduce;
  expectClose(
    y.data,
    softmaxRef(x, shape, [a], op === 'LogSoftmax'),
    tol,
    `${variant} ${op} [${shape}] axis ${axis} ${dtype}`,
  );
}

async function reduceCase(
  rt: Runtime,
  variant: string,
  op: string,
  shape: number[],
  axes: number[],
  seed: number,
  dtype: 'f32' | 'f16',
) {
  const positive = op === 'ReduceL2' || op === 'ReduceLogSumExp';
  const x = quant(Float32Array.from(rng(seed).array(numel(shape), positive ? 0 : -3, 3)), dtype);
  const all = axes.length === 0 ? shape.map((_, d) => d) : axes.map((d) => (d < 0 ? d + shape.length : d));
  const ins = [{ data: x, shape, dtype }];
  expect(await variantsOf(op, ins, { axes }, rt)).toEqual(VARIANTS);
  const [y] = await runOp(op, ins, { axes, keepdims: 0 }, [], { variant, rt });
  expect(y.shape).toEqual(shape.filter((_, d) => !all.includes(d)));
  const tol = dtype === 'f16' ? TOL.f16 : TOL.f32Reduce;
  expectClose(y.data, reduceAll(op, x, shape, all), tol, `${variant} ${op} [${shape}] axes [${axes}] ${dtype}`);
}

describe('Softmax / Reduce variants on both adapters', async () => {
  for (const [name, rt] of await adapters()) {
    for (const variant of VARIANTS) {
      it(`${name} ${variant}: Softmax and LogSoftmax`, async () => {
        for (const op of ['Softmax', 'LogSoftmax'])
          for (const [i, [shape, axis]] of SOFTMAX.entries()) {
            await softmaxCase(rt, variant, op, shape, axis, 700 + i, 'f32');
            if (rt.info.f16) await softmaxCase(rt, variant, op, shape, axis, 720 + i, 'f16');
          }
      });
      it(`${name} ${variant}: Reduce*`, async () => {
        for (const [i, [op, shape, axes]] of REDUCE.entries()) {
          await reduceCase(rt, variant, op, shape, axes, 800 + i, 'f32');
          if (rt.info.f16) await reduceCase(rt, variant, op, shape, axes, 820 + i, 'f16');
        }
      });
    }
  }

  it('segmented softmax: large and equal values (online rescaling, empty lanes)', async () => {
    const [, rt] = (await adapters())[0];
    const shape = [3, 40];
    const x = Float32Array.from({ length: 120 }, (_, i) => (i < 40 ? 80 + (i % 7) * 3 : i < 80 ? 5 : -60 + i));
    const [y] = await runOp('Softmax', [{ data: x, shape }], { axis: -1 }, [], { variant: 'segmented', rt });
    expectClose(y.data, softmaxRef(x, shape, [1]), TOL.f32Reduce, 'large values');
  });
});
