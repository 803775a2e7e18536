import { afterAll, describe, expect, it } from 'vitest';
import { convTuning } from '../../src/kernels/conv';
import { kernelFor } from '../../src/kernels/registry';
import { gpu, runOp } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { CONV_CASES, type ConvCase, convCase } from '../helpers/conv-case';

afterAll(() => void ((convTuning.subgroups = true), (convTuning.wg = 16), (convTuning.fixedSize = true)));

type Case = ConvCase;
const cases = CONV_CASES;

async function check(c: Case, seed: number, dtype: 'f32' | 'f16' = 'f32') {
  const { op, attrs, want, inputs } = convCase(c, seed, dtype);
  const [y] = await runOp(op, inputs, attrs);
  expect(y.shape).toEqual(want.shape);
  expectClose(y.data, want.data, dtype === 'f16' ? TOL.f16 : TOL.f32Reduce, `${c.name} ${dtype}`);
}

describe('Conv / FusedConv (implicit GEMM, subgroup variant where available)', () => {
  cases.forEach((c, i) => it(c.name, () => check(c, 100 + i)));
});

describe('Conv portable variant (no subgroups)', () => {
  const some = cases.filter((c) => /pad 1, batch|stride 3|groups 3|7x7|many channels|LeakyRelu/.test(c.name));
  some.forEach((c, i) =>
    it(c.name, async () => {
      convTuning.subgroups = false;
      try {
        await check(c, 300 + i);
      } finally {
        convTuning.subgroups = true;
      }
    }),
  );
});

describe('Conv subgroup kernel, other workgroup sizes (override WG)', () => {
  // 16-channel tiles only: every WG value is another pipeline, and the 32-channel one compiles slowly
  const some = cases.filter((c) => /pad 1, batch|groups 2, stride|groups 2$/.test(c.name));
  for (const wg of [8, 32]) {
    some.forEach((c, i) =>
      it(`WG ${wg}: ${c.name}`, async () => {
        convTuning.wg = wg;
        try {
          await check(c, 400 + wg + i);
        } finally {
          convTuning.wg = 16;
        }
      }),
    );
  }
});

describe('Conv subgroup kernel, kernel size from the uniforms (3x3 / 1x1 pipelines off)', () => {
  // the same pipelines as the other kernel sizes with 16-channel tiles: no extra compile
  const some = cases.filter((c) => /pad 1, batch|dilation 3|^1x1|groups 3/.test(c.name));
  some.forEach((c, i) =>
    it(c.name, async () => {
      convTuning.fixedSize = false;
      try {
        await check(c, 500 + i);
      } finally {
        convTuning.fixedSize = true;
      }
    }),
  );
});

describe('Conv f16', () => {
  const some = cases.filter((c) => /pad 1, batch|dilation 2|groups 2|multiplier|HardSwish|7x7/.test(c.name));
  some.forEach((c, i) =>
    it(c.name, async () => {
      if (!(await gpu()).info.f16) return expect((await gpu()).info.f16).toBe(false);
      await check(c, 200 + i, 'f16');
    }),
  );
});

describe('Conv errors', () => {
  const x = { shape: [1, 4, 5, 5], dtype: 'f32' as const };
  const w = { shape: [6, 4, 3, 3], dtype: 'f32' as const };
  const infer =
    (op: string, ins: { shape: number[]; dtype: 'f32' | 'f16' | 'i32' }[], attrs: Record<string, unknown> = {}) =>
    () =>
      kernelFor(op).infer(ins, attrs as never, []);
  it('rejects bad shapes and attributes with a named reason', () => {
    expect(infer('Conv', [x, { shape: [6, 3, 3, 3], dtype: 'f32' }])).toThrow(/Conv: group 1 does not fit/);
    expect(infer('Conv', [x, w], { group: 3 })).toThrow(expect.objectContaining({ code: 'BAD_SHAPE' }));
    expect(infer('Conv', [x, w], { strides: [0, 1] })).toThrow(/Conv: strides \[0,1\] must be 2 integers >= 1/);
    expect(infer('Conv', [x, w], { pads: [1, 1] })).toThrow(expect.objectContaining({ code: 'BAD_ATTRIBUTE' }));
    expect(infer('Conv', [x, w], { auto_pad: 'SAME' })).toThrow(/auto_pad "SAME"/);
    expect(infer('Conv', [x, w], { kernel_shape: [5, 5] })).toThrow(/kernel_shape \[5,5\] does not match/);
    expect(infer('Conv', [{ shape: [1, 4, 2, 2], dtype: 'f32' }, w])).toThrow(
      /height 2 with pads 0\+0 is smaller than the dilated kernel 3/,
    );
    expect(infer('Conv', [x, w, { shape: [5], dtype: 'f32' }])).toThrow(/B \[5\] must be \[6\]/);
    expect(infer('FusedConv', [x, w, undefined as never, { shape: [1, 6, 5, 5], dtype: 'f32' }])).toThrow(
      /Z \[1,6,5,5\] must match the output \[1,6,3,3\]/,
    );
    expect(infer('FusedConv', [x, w], { activation: 'Softsign' })).toThrow(/unsupported fused activation "Softsign"/);
  });
  it('rejects 1-D / 3-D convolutions and non-float dtypes', () => {
    expect(
      infer('Conv', [
        { shape: [1, 4, 5], dtype: 'f32' },
        { shape: [6, 4, 3], dtype: 'f32' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OP', message: expect.stringMatching(/only 2-D.*1-D/) }));
    expect(
      infer('Conv', [
        { shape: [1, 4, 5, 5, 5], dtype: 'f32' },
        { shape: [6, 4, 3, 3, 3], dtype: 'f32' },
      ]),
    ).toThrow(/3-D/);
    expect(infer('Conv', [{ ...x, dtype: 'i32' }, w])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_DTYPE' }));
    expect(infer('Conv', [x, { ...w, dtype: 'f16' }])).toThrow(/W dtype f16 differs from X dtype f32/);
  });
});

describe('Conv performance shape (sampled check)', () => {
  it('3x3 64->64 at 1x64x128x128 pad 1, 400 sampled outputs', async () => {
    const r = rng(7);
    const [C, H, W, M] = [64, 128, 128, 64];
    const x = r.array(C * H * W),
      w = r.array(M * C * 9),
      b = r.array(M);
    const [y] = await runOp(
      'Conv',
      [
        { data: x, shape: [1, C, H, W] },
        { data: w, shape: [M, C, 3, 3] },
        { data: b, shape: [M] },
      ],
      { pads: [1, 1, 1, 1] },
    );
    const got: number[] = [],
      want: number[] = [];
    for (let s = 0; s < 400; s++) {
      // corners and edges often, interior otherwise
      const m = r.int(0, M - 1),
        oh = s % 4 === 0 ? r.pick([0, H - 1]) : r.int(0, H - 1),
        ow = s % 3 === 0 ? r.pick([0, W - 1]) : r.int(0, W - 1);
      let v = b[m];
      for (let c = 0; c < C; c++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            const ih = oh - 1 + i,
              iw = ow - 1 + j;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W)
              v += x[(c * H + ih) * W + iw] * w[((m * C + c) * 3 + i) * 3 + j];
          }
      got.push(y.data[(m * H + oh) * W + ow]);
      want.push(v);
    }
    expectClose(got, want, TOL.f32Reduce, 'perf shape');
  });
});
