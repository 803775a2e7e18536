import { afterAll, describe, expect, it } from 'vitest';
import { winogradTuning } from '../../src/kernels/conv-winograd';
import { runKernel } from '../../src/kernels/dispatch';
import { kernelFor } from '../../src/kernels/registry';
import type { Runtime } from '../../src/gpu/runtime';
import type { Attrs } from '../../src/core/attrs';
import { gpu, runOp, variantsOf } from '../helpers/gpu';
import { TOL, expectClose } from '../helpers/tolerance';
import { type ConvCase, convCase } from '../helpers/conv-case';

const CHUNK = winogradTuning.chunkBytes;
afterAll(() => void (winogradTuning.chunkBytes = CHUNK));

/**
 * The tolerance. Each output is A^T [U . V] A with U = G g G^T (entries up to 9/4 max|g|) and
 * V = B^T d B (up to 4 max|d|): the 16 f32 dot products over C channels sum terms up to 9x the
 * direct kernel's products, and the output transform adds 9 of them (with cancellation). A
 * first-order bound on the rounding error, random signs: sqrt(C) * u * 9 * |term| per dot product,
 * times sqrt(9) for the output transform, i.e. ~27 u sqrt(C) against the direct kernel's
 * sqrt(9C) u = 3 u sqrt(C): up to ~9x the error that TOL.f32Reduce (1e-4) covers for direct conv,
 * less the cancellation. The transforms' constants (1, 1/2) are exact in binary, and each dot
 * product has C terms, not 9C, so in practice it is no worse: measured max |error| on lavapipe,
 * x, w uniform in [-1, 1], 3x3 pad 1: 64->96 on 16x16 1.0e-5 (direct 'gemm' 2.6e-5), 256->64 on
 * 8x8 3.5e-5 (1.05e-4), 512->16 on 6x6 4.8e-5 (1.2e-4). Allowed here: 3e-4 abs + 3e-4 rel (3x
 * TOL.f32Reduce). f16 keeps TOL.f16: U rounded to f16 (its halves and sums of 9 weights are not
 * all representable) stays well inside the f16 output rounding.
 */
const TOL_WINOGRAD = { abs: 3e-4, rel: 3e-4 };

interface Case extends ConvCase {
  /** lavapipe only (SwiftShader is 10-30x slower) */
  big?: boolean;
}

const cases: Case[] = [
  {
    name: 'pad 1, batch 2, odd H/W, C/M not multiples of 4, bias',
    x: [2, 5, 9, 11],
    w: [7, 5, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
  },
  { name: 'pads 0 (VALID-sized), no bias', x: [1, 3, 8, 7], w: [6, 3, 3, 3] },
  { name: 'asymmetric pads', x: [1, 4, 7, 10], w: [5, 4, 3, 3], bias: true, attrs: { pads: [0, 1, 2, 1] } },
  { name: 'large asymmetric pads', x: [1, 2, 5, 4], w: [3, 2, 3, 3], attrs: { pads: [3, 0, 1, 2] } },
  { name: 'SAME_UPPER, odd sizes', x: [1, 6, 11, 10], w: [9, 6, 3, 3], bias: true, attrs: { auto_pad: 'SAME_UPPER' } },
  { name: 'VALID, 3x3 input (one partial tile)', x: [2, 3, 3, 3], w: [2, 3, 3, 3], attrs: { auto_pad: 'VALID' } },
  { name: 'groups 2', x: [2, 6, 7, 8], w: [10, 3, 3, 3], bias: true, attrs: { group: 2, pads: [1, 1, 1, 1] } },
  { name: 'M = 1, C = 1', x: [1, 1, 6, 5], w: [1, 1, 3, 3], bias: true, attrs: { pads: [1, 1, 1, 1] } },
  {
    name: 'many channels 64->96 on 16x16',
    x: [1, 64, 16, 16],
    w: [96, 64, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
    big: true,
  },
  {
    name: 'many channels 19->70 (several channel tiles, partial)',
    x: [1, 19, 6, 7],
    w: [70, 19, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
  },
  ...(['Relu', 'Clip', 'HardSwish', 'LeakyRelu'] as const).map(
    (a): Case => ({
      name: `FusedConv ${a} + Z`,
      x: [2, 5, 7, 6],
      w: [6, 5, 3, 3],
      bias: true,
      z: true,
      attrs: { pads: [1, 1, 1, 1] },
      act: [a, ({ Clip: [0, 0.6], LeakyRelu: [0.2] } as Record<string, number[]>)[a]],
    }),
  ),
  { name: 'FusedConv Z only, no bias', x: [1, 4, 5, 5], w: [3, 4, 3, 3], z: true, attrs: { pads: [1, 1, 1, 1] } },
];

const setup = convCase;

async function check(rt: Runtime, variant: string, c: Case, seed: number, dtype: 'f32' | 'f16' = 'f32') {
  const { op, attrs, want, inputs } = setup(c, seed, dtype);
  const [y] = await runOp(op, inputs, attrs, [], { variant, rt });
  expect(y.shape).toEqual(want.shape);
  expectClose(
    y.data,
    want.data,
    dtype === 'f16' ? TOL.f16 : TOL_WINOGRAD,
    `${variant} ${c.name} ${dtype} ${rt.info.adapter}`,
  );
}

/**
 * Both variants on this process's adapter: `npm test` runs this file on lavapipe and again in the
 * 'swiftshader' project (vite.config.ts; Dawn serves one adapter per process).
 */
const VARIANTS = ['winograd', 'winograd-direct'];
const slow = (rt: Runtime) => /swiftshader/i.test(rt.info.adapter);

describe.each(VARIANTS)('Conv / FusedConv variant %s, weights transformed on the GPU', (variant) => {
  cases.forEach((c, i) =>
    it(c.name, async () => {
      const rt = await gpu();
      if (c.big && slow(rt)) return; // lavapipe only: SwiftShader is 10-30x slower
      await check(rt, variant, c, 100 + i);
    }),
  );
  it('several chunks of tiles (small chunkBytes)', async () => {
    const rt = await gpu();
    winogradTuning.chunkBytes = 1; // one GEMM tile width (128 tiles) per chunk: 2 * 11 * 10 = 220 tiles -> 2 chunks
    try {
      const c: Case = { name: 'chunks', x: [2, 5, 21, 19], w: [6, 5, 3, 3], bias: true, attrs: { pads: [1, 1, 1, 1] } };
      await check(rt, variant, c, 7);
      await check(rt, variant, { name: 'chunks + Z', x: [1, 3, 30, 34], w: [4, 3, 3, 3], z: true, act: ['Relu'] }, 8);
    } finally {
      winogradTuning.chunkBytes = CHUNK;
    }
  });
  it('weights prepacked on the host (as the executor does); a foreign packed key is refused', async () => {
    const rt = await gpu();
    const c: Case = {
      name: 'packed',
      x: [2, 6, 7, 9],
      w: [10, 3, 3, 3],
      bias: true,
      z: true,
      act: ['Clip', [-0.5, 0.5]],
      attrs: { group: 2, pads: [1, 0, 1, 2] },
    };
    const { op, attrs, want, inputs } = setup(c, 11, 'f32');
    const k = kernelFor(op);
    const v = k.variants!.find((x) => x.name === variant)!;
    const infos = inputs.map((t) => t && { shape: t.shape, dtype: t.dtype });
    const p = v.prepack!(rt, 1, inputs[1]!.data, infos, attrs)!;
    expect(p.key).toMatch(/winograd/);
    expect(v.prepack!(rt, 0, inputs[0]!.data, infos, attrs)).toBeUndefined();
    const up = inputs.map((t) => t && rt.upload(t.data, t.shape, t.dtype));
    const packedW = { ...rt.upload(p.data, [p.data.length], p.dtype), shape: c.w, packed: p.key };
    const [y] = runKernel(rt, k, [up[0], packedW, up[2], up[3]], attrs, [], variant);
    try {
      expectClose(await rt.read(y), want.data, TOL_WINOGRAD, `${variant} packed ${rt.info.adapter}`);
      const foreign = { ...packedW, packed: 'conv-gemm Mq=3' };
      expect(() => runKernel(rt, k, [up[0], foreign, up[2], up[3]], attrs, [], variant)).toThrow(
        expect.objectContaining({ code: 'BAD_INPUT' }),
      );
    } finally {
      rt.release(...up.filter((t) => t !== undefined), packedW, y);
      rt.submit();
    }
  });
});

describe.each(VARIANTS)('%s f16 (where the adapter has shader-f16: lavapipe)', (variant) => {
  const some = cases.filter((c) => /batch 2|asymmetric pads$|groups 2|HardSwish|19->70/.test(c.name));
  some.forEach((c, i) =>
    it(c.name, async () => {
      const rt = await gpu();
      if (!rt.info.f16) return expect(rt.info.f16).toBe(false);
      await check(rt, variant, c, 200 + i, 'f16');
    }),
  );
});

describe('the winograd variants apply only to 3x3, stride 1, dilation 1, non-depthwise', () => {
  /** the winograd variants that apply, on `rt` (default lavapipe) */
  const which = async (x: number[], w: number[], attrs: Attrs = {}, dtype: 'f32' | 'f16' = 'f32', rt?: Runtime) => {
    const ins = [
      { data: [], shape: x, dtype },
      { data: [], shape: w, dtype },
    ];
    return (await variantsOf('Conv', ins, attrs, rt)).filter((v) => v.startsWith('winograd')).sort();
  };
  it('applies and does not apply', async () => {
    expect(await which([1, 4, 8, 8], [6, 4, 3, 3], { pads: [1, 1, 1, 1] })).toEqual(VARIANTS);
    expect(await which([1, 6, 8, 8], [6, 3, 3, 3], { group: 2, auto_pad: 'SAME_UPPER' })).toEqual(VARIANTS);
    expect(await which([1, 4, 9, 9], [6, 4, 3, 3], { strides: [2, 2] })).toEqual([]);
    expect(await which([1, 4, 9, 9], [6, 4, 3, 3], { strides: [1, 2] })).toEqual([]);
    expect(await which([1, 4, 9, 9], [6, 4, 3, 3], { dilations: [2, 2] })).toEqual([]);
    expect(await which([1, 4, 9, 9], [6, 4, 5, 5])).toEqual([]);
    expect(await which([1, 4, 9, 9], [6, 4, 3, 1])).toEqual([]);
    expect(await which([1, 4, 9, 9], [4, 1, 3, 3], { group: 4, pads: [1, 1, 1, 1] })).toEqual([]); // depthwise
    const rt = await gpu();
    expect(await which([1, 4, 8, 8], [6, 4, 3, 3], {}, 'f16', rt)).toEqual(rt.info.f16 ? VARIANTS : []);
  });
});
