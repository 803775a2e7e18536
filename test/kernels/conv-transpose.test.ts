import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { fromHalf, toHalf, type DType } from '../../src/core/dtype';
import { convTransposeTuning } from '../../src/kernels/conv-transpose';
import { kernelFor } from '../../src/kernels/registry';
import type { Attrs } from '../../src/core/attrs';
import { gpu, runOp } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose, type Tol } from '../helpers/tolerance';
import { convTransposeRef, type ConvTransposeRefArgs } from '../reference/conv-transpose';

interface Case {
  x: number[]; // N, C, H, W
  w: number[]; // C, M/group, kH, kW
  bias?: boolean;
  group?: number;
  kernel_shape?: number[];
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  output_padding?: number[];
  output_shape?: number[];
  auto_pad?: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  activation?: string;
  activation_params?: [number, number];
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Random X, W, B; runs the kernel and the f64 reference and compares every output. */
async function check(c: Case, seed: number, dtype: DType = 'f32', tol: Tol = TOL.f32Reduce) {
  const r = rng(seed);
  const q = (v: number) => (dtype === 'f16' ? fromHalf(toHalf(v)) : Math.fround(v));
  const x = Array.from(r.array(numel(c.x)), q);
  const w = Array.from(r.array(numel(c.w)), q);
  const M = c.w[1] * (c.group ?? 1);
  const b = c.bias === false ? undefined : Array.from(r.array(M), q);
  const attrs: Attrs = {};
  for (const k of [
    'group',
    'kernel_shape',
    'strides',
    'pads',
    'dilations',
    'output_padding',
    'output_shape',
    'auto_pad',
    'activation',
    'activation_params',
  ] as const) {
    if (c[k] !== undefined) attrs[k] = c[k];
  }
  const args: ConvTransposeRefArgs = {
    x,
    xShape: c.x,
    w,
    wShape: c.w,
    b,
    group: c.group,
    strides: c.strides,
    pads: c.pads,
    dilations: c.dilations,
    outputPadding: c.output_padding,
    outputShape: c.output_shape?.slice(-2),
    autoPad: c.auto_pad,
    activation: c.activation,
    activationParams: c.activation_params,
  };
  const want = convTransposeRef(args);
  const [y] = await runOp(
    'ConvTranspose',
    [{ data: x, shape: c.x, dtype }, { data: w, shape: c.w, dtype }, b && { data: b, shape: [M], dtype }],
    attrs,
  );
  expect(y.shape).toEqual(want.shape);
  expectClose(y.data, want.data, tol, JSON.stringify(c));
  return y;
}

describe('ConvTranspose', () => {
  const cases: [string, Case][] = [
    ['stride 1, k3, bias', { x: [1, 3, 5, 6], w: [3, 5, 3, 3] }],
    [
      'stride 2, k4, pad 1 (FCN upscore x2), kernel_shape given',
      { x: [1, 5, 7, 6], w: [5, 7, 4, 4], kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] },
    ],
    [
      'stride 3, k5, asymmetric pads, output_padding',
      { x: [1, 3, 4, 5], w: [3, 6, 5, 5], strides: [3, 3], pads: [1, 0, 2, 3], output_padding: [1, 2] },
    ],
    [
      'stride 8, k16, pad 4 (FCN upscore x8)',
      { x: [1, 3, 3, 4], w: [3, 2, 16, 16], strides: [8, 8], pads: [4, 4, 4, 4] },
    ],
    ['kernel 1, stride 2 (gaps)', { x: [1, 4, 5, 3], w: [4, 3, 1, 1], strides: [2, 2] }],
    ['kernel smaller than stride', { x: [1, 2, 4, 4], w: [2, 3, 2, 3], strides: [3, 4] }],
    ['anisotropic stride, kernel, pads', { x: [1, 3, 4, 6], w: [3, 5, 2, 5], strides: [1, 3], pads: [0, 2, 1, 1] }],
    [
      'dilation 2, stride 2 (gcd 2)',
      { x: [1, 3, 5, 5], w: [3, 4, 3, 3], strides: [2, 2], dilations: [2, 2], pads: [1, 2, 0, 1] },
    ],
    [
      'dilation 2, stride 3 (coprime)',
      { x: [1, 3, 4, 5], w: [3, 4, 3, 4], strides: [3, 3], dilations: [2, 2], output_padding: [1, 0] },
    ],
    ['dilation 3 vs stride 2 on w only', { x: [1, 2, 5, 5], w: [2, 3, 2, 3], strides: [2, 2], dilations: [1, 3] }],
    ['group 2', { x: [1, 6, 4, 5], w: [6, 3, 3, 3], group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['group 3, no bias', { x: [1, 9, 3, 4], w: [9, 5, 4, 4], group: 3, strides: [2, 2], bias: false }],
    ['depthwise (group == C)', { x: [1, 6, 5, 4], w: [6, 1, 4, 4], group: 6, strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['depthwise multiplier 2', { x: [1, 5, 4, 4], w: [5, 2, 3, 3], group: 5, strides: [3, 3] }],
    ['no bias', { x: [1, 3, 4, 4], w: [3, 2, 3, 3], strides: [2, 2], bias: false }],
    [
      'batch 2, odd sizes, > 8 output channels',
      { x: [2, 5, 7, 3], w: [5, 11, 3, 5], strides: [2, 3], pads: [1, 2, 0, 1] },
    ],
    ['batch 2, 19 output channels', { x: [2, 7, 3, 5], w: [7, 19, 2, 2], strides: [2, 2] }],
    [
      'output_shape (pads computed, odd total at the beginning)',
      { x: [1, 3, 4, 5], w: [3, 4, 4, 4], strides: [2, 2], output_shape: [8, 9] },
    ],
    ['output_shape, 4-element form', { x: [1, 3, 4, 4], w: [3, 4, 3, 3], strides: [2, 2], output_shape: [1, 4, 8, 7] }],
    [
      'output_shape larger than the full result',
      { x: [1, 2, 3, 3], w: [2, 3, 3, 3], strides: [2, 2], output_shape: [9, 10] },
    ],
    [
      'output_shape + SAME_UPPER',
      { x: [1, 3, 4, 5], w: [3, 4, 4, 4], strides: [2, 2], output_shape: [8, 9], auto_pad: 'SAME_UPPER' },
    ],
    ['auto_pad SAME_UPPER (odd total)', { x: [1, 3, 4, 5], w: [3, 4, 4, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }],
    ['auto_pad SAME_LOWER (odd total)', { x: [1, 3, 4, 5], w: [3, 4, 4, 3], strides: [2, 2], auto_pad: 'SAME_LOWER' }],
    [
      'auto_pad SAME_LOWER, stride 3, k5',
      { x: [1, 2, 3, 4], w: [2, 3, 5, 5], strides: [3, 3], auto_pad: 'SAME_LOWER' },
    ],
    [
      'auto_pad VALID ignores pads',
      { x: [1, 2, 3, 4], w: [2, 3, 3, 3], strides: [2, 2], auto_pad: 'VALID', pads: [1, 1, 1, 1] },
    ],
    ['fused Relu', { x: [1, 3, 4, 4], w: [3, 5, 4, 4], strides: [2, 2], pads: [1, 1, 1, 1], activation: 'Relu' }],
    [
      'fused LeakyRelu',
      { x: [1, 3, 4, 4], w: [3, 5, 3, 3], strides: [2, 2], activation: 'LeakyRelu', activation_params: [0.2, 0] },
    ],
    [
      'fused Clip',
      { x: [1, 3, 4, 4], w: [3, 5, 3, 3], strides: [2, 2], activation: 'Clip', activation_params: [-0.3, 0.4] },
    ],
    ['fused Sigmoid', { x: [1, 3, 4, 4], w: [3, 5, 3, 3], activation: 'Sigmoid' }],
    [
      'fused HardSigmoid',
      { x: [1, 3, 4, 4], w: [3, 5, 3, 3], activation: 'HardSigmoid', activation_params: [0.3, 0.4] },
    ],
    ['fused HardSwish', { x: [1, 3, 4, 4], w: [3, 5, 3, 3], strides: [3, 3], activation: 'HardSwish' }],
    ['fused Tanh', { x: [1, 3, 4, 4], w: [3, 5, 3, 3], strides: [2, 2], activation: 'Tanh' }],
  ];
  for (const sg of [true, false]) {
    describe(sg ? 'subgroup kernel (where the adapter has subgroups >= 8)' : 'portable kernel', () => {
      beforeAll(() => void (convTransposeTuning.subgroups = sg));
      afterAll(() => void (convTransposeTuning.subgroups = true));

      it('runs the kernel this block is about', async () => {
        const r = await gpu();
        const sgMin = (r.device as { adapterInfo?: { subgroupMinSize?: number } }).adapterInfo?.subgroupMinSize ?? 0;
        const x = r.upload(new Float32Array(2 * 9), [1, 2, 3, 3]),
          w = r.upload(new Float32Array(2 * 3 * 4), [2, 3, 2, 2]);
        const k = kernelFor('ConvTranspose'),
          y = r.alloc([1, 3, 6, 6]);
        const names = (await r.profile(() => k.encode(r, [x, w], [y], { strides: [2, 2] }, []))).map((t) => t.name);
        r.release(x, w, y);
        expect(names.some((n) => n.endsWith(' subgroup'))).toBe(sg && r.info.subgroups && sgMin >= 8);
        expect(names.some((n) => n.endsWith(' pack'))).toBe(true);
      });
      cases.forEach(([name, c], i) => it(name, () => check(c, 100 + i)));

      it('randomised configurations', async () => {
        const r = rng(7);
        for (let t = 0; t < 16; t++) {
          const group = r.pick([1, 1, 2, 3]);
          const k = [r.int(1, 7), r.int(1, 7)],
            s = [r.int(1, 4), r.int(1, 4)],
            d = [r.int(1, 3), r.int(1, 3)];
          const x = [r.int(1, 2), group * r.int(1, 4), r.int(1, 6), r.int(1, 6)];
          const pads = [0, 1, 0, 1].map((i) => r.int(0, Math.floor(((k[i] - 1) * d[i]) / 2)));
          const opad = [0, 1].map((i) => r.int(0, Math.max(s[i], d[i]) - 1));
          await check(
            {
              x,
              w: [x[1], r.int(1, 10), ...k],
              group,
              strides: s,
              dilations: d,
              pads,
              output_padding: opad,
              bias: r.next() < 0.7,
            },
            1000 + t,
          );
        }
      });

      it('an Inf input only reaches the outputs it covers (no 0 * Inf at the borders)', async () => {
        const xShape = [1, 2, 3, 5],
          wShape = [2, 3, 3, 3];
        const r = rng(21);
        const x = Array.from(r.array(30)),
          w = Array.from(r.array(54), Math.fround);
        x[4] = Infinity; // channel 0, row 0, last column
        x[15 + 10] = -Infinity; // channel 1, row 2, first column
        const attrs = { strides: [2, 2], pads: [0, 0, 0, 0] };
        const want = convTransposeRef({ x, xShape, w, wShape, strides: attrs.strides, pads: attrs.pads });
        const [y] = await runOp(
          'ConvTranspose',
          [
            { data: x, shape: xShape },
            { data: w, shape: wShape },
          ],
          attrs,
        );
        const finite = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : 0));
        expect(Array.from(y.data, (v) => Number.isFinite(v))).toEqual(Array.from(want.data, (v) => Number.isFinite(v)));
        expect(Array.from(want.data).some((v) => !Number.isFinite(v))).toBe(true);
        expectClose(finite(y.data), finite(want.data), TOL.f32Reduce, 'Inf inputs');
      });
      it('more than 65535 workgroups along z (split dispatch)', () =>
        check({ x: [2, 16400, 2, 2], w: [16400, 1, 2, 2], group: 16400, strides: [2, 2] }, 13));
      it('FCN upscore x2: k4 s2 pad 1, 21 -> 21 at 1x21x64x64', () =>
        check({ x: [1, 21, 64, 64], w: [21, 21, 4, 4], strides: [2, 2], pads: [1, 1, 1, 1] }, 11));
      it('FCN upscore x8: k16 s8 pad 4, 21 -> 21 at 1x21x32x32', () =>
        check({ x: [1, 21, 32, 32], w: [21, 21, 16, 16], strides: [8, 8], pads: [4, 4, 4, 4] }, 12));

      describe('f16', () => {
        const f16Cases: [string, Case][] = [
          ['stride 2, k4, pad 1, batch 2', { x: [2, 5, 5, 6], w: [5, 7, 4, 4], strides: [2, 2], pads: [1, 1, 1, 1] }],
          [
            'group 3, dilation 2, output_padding, LeakyRelu',
            {
              x: [1, 6, 4, 3],
              w: [6, 3, 3, 3],
              group: 3,
              strides: [3, 2],
              dilations: [2, 2],
              output_padding: [1, 1],
              activation: 'LeakyRelu',
              activation_params: [0.1, 0],
            },
          ],
          [
            'stride 8, k16, no bias',
            { x: [1, 3, 3, 3], w: [3, 10, 16, 16], strides: [8, 8], pads: [4, 4, 4, 4], bias: false },
          ],
        ];
        f16Cases.forEach(([name, c], i) =>
          it(name, async () => {
            if (!(await gpu()).info.f16) return expect((await gpu()).info.f16).toBe(false);
            const y = await check(c, 500 + i, 'f16', TOL.f16);
            expect(y.data).toBeInstanceOf(Float32Array);
          }),
        );
      });
    });
  }

  describe('errors', () => {
    const k = kernelFor('ConvTranspose');
    const x = { shape: [1, 4, 5, 5], dtype: 'f32' as const };
    const w = { shape: [4, 2, 3, 3], dtype: 'f32' as const };
    const throws = (inputs: Parameters<typeof k.infer>[0], attrs: Attrs, code: string, msg: RegExp) => {
      let err: unknown;
      try {
        k.infer(inputs, attrs, []);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WgsegError);
      expect((err as WgsegError).code).toBe(code);
      expect((err as WgsegError).message).toMatch(/^ConvTranspose: /);
      expect((err as WgsegError).message).toMatch(msg);
    };
    it('accepts a valid configuration', () => {
      expect(k.infer([x, w, { shape: [2], dtype: 'f32' }], { strides: [2, 2], pads: [1, 1, 1, 1] }, [])).toEqual([
        { shape: [1, 2, 9, 9], dtype: 'f32' },
      ]);
    });
    it('3-D inputs (1-D runs: see below)', () => {
      throws(
        [
          { shape: [1, 4, 5, 5, 5], dtype: 'f32' },
          { shape: [4, 2, 3, 3, 3], dtype: 'f32' },
        ],
        {},
        'BAD_SHAPE',
        /only 1-D and 2-D.*3-D/,
      );
    });

    it('bad shapes', () => {
      throws([x, { shape: [3, 2, 3, 3], dtype: 'f32' }], {}, 'BAD_SHAPE', /W \[3,2,3,3\]/);
      throws([x, w, { shape: [3], dtype: 'f32' }], {}, 'BAD_SHAPE', /B \[3\]/);
      throws([x, w], { pads: [4, 4, 4, 4] }, 'BAD_SHAPE', /output size/);
    });
    it('bad attributes', () => {
      throws([x, w], { group: 3 }, 'BAD_ATTRIBUTE', /group 3/);
      throws([x, w], { strides: [0, 1] }, 'BAD_ATTRIBUTE', /strides/);
      throws([x, w], { dilations: [1] }, 'BAD_ATTRIBUTE', /dilations/);
      throws([x, w], { pads: [-1, 0, 0, 0] }, 'BAD_ATTRIBUTE', /pads/);
      throws([x, w], { kernel_shape: [2, 3] }, 'BAD_ATTRIBUTE', /kernel_shape/);
      throws([x, w], { auto_pad: 'SAME' }, 'BAD_ATTRIBUTE', /auto_pad/);
      throws([x, w], { output_shape: [0, 4] }, 'BAD_ATTRIBUTE', /output_shape/);
      throws([x, w], { activation: 'Softsign' }, 'BAD_ATTRIBUTE', /Softsign/);
    });
    it('unsupported dtypes', () => {
      throws(
        [
          { shape: x.shape, dtype: 'i32' },
          { shape: w.shape, dtype: 'i32' },
        ],
        {},
        'UNSUPPORTED_DTYPE',
        /i32/,
      );
      throws([x, { shape: w.shape, dtype: 'f16' }], {}, 'UNSUPPORTED_DTYPE', /dtype/);
    });
  });
});

describe('ConvTranspose 1-D (runs as 2-D with H = 1)', () => {
  // [X, W, attrs]: the f64 reference is the 2-D one on [N, C, 1, L] with a unit first spatial axis
  const cases: [number[], number[], Attrs][] = [
    [[1, 1, 3], [1, 2, 3], {}], // conformance convtranspose_1d
    [[2, 4, 9], [4, 3, 4], { strides: [2], pads: [1, 2] }],
    [[1, 6, 7], [6, 1, 3], { group: 3, dilations: [2], output_padding: [1], strides: [2] }],
    [[1, 3, 5], [3, 5, 3], { strides: [3], auto_pad: 'SAME_UPPER' }],
    [[2, 2, 6], [2, 4, 5], { strides: [2], output_shape: [14] }],
  ];
  for (const [xs, ws, attrs] of cases) {
    it(`X [${xs}] W [${ws}] ${JSON.stringify(attrs)}`, async () => {
      const r = rng(xs[2] * 7 + ws[2]);
      const x = Float32Array.from(r.array(numel(xs)));
      const w = Float32Array.from(r.array(numel(ws)));
      const M = ws[1] * ((attrs.group as number | undefined) ?? 1);
      const b = Float32Array.from(r.array(M));
      const two = (v: unknown, unit: number) => (v === undefined ? undefined : [unit, ...(v as number[])]);
      const pads = attrs.pads as number[] | undefined;
      const want = convTransposeRef({
        x,
        xShape: [xs[0], xs[1], 1, xs[2]],
        w,
        wShape: [ws[0], ws[1], 1, ws[2]],
        b,
        group: attrs.group as number | undefined,
        strides: two(attrs.strides, 1),
        dilations: two(attrs.dilations, 1),
        outputPadding: two(attrs.output_padding, 0),
        pads: pads && [0, pads[0], 0, pads[1]],
        outputShape: two(attrs.output_shape, 1),
        autoPad: attrs.auto_pad as ConvTransposeRefArgs['autoPad'],
      });
      const [y] = await runOp(
        'ConvTranspose',
        [
          { data: x, shape: xs },
          { data: w, shape: ws },
          { data: b, shape: [M] },
        ],
        attrs,
      );
      expect(y.shape).toEqual([want.shape[0], want.shape[1], want.shape[3]]);
      expectClose(y.data, want.data, TOL.f32Reduce, JSON.stringify(attrs));
    });
  }

  it('f16 when the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return;
    const r = rng(5);
    const x = Array.from(r.array(2 * 4 * 8), (v) => fromHalf(toHalf(v)));
    const w = Array.from(r.array(4 * 3 * 3), (v) => fromHalf(toHalf(v)));
    const want = convTransposeRef({ x, xShape: [2, 4, 1, 8], w, wShape: [4, 3, 1, 3], strides: [1, 2] });
    const [y] = await runOp(
      'ConvTranspose',
      [
        { data: x, shape: [2, 4, 8], dtype: 'f16' },
        { data: w, shape: [4, 3, 3], dtype: 'f16' },
      ],
      { strides: [2] },
    );
    expectClose(y.data, want.data, TOL.f16, 'f16 1-D');
  });
});
