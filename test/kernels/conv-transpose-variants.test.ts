// Every ConvTranspose kernel variant (subgroup where the adapter has subgroups of >= 8, portable,
// direct) forced on the test adapters against the f64 reference: k4 s2 upsampling, odd sizes,
// groups, dilation, output_padding, auto_pad, output_shape, batch, no bias, fused activations,
// randomised configurations, and f16 where the adapter has it.
// adapters() is this process's adapter: `npm test` runs the file on lavapipe and again in the
// 'swiftshader' project (vite.config.ts).
import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf, type DType } from '../../src/core/dtype';
import type { Attrs } from '../../src/core/attrs';
import type { Runtime } from '../../src/gpu/runtime';
import { adapters, runOp, variantsOf } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { convTransposeRef } from '../reference/conv-transpose';

interface Case {
  x: number[]; // N, C, H, W
  w: number[]; // C, M/group, kH, kW
  bias?: boolean;
  attrs?: Attrs;
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const VARIANTS = ['subgroup', 'portable', 'direct'];

async function check(rt: Runtime, variant: string, c: Case, seed: number, dtype: DType = 'f32') {
  const r = rng(seed);
  const q = (v: number) => (dtype === 'f16' ? fromHalf(toHalf(v)) : Math.fround(v));
  const x = Array.from(r.array(numel(c.x)), q);
  const w = Array.from(r.array(numel(c.w)), q);
  const a = c.attrs ?? {};
  const M = c.w[1] * ((a.group as number | undefined) ?? 1);
  const b = c.bias === false ? undefined : Array.from(r.array(M), q);
  const want = convTransposeRef({
    x,
    xShape: c.x,
    w,
    wShape: c.w,
    b,
    group: a.group as number | undefined,
    strides: a.strides as number[] | undefined,
    pads: a.pads as number[] | undefined,
    dilations: a.dilations as number[] | undefined,
    outputPadding: a.output_padding as number[] | undefined,
    outputShape: a.output_shape as number[] | undefined,
    autoPad: a.auto_pad as 'SAME_UPPER' | undefined,
    activation: a.activation as string | undefined,
    activationParams: a.activation_params as [number, number] | undefined,
  });
  const ins = [{ data: x, shape: c.x, dtype }, { data: w, shape: c.w, dtype }, b && { data: b, shape: [M], dtype }];
  const sg = rt.info.subgroups && rt.info.subgroupMinSize >= 8;
  expect(await variantsOf('ConvTranspose', ins, a, rt)).toEqual(sg ? VARIANTS : VARIANTS.slice(1));
  const [y] = await runOp('ConvTranspose', ins, a, [], { variant, rt });
  const label = `${rt.info.adapter} ${variant} ${dtype} x[${c.x}] w[${c.w}] ${JSON.stringify(a)}`;
  expect(y.shape, label).toEqual(want.shape);
  expectClose(y.data, want.data, dtype === 'f16' ? TOL.f16 : TOL.f32Reduce, label);
}

const k4s2 = { strides: [2, 2], pads: [1, 1, 1, 1] };
const cases: [string, Case][] = [
  ['k4 s2 p1 (FCN / U-Net upsampling), odd sizes', { x: [1, 5, 7, 9], w: [5, 7, 4, 4], attrs: k4s2 }],
  [
    'k4 s2, batch 2, more than 12 output channels (two channel blocks)',
    { x: [2, 3, 5, 6], w: [3, 27, 4, 4], attrs: k4s2 },
  ],
  ['groups 3, no bias', { x: [1, 6, 5, 4], w: [6, 3, 3, 3], bias: false, attrs: { group: 3, strides: [2, 2] } }],
  [
    'stride 3 x 2, dilation 2, output_padding, asymmetric pads',
    {
      x: [1, 3, 4, 5],
      w: [3, 4, 3, 2],
      attrs: { strides: [3, 2], dilations: [2, 2], output_padding: [1, 1], pads: [1, 0, 2, 1] },
    },
  ],
  [
    'stride 4 dilation 2 (gcd 2: phases without taps)',
    { x: [1, 2, 4, 4], w: [2, 3, 3, 3], attrs: { strides: [4, 4], dilations: [2, 2] } },
  ],
  ['SAME_LOWER', { x: [1, 3, 5, 5], w: [3, 5, 3, 3], attrs: { strides: [2, 2], auto_pad: 'SAME_LOWER' } }],
  ['output_shape', { x: [1, 2, 4, 5], w: [2, 3, 3, 3], attrs: { strides: [2, 2], output_shape: [9, 10] } }],
  ['1x1 stride 1', { x: [1, 4, 3, 5], w: [4, 6, 1, 1] }],
  [
    'fused LeakyRelu',
    { x: [1, 3, 4, 4], w: [3, 5, 4, 4], attrs: { ...k4s2, activation: 'LeakyRelu', activation_params: [0.2, 0] } },
  ],
  ['fused Clip', { x: [1, 3, 4, 4], w: [3, 5, 3, 3], attrs: { activation: 'Clip', activation_params: [-0.3, 0.4] } }],
];

describe.each(VARIANTS)('ConvTranspose variant %s', (variant) => {
  it('fixed cases on both adapters', async () => {
    for (const [, rt] of await adapters()) {
      if (variant === 'subgroup' && !(rt.info.subgroups && rt.info.subgroupMinSize >= 8)) {
        // not offered here, and forcing it is refused
        const ins = [
          { data: new Float32Array(4), shape: [1, 1, 2, 2] },
          { data: new Float32Array(16), shape: [1, 1, 4, 4] },
        ];
        expect(await variantsOf('ConvTranspose', ins, k4s2, rt)).toEqual(VARIANTS.slice(1));
        await expect(runOp('ConvTranspose', ins, k4s2, [], { variant, rt })).rejects.toThrow(/does not apply/);
        continue;
      }
      for (const [i, [, c]] of cases.entries()) await check(rt, variant, c, 300 + i);
    }
  });

  it('randomised configurations on both adapters', async () => {
    for (const [, rt] of await adapters()) {
      if (variant === 'subgroup' && !(rt.info.subgroups && rt.info.subgroupMinSize >= 8)) continue;
      const r = rng(17);
      for (let t = 0; t < 8; t++) {
        const group = r.pick([1, 1, 2]);
        const k = [r.int(1, 5), r.int(1, 5)],
          s = [r.int(1, 4), r.int(1, 4)],
          d = [r.int(1, 3), r.int(1, 3)];
        const x = [r.int(1, 2), group * r.int(1, 3), r.int(1, 6), r.int(1, 6)];
        const pads = [0, 1, 0, 1].map((i) => r.int(0, Math.floor(((k[i] - 1) * d[i]) / 2)));
        const opad = [0, 1].map((i) => r.int(0, Math.max(s[i], d[i]) - 1));
        const attrs = { group, strides: s, dilations: d, pads, output_padding: opad };
        await check(rt, variant, { x, w: [x[1], r.int(1, 9), ...k], attrs, bias: r.next() < 0.7 }, 500 + t);
      }
    }
  });

  it('f16 where the adapter has it', async () => {
    for (const [, rt] of await adapters()) {
      if (!rt.info.f16) continue;
      await check(rt, variant, cases[0][1], 700, 'f16');
      await check(rt, variant, cases[3][1], 701, 'f16');
    }
  });
});
