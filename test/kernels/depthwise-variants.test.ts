import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf } from '../../src/core/dtype';
import type { Runtime } from '../../src/gpu/runtime';
import { adapters, runOp, variantsOf } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { convAxis, convRef, fusedActivation } from '../reference/conv';

// Every depthwise variant of Conv / FusedConv, forced, on lavapipe and SwiftShader, against the f64 reference.
const VARIANTS = ['depthwise', 'depthwise-flat'];

interface Case {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  z?: boolean;
  attrs?: Record<string, number | string | number[]>;
  act?: [string, number[]?];
}

const cases: Case[] = [
  {
    name: '3x3 pad 1, batch 2, 37 channels, 7x7',
    x: [2, 37, 7, 7],
    w: [37, 1, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
  },
  { name: 'many channels, 8x8 map', x: [1, 96, 8, 8], w: [96, 1, 3, 3], bias: true, attrs: { pads: [1, 1, 1, 1] } },
  {
    name: 'stride 2, asymmetric pads, odd 11x9',
    x: [2, 6, 11, 9],
    w: [6, 1, 3, 3],
    attrs: { strides: [2, 2], pads: [0, 1, 2, 1] },
  },
  {
    name: 'multiplier 2, dilation 2, width 13 (partial quad)',
    x: [1, 5, 10, 13],
    w: [10, 1, 3, 3],
    bias: true,
    attrs: { group: 5, dilations: [2, 2], pads: [2, 2, 2, 2] },
  },
  {
    name: '5x5 SAME_UPPER, stride 2',
    x: [1, 12, 9, 10],
    w: [12, 1, 5, 5],
    attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
  },
  { name: 'width 1, kernel 3x1', x: [2, 3, 5, 1], w: [3, 1, 3, 1], bias: true, attrs: { pads: [1, 0, 1, 0] } },
  {
    name: 'FusedConv relu6 + Z',
    x: [2, 9, 6, 5],
    w: [9, 1, 3, 3],
    bias: true,
    z: true,
    attrs: { pads: [1, 1, 1, 1] },
    act: ['Clip', [0, 0.6]],
  },
  {
    name: 'FusedConv HardSwish, no bias',
    x: [1, 10, 7, 6],
    w: [10, 1, 3, 3],
    attrs: { pads: [1, 1, 1, 1] },
    act: ['HardSwish'],
  },
];

async function check(rt: Runtime, variant: string, c: Case, seed: number, dtype: 'f32' | 'f16') {
  const r = rng(seed);
  const q = (a: Float64Array) => (dtype === 'f16' ? a.map((v) => fromHalf(toHalf(v))) : a);
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const x = q(r.array(n(c.x))),
    w = q(r.array(n(c.w))),
    b = c.bias ? q(r.array(c.w[0])) : undefined;
  const a = c.attrs ?? {};
  const group = (a.group as number | undefined) ?? c.x[1];
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
    group,
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
    group,
    autoPad: ap as 'NOTSET',
    activation: c.act && fusedActivation(c.act[0], c.act[1]),
  });
  const t = (data: Float64Array, shape: number[]) => ({ data, shape, dtype });
  const ins = [t(x, c.x), t(w, c.w), b && t(b, [c.w[0]]), z && t(z, oshape)];
  expect(await variantsOf(op, ins, attrs, rt)).toEqual(expect.arrayContaining(VARIANTS));
  const [y] = await runOp(op, ins, attrs, [], { variant, rt });
  expect(y.shape).toEqual(want.shape);
  expectClose(y.data, want.data, dtype === 'f16' ? TOL.f16 : TOL.f32Reduce, `${variant} ${c.name} ${dtype}`);
}

describe('depthwise Conv variants on both adapters', async () => {
  for (const [name, rt] of await adapters()) {
    for (const variant of VARIANTS) {
      cases.forEach((c, i) =>
        it(`${name} ${variant}: ${c.name}`, async () => {
          await check(rt, variant, c, 500 + i, 'f32');
          if (rt.info.f16) await check(rt, variant, c, 600 + i, 'f16');
        }),
      );
    }
  }

  it('depthwise-flat does not apply to a grouped (non-depthwise) conv', async () => {
    const names = await variantsOf(
      'Conv',
      [
        { data: new Float32Array(2 * 4 * 5 * 5), shape: [2, 4, 5, 5] },
        { data: new Float32Array(4 * 2 * 9), shape: [4, 2, 3, 3] },
      ],
      { group: 2 },
    );
    expect(names).not.toContain('depthwise-flat');
  });
});
