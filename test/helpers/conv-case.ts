// Conv / FusedConv test cases and their f64 reference (test/reference/conv.ts), shared by the conv
// kernel tests (test/kernels/conv*.test.ts, depthwise-variants.test.ts).
import { fromHalf, toHalf } from '../../src/core/dtype';
import { convAxis, convRef, fusedActivation } from '../reference/conv';
import { rng } from './random';

export interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  attrs?: Record<string, number | string | number[]>;
  act?: [string, number[]?];
  z?: boolean;
  /** FusedConv's post_affine [a, b]: y = a * act(x) + b (after a parameterless activation) */
  post?: [number, number];
}

/** Strides, dilations, pads, auto_pad, groups, 1x1 to 7x7, depthwise, FusedConv activations with Z. */
export const CONV_CASES: ConvCase[] = [
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
    (a, i): ConvCase => ({
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
  {
    name: 'FusedConv HardSwish, post_affine',
    x: [1, 5, 6, 7],
    w: [6, 5, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
    act: ['HardSwish'],
    post: [0.7, -0.2],
  },
  { name: 'FusedConv Z, no activation, post_affine', x: [1, 4, 5, 5], w: [3, 4, 1, 1], z: true, post: [-1.5, 0.25] },
  {
    name: 'FusedConv Gelu (a written-out GELU after the conv)',
    x: [1, 5, 7, 6],
    w: [6, 5, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
    act: ['Gelu'],
  },
  { name: 'FusedConv Gelu tanh', x: [1, 3, 6, 6], w: [4, 3, 1, 1], bias: true, act: ['Gelu', [1, 0]] },
  {
    name: 'FusedConv depthwise Mish, post_affine',
    x: [1, 6, 7, 7],
    w: [6, 1, 3, 3],
    bias: true,
    attrs: { group: 6, pads: [1, 1, 1, 1] },
    act: ['Mish'],
    post: [1.3, 0.1],
  },
  {
    name: 'FusedConv Swish (a written-out SiLU after the conv), post_affine',
    x: [1, 5, 6, 6],
    w: [7, 5, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
    act: ['Swish'],
    post: [0.6, 0.05],
  },
];

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Inputs (values in [-1, 1] drawn from `seed`, quantised to f16 for f16 runs), the op (FusedConv
 * when the case has an activation or Z), its attributes and the f64 reference output.
 */
export function convCase(c: ConvCase, seed: number, dtype: 'f32' | 'f16' = 'f32') {
  const r = rng(seed);
  const q = (a: Float64Array) => (dtype === 'f16' ? a.map((v) => fromHalf(toHalf(v))) : a);
  const x = q(r.array(numel(c.x))),
    w = q(r.array(numel(c.w))),
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
  const z = c.z ? q(r.array(numel(oshape))) : undefined;
  const op = c.act || c.z || c.post ? 'FusedConv' : 'Conv';
  const attrs = {
    ...a,
    ...(c.act ? { activation: c.act[0], ...(c.act[1] ? { activation_params: c.act[1] } : {}) } : {}),
    ...(c.post ? { post_affine: c.post } : {}),
  };
  const act = c.act ? fusedActivation(c.act[0], c.act[1]) : (v: number) => v;
  const post = c.post;
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
    activation: post ? (v) => post[0] * act(v) + post[1] : c.act && act,
  });
  const t = (data: Float64Array, shape: number[]) => ({ data, shape, dtype });
  return { op, attrs, want, inputs: [t(x, c.x), t(w, c.w), b && t(b, [c.w[0]]), z && t(z, oshape)] };
}
