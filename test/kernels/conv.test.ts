import { afterAll, describe, expect, it } from 'vitest';
import { fromHalf, toHalf } from '../../src/core/dtype';
import { convTuning } from '../../src/kernels/conv';
import { kernelFor } from '../../src/kernels/registry';
import { gpu, runOp } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { convAxis, convRef, fusedActivation } from '../reference/conv';

afterAll(() => void ((convTuning.subgroups = true), (convTuning.wg = 16), (convTuning.fixedSize = true)));

interface Case {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  attrs?: Record<string, number | string | number[]>;
  act?: [string, number[]?];
  z?: boolean;
}

const cases: Case[] = [
  {
    name: '3x3 pad 1, batch 2, odd channels, bias',
    x: [2, 5, 9, 11],
    w: [7, 5, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
  },
  {
    name: 'stride 2, asymmetric pads, no bias',
    x: [1, 3, 10, 9],
    w: [6, 3, 3, 3],
    attrs: { strides: [2, 2], pads: [0, 1, 2, 1] },
  },
  {
    name: 'stride 3 x 2, dilation 2',
    x: [2, 4, 13, 12],
    w: [5, 4, 3, 3],
    bias: true,
    attrs: { strides: [3, 2], dilations: [2, 2], pads: [2, 1, 2, 3] },
  },
  {
    name: 'dilation 3, SAME_UPPER',
    x: [1, 6, 11, 10],
    w: [9, 6, 3, 3],
    bias: true,
    attrs: { dilations: [3, 3], auto_pad: 'SAME_UPPER' },
  },
  {
    name: 'SAME_LOWER, stride 2, even kernel',
    x: [1, 3, 9, 8],
    w: [4, 3, 2, 4],
    attrs: { strides: [2, 2], auto_pad: 'SAME_LOWER' },
  },
  { name: 'VALID, non-square kernel', x: [2, 3, 8, 9], w: [5, 3, 1, 5], bias: true, attrs: { auto_pad: 'VALID' } },
  { name: 'groups 2', x: [2, 6, 7, 8], w: [10, 3, 3, 3], bias: true, attrs: { group: 2, pads: [1, 1, 1, 1] } },
  {
    name: 'groups 2, 19 channels per group (32-channel tile, partly used)',
    x: [2, 6, 7, 9],
    w: [38, 3, 3, 3],
    bias: true,
    attrs: { group: 2, pads: [1, 2, 1, 0] },
  },
  {
    name: 'groups 3, stride 2',
    x: [1, 9, 9, 9],
    w: [6, 3, 3, 3],
    attrs: { group: 3, strides: [2, 2], pads: [1, 0, 1, 0] },
  },
  {
    name: 'depthwise, stride 2',
    x: [2, 6, 11, 9],
    w: [6, 1, 3, 3],
    bias: true,
    attrs: { group: 6, strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: 'depthwise multiplier 2, dilation 2',
    x: [1, 5, 10, 12],
    w: [10, 1, 3, 3],
    bias: true,
    attrs: { group: 5, dilations: [2, 2], pads: [2, 2, 2, 2] },
  },
  { name: '1x1', x: [2, 13, 5, 7], w: [17, 13, 1, 1], bias: true },
  {
    name: '7x7 stride 2 pad 3',
    x: [1, 3, 19, 17],
    w: [8, 3, 7, 7],
    bias: true,
    attrs: { strides: [2, 2], pads: [3, 3, 3, 3], kernel_shape: [7, 7] },
  },
  {
    name: 'many channels (several workgroup tiles and channel tiles)',
    x: [1, 70, 6, 5],
    w: [300, 70, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
  },
  ...['Relu', 'Clip', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh'].map(
    (a, i): Case => ({
      name: `FusedConv ${a} + Z`,
      x: [2, 5, 6, 7],
      w: [6, 5, 3, 3],
      bias: true,
      z: true,
      attrs: { pads: [1, 1, 1, 1] },
      act: [a, ({ Clip: [0, 0.6], LeakyRelu: [0.2], HardSigmoid: [0.3, 0.4] } as Record<string, number[]>)[a]],
      ...(i === 0 ? {} : {}),
    }),
  ),
  {
    name: 'FusedConv depthwise relu6 + Z',
    x: [1, 7, 9, 8],
    w: [7, 1, 3, 3],
    bias: true,
    z: true,
    attrs: { group: 7, pads: [1, 1, 1, 1] },
    act: ['Clip', [0, 6]],
  },
  { name: 'FusedConv without activation, Z only', x: [1, 4, 5, 5], w: [3, 4, 3, 3], z: true },
];

async function check(c: Case, seed: number, dtype: 'f32' | 'f16' = 'f32') {
  const r = rng(seed);
  const q = (a: Float64Array) => (dtype === 'f16' ? a.map((v) => fromHalf(toHalf(v))) : a);
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const x = q(r.array(n(c.x))),
    w = q(r.array(n(c.w))),
    b = c.bias ? q(r.array(c.w[0])) : undefined;
  const a = c.attrs ?? {};
  const ap = (a.auto_pad as string | undefined) ?? 'NOTSET';
  const p = (a.pads as number[] | undefined) ?? [0, 0, 0, 0];
  const [sh, sw] = (a.strides as number[] | undefined) ?? [1, 1];
  const [dh, dw] = (a.dilations as number[] | undefined) ?? [1, 1];
  const oshape = [
    c.x[0],
    c.w[0],
    convAxis(c.x[2], c.w[2], sh, dh, p[0], p[2], ap).out,
    convAxis(c.x[3], c.w[3], sw, dw, p[1], p[3], ap).out,
  ];
  const z = c.z ? q(r.array(n(oshape))) : undefined;
  const op = c.act || c.z ? 'FusedConv' : 'Conv';
  const attrs = {
    ...a,
    ...(c.act ? { activation: c.act[0], ...(c.act[1] ? { activation_params: c.act[1] } : {}) } : {}),
  };
  const want = convRef({
    x,
    xShape: c.x,
    w,
    wShape: c.w,
    b,
    z,
    strides: [sh, sw],
    dilations: [dh, dw],
    pads: p,
    group: (a.group as number) ?? 1,
    autoPad: ap as 'NOTSET',
    activation: c.act && fusedActivation(c.act[0], c.act[1]),
  });
  const t = (data: Float64Array, shape: number[]) => ({ data, shape, dtype });
  const [y] = await runOp(op, [t(x, c.x), t(w, c.w), b && t(b, [c.w[0]]), z && t(z, oshape)], attrs);
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
    expect(infer('FusedConv', [x, w], { activation: 'Gelu' })).toThrow(/unsupported fused activation "Gelu"/);
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
