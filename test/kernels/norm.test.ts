import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import type { DType } from '../../src/core/dtype';
import { gpu, runOp } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { batchNormRef, batchNormTrainRef, groupNormRef, instanceNormRef, layerNormRef } from '../reference/norm';

const r = rng(21);
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function expectError(p: Promise<unknown>, code: string, pattern: RegExp) {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WgsegError);
  expect((e as WgsegError).code).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

describe('BatchNormalization (inference)', () => {
  for (const shape of [
    [2, 3, 5, 7],
    [1, 5, 4, 9],
    [3, 6],
    [2, 7, 11],
  ]) {
    it(`[${shape}]`, async () => {
      const c = shape[1];
      const x = Float32Array.from(r.array(numel(shape), -4, 4));
      const [scale, b, mean] = [r.array(c, -2, 2), r.array(c, -1, 1), r.array(c, -1, 1)].map((a) =>
        Float32Array.from(a),
      );
      const variance = Float32Array.from(r.array(c, 0.05, 3));
      const epsilon = r.pick([1e-5, 1e-2]);
      const p = (data: Float32Array) => ({ data, shape: [c] });
      const [y] = await runOp('BatchNormalization', [{ data: x, shape }, p(scale), p(b), p(mean), p(variance)], {
        epsilon,
      });
      expectClose(y.data, batchNormRef(x, shape, scale, b, mean, variance, epsilon), TOL.f32Reduce, `[${shape}]`);
    });
  }

  it('f16 X with f32 or f16 per-channel tensors when the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return;
    const shape = [2, 3, 4, 5];
    const x = Float32Array.from(r.array(numel(shape), -2, 2));
    const [scale, b, mean] = [r.array(3), r.array(3), r.array(3)].map((a) => Float32Array.from(a));
    const variance = Float32Array.from(r.array(3, 0.5, 2));
    for (const pd of ['f32', 'f16'] as DType[]) {
      const p = (data: Float32Array) => ({ data, shape: [3], dtype: pd });
      const [y] = await runOp('BatchNormalization', [
        { data: x, shape, dtype: 'f16' },
        p(scale),
        p(b),
        p(mean),
        p(variance),
      ]);
      expectClose(y.data, batchNormRef(x, shape, scale, b, mean, variance, 1e-5), TOL.f16, `f16 X, ${pd} params`);
    }
  });

  for (const shape of [
    [2, 3, 5, 7],
    [4, 5],
    [1, 2, 30, 20],
  ]) {
    it(`training_mode=1 [${shape}]: batch statistics, running_mean / running_var outputs`, async () => {
      const c = shape[1];
      const x = Float32Array.from(r.array(numel(shape), -4, 6));
      const [scale, b, mean] = [r.array(c, -2, 2), r.array(c, -1, 1), r.array(c, -1, 1)].map((a) =>
        Float32Array.from(a),
      );
      const variance = Float32Array.from(r.array(c, 0.05, 3));
      const momentum = r.pick([0.9, 0.3]);
      const p = (data: Float32Array) => ({ data, shape: [c] });
      const outs = await runOp('BatchNormalization', [{ data: x, shape }, p(scale), p(b), p(mean), p(variance)], {
        training_mode: 1,
        momentum,
        epsilon: 1e-3,
      });
      const want = batchNormTrainRef(x, shape, scale, b, mean, variance, 1e-3, momentum);
      expect(outs.map((o) => o.shape)).toEqual([shape, [c], [c]]);
      expectClose(outs[0].data, want.y, TOL.f32Reduce, 'Y');
      expectClose(outs[1].data, want.runningMean, TOL.f32Reduce, 'running_mean');
      expectClose(outs[2].data, want.runningVar, TOL.f32Reduce, 'running_var');
    });
  }

  it('rejects spatial=0, mismatched channel tensors and integer input', async () => {
    const p = { data: [1, 1], shape: [2] };
    const x = { data: new Float32Array(8), shape: [1, 2, 2, 2] };
    await expectError(
      runOp('BatchNormalization', [x, p, p, p, p], { spatial: 0 }),
      'BAD_ATTRIBUTE',
      /BatchNormalization: spatial=0/,
    );
    await expectError(
      runOp('BatchNormalization', [x, p, p, { data: [0, 0, 0], shape: [3] }, p]),
      'BAD_SHAPE',
      /BatchNormalization: input_mean must be \[2\]/,
    );
    await expectError(
      runOp('BatchNormalization', [{ ...x, dtype: 'i32' }, p, p, p, p]),
      'UNSUPPORTED_DTYPE',
      /BatchNormalization: X dtype i32/,
    );
  });
});

describe('InstanceNormalization', () => {
  for (const shape of [
    [2, 3, 5, 7],
    [1, 5, 17, 19],
    [3, 2, 9],
    [1, 3, 1, 1],
  ]) {
    it(`[${shape}]`, async () => {
      const c = shape[1];
      const x = Float32Array.from(r.array(numel(shape), -3, 5));
      const scale = Float32Array.from(r.array(c, -2, 2)),
        b = Float32Array.from(r.array(c, -1, 1));
      const epsilon = r.pick([1e-5, 1e-2]);
      const [y] = await runOp(
        'InstanceNormalization',
        [
          { data: x, shape },
          { data: scale, shape: [c] },
          { data: b, shape: [c] },
        ],
        { epsilon },
      );
      expectClose(y.data, instanceNormRef(x, shape, scale, b, epsilon), TOL.f32Reduce, `[${shape}]`);
    });
  }

  it('large offset (two-pass variance) and f16 when supported', async () => {
    const shape = [1, 2, 30, 30];
    const x = Float32Array.from(r.array(1800, 1000, 1001));
    const one = { data: [1, 1], shape: [2] },
      zero = { data: [0, 0], shape: [2] };
    const [y] = await runOp('InstanceNormalization', [{ data: x, shape }, one, zero]);
    expectClose(y.data, instanceNormRef(x, shape, [1, 1], [0, 0], 1e-5), { abs: 2e-3, rel: 2e-3 }, 'offset');
    if (!(await gpu()).info.f16) return;
    const xs = Float32Array.from(r.array(1800, -2, 2));
    const [h] = await runOp('InstanceNormalization', [
      { data: xs, shape, dtype: 'f16' },
      { ...one, dtype: 'f16' },
      { ...zero, dtype: 'f16' },
    ]);
    expectClose(h.data, instanceNormRef(xs, shape, [1, 1], [0, 0], 1e-5), TOL.f16, 'f16');
  });

  it('rejects a [N,C] input and a wrong scale shape', async () => {
    const p = { data: [1, 1], shape: [2] };
    await expectError(
      runOp('InstanceNormalization', [{ data: [1, 2, 3, 4], shape: [2, 2] }, p, p]),
      'BAD_SHAPE',
      /InstanceNormalization: X must be \[N,C,D1,...\]/,
    );
    await expectError(
      runOp('InstanceNormalization', [{ data: new Float32Array(8), shape: [1, 2, 4] }, { data: [1], shape: [1] }, p]),
      'BAD_SHAPE',
      /InstanceNormalization: scale must be \[2\]/,
    );
  });
});

describe('LayerNormalization', () => {
  // [X shape, axis, Scale shape, B shape (null: none)]
  const cases: [number[], number, number[], number[] | null][] = [
    [[2, 5, 7], -1, [7], [7]],
    [[2, 3, 4, 5], 1, [3, 4, 5], [3, 4, 5]],
    [[3, 6, 5], -2, [6, 5], null],
    [[2, 4, 5], -2, [1, 5], [5]],
    [[3, 7], 0, [3, 7], [1]],
    [[2, 3, 1000], 2, [1000], [1000]],
    [[4, 9], -1, [], []],
  ];
  for (const [shape, axis, ss, bs] of cases) {
    it(`[${shape}] axis ${axis}, Scale [${ss}], B ${bs ? `[${bs}]` : 'none'}`, async () => {
      const x = Float32Array.from(r.array(numel(shape), -3, 5));
      const scale = { data: Float32Array.from(r.array(numel(ss), -2, 2)), shape: ss };
      const b = bs ? { data: Float32Array.from(r.array(numel(bs), -1, 1)), shape: bs } : undefined;
      const epsilon = r.pick([1e-5, 1e-3]);
      const [y] = await runOp('LayerNormalization', [{ data: x, shape }, scale, b], { axis, epsilon });
      expect(y.shape).toEqual(shape);
      expectClose(y.data, layerNormRef(x, shape, axis, scale, b, epsilon).y, TOL.f32Reduce, `[${shape}] axis ${axis}`);
    });
  }

  it('Mean and InvStdDev outputs: X dims before axis, 1s after', async () => {
    const shape = [2, 3, 4, 5];
    const x = Float32Array.from(r.array(numel(shape), -3, 5));
    const scale = { data: Float32Array.from(r.array(20)), shape: [4, 5] };
    const [y, mean, inv] = await runOp('LayerNormalization', [{ data: x, shape }, scale], { axis: -2 });
    const ref = layerNormRef(x, shape, -2, scale, undefined, 1e-5);
    expect(mean.shape).toEqual([2, 3, 1, 1]);
    expect(inv.shape).toEqual([2, 3, 1, 1]);
    expectClose(y.data, ref.y, TOL.f32Reduce, 'Y');
    expectClose(mean.data, ref.mean, TOL.f32Reduce, 'Mean');
    expectClose(inv.data, ref.invStd, TOL.f32Reduce, 'InvStdDev');
  });

  it('f16 X and Scale/B when the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return;
    const shape = [3, 4, 24];
    const x = Float32Array.from(r.array(numel(shape), -2, 2));
    const scale = { data: Float32Array.from(r.array(24)), shape: [24], dtype: 'f16' as DType };
    const b = { data: Float32Array.from(r.array(24)), shape: [24], dtype: 'f16' as DType };
    const [y] = await runOp('LayerNormalization', [{ data: x, shape, dtype: 'f16' }, scale, b]);
    expectClose(y.data, layerNormRef(x, shape, -1, scale, b, 1e-5).y, TOL.f16, 'f16');
  });

  it('bad axis, Scale shape or stash_type throw naming the op', async () => {
    const x = { data: new Float32Array(10), shape: [2, 5] };
    await expectError(
      runOp('LayerNormalization', [x, { data: new Float32Array(4), shape: [4] }]),
      'BAD_SHAPE',
      /LayerNormalization: Scale \[4\] does not broadcast to the normalised dims \[5\]/,
    );
    await expectError(
      runOp('LayerNormalization', [x, { data: new Float32Array(5), shape: [5] }], { axis: 2 }),
      'BAD_ATTRIBUTE',
      /LayerNormalization: axis 2 out of range/,
    );
    await expectError(
      runOp('LayerNormalization', [x, { data: new Float32Array(5), shape: [5] }], { stash_type: 10 }),
      'BAD_ATTRIBUTE',
      /stash_type/,
    );
  });
});

describe('GroupNormalization', () => {
  // [X shape, num_groups, per channel (opset 21) or per group (opset 18)]
  const cases: [number[], number, boolean][] = [
    [[2, 6, 4, 5], 3, false],
    [[2, 6, 4, 5], 3, true],
    [[1, 8, 7, 3], 1, true],
    [[2, 5, 3, 3], 5, false],
    [[3, 4, 7], 2, true],
    [[1, 4, 30, 20], 2, true],
  ];
  for (const [shape, groups, perChannel] of cases) {
    it(`[${shape}] num_groups ${groups}, scale/bias per ${perChannel ? 'channel' : 'group'}`, async () => {
      const k = perChannel ? shape[1] : groups;
      const x = Float32Array.from(r.array(numel(shape), -4, 6));
      const [scale, b] = [r.array(k, -2, 2), r.array(k, -1, 1)].map((a) => Float32Array.from(a));
      const epsilon = r.pick([1e-5, 1e-2]);
      const [y] = await runOp(
        'GroupNormalization',
        [
          { data: x, shape },
          { data: scale, shape: [k] },
          { data: b, shape: [k] },
        ],
        { num_groups: groups, epsilon },
      );
      expectClose(y.data, groupNormRef(x, shape, groups, scale, b, epsilon), TOL.f32Reduce, `[${shape}] G=${groups}`);
    });
  }

  it('f16 when the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return;
    const shape = [2, 6, 5, 5];
    const x = Float32Array.from(r.array(numel(shape), -2, 2));
    const [scale, b] = [r.array(6), r.array(6)].map((a) => Float32Array.from(a));
    const p = (data: Float32Array) => ({ data, shape: [6], dtype: 'f16' as DType });
    const [y] = await runOp('GroupNormalization', [{ data: x, shape, dtype: 'f16' }, p(scale), p(b)], {
      num_groups: 2,
    });
    expectClose(y.data, groupNormRef(x, shape, 2, scale, b, 1e-5), TOL.f16, 'f16');
  });

  it('num_groups that does not divide C, and scale of another length, throw', async () => {
    const x = { data: new Float32Array(24), shape: [1, 6, 4] };
    const p = (n: number) => ({ data: new Float32Array(n), shape: [n] });
    await expectError(runOp('GroupNormalization', [x, p(4), p(4)], { num_groups: 4 }), 'BAD_ATTRIBUTE', /num_groups 4/);
    await expectError(
      runOp('GroupNormalization', [x, p(4), p(4)], { num_groups: 3 }),
      'BAD_SHAPE',
      /\[3\] \(per group/,
    );
  });
});
