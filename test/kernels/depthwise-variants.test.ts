import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/gpu/runtime';
import { adapters, runOp, variantsOf } from '../helpers/gpu';
import { TOL, expectClose } from '../helpers/tolerance';
import { type ConvCase, convCase } from '../helpers/conv-case';

// Every depthwise variant of Conv / FusedConv, forced, on lavapipe and SwiftShader, against the f64 reference.
const VARIANTS = ['depthwise', 'depthwise-flat'];

type Case = ConvCase;

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
  // depthwise: one group per input channel unless the case says otherwise
  const { op, attrs, want, inputs: ins } = convCase({ ...c, attrs: { group: c.x[1], ...c.attrs } }, seed, dtype);
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
