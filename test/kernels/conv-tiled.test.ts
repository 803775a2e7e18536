import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/gpu/runtime';
import { convTiledTuning, type TiledGeometry, type TiledTile, tiledTile } from '../../src/kernels/conv-tiled';
import { runKernel } from '../../src/kernels/dispatch';
import { kernelFor } from '../../src/kernels/registry';
import { adapters, runOp, variantsOf } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { CONV_CASES, type ConvCase, convCase } from '../helpers/conv-case';
import { convRef } from '../reference/conv';

afterEach(() => void (convTiledTuning.tile = undefined));

type Case = ConvCase;

// the shared conv cases less the depthwise ones (their own kernels), plus the tiled kernel's edges:
// two channel tiles per group, vec4 pointwise loads, several tiles both ways
const cases: Case[] = [
  ...CONV_CASES.filter((c) => !/depthwise/.test(c.name)),
  {
    name: 'groups 2, 38 channels per group (two 32-channel tiles per group)',
    x: [2, 6, 7, 9],
    w: [76, 3, 3, 3],
    bias: true,
    attrs: { group: 2, pads: [1, 2, 1, 0] },
  },
  { name: '1x1 pointwise (vec4 input loads), batch 2', x: [2, 13, 4, 6], w: [17, 13, 1, 1], bias: true },
  { name: '1x1 pointwise, many channels', x: [1, 40, 4, 5], w: [70, 40, 1, 1], bias: true },
  { name: '1x1 pointwise, groups 2', x: [2, 12, 2, 6], w: [18, 6, 1, 1], attrs: { group: 2 } },
  { name: '1x1 stride 2 (not pointwise)', x: [1, 8, 8, 8], w: [9, 8, 1, 1], attrs: { strides: [2, 2] } },
  {
    name: 'several tiles in both directions, batch 2',
    x: [2, 9, 13, 11],
    w: [70, 9, 3, 3],
    bias: true,
    attrs: { pads: [1, 1, 1, 1] },
  },
];

async function check(rt: Runtime, c: Case, seed: number, dtype: 'f32' | 'f16' = 'f32') {
  const { op, attrs, want, inputs } = convCase(c, seed, dtype);
  expect(await variantsOf(op, inputs, attrs, rt)).toContain('gemm-tiled');
  const [y] = await runOp(op, inputs, attrs, [], { variant: 'gemm-tiled', rt });
  expect(y.shape).toEqual(want.shape);
  expectClose(y.data, want.data, dtype === 'f16' ? TOL.f16 : TOL.f32Reduce, `${c.name} ${dtype} ${rt.info.adapter}`);
}

// one entry per distinct adapter: in one process Dawn's first instance decides the adapter of the later
// ones (adapters() gives lavapipe twice); WGSEG_ADAPTER=swiftshader runs this file on SwiftShader
const all = (await adapters()).filter(([n], i, a) => a.findIndex(([m]) => m === n) === i);
const lavapipe = all[0][1];
const tiles: TiledTile[] = ['64x64', '64x32', '32x64', '32x32'];

for (const [name, rt] of all) {
  describe(`Conv gemm-tiled on ${name}`, () => {
    cases.forEach((c, i) => it(c.name, () => check(rt, c, 100 + i)));
  });
  describe(`Conv gemm-tiled forced tiles on ${name}`, () => {
    const some = cases.filter((c) =>
      /several tiles|many channels|groups 2, 38|7x7|stride 3|pointwise, many|pointwise, groups|LeakyRelu/.test(c.name),
    );
    for (const tile of tiles)
      some.forEach((c, i) =>
        it(`${tile}: ${c.name}`, async () => {
          convTiledTuning.tile = tile;
          await check(rt, c, 300 + i);
        }),
      );
  });
}

describe('Conv gemm-tiled f16 (lavapipe)', () => {
  const some = cases.filter((c) =>
    /pad 1, batch|dilation 2|groups 2|HardSwish|7x7|several tiles|pointwise, many/.test(c.name),
  );
  some.forEach((c, i) =>
    it(c.name, async () => {
      if (!lavapipe.info.f16) return expect(lavapipe.info.f16).toBe(false);
      await check(lavapipe, c, 200 + i, 'f16');
    }),
  );
});

describe('Conv gemm-tiled prepacked weights', () => {
  const shape = { x: [1, 6, 9, 7], w: [10, 3, 3, 3] };
  const attrs = { group: 2, pads: [1, 1, 1, 1] };
  const r = rng(9);
  const x = r.array(6 * 9 * 7),
    w = r.array(10 * 3 * 9),
    b = r.array(10);
  const infos = [
    { shape: shape.x, dtype: 'f32' as const },
    { shape: shape.w, dtype: 'f32' as const },
    { shape: [10], dtype: 'f32' as const },
  ];
  const want = convRef({ x, xShape: shape.x, w, wShape: shape.w, b, pads: attrs.pads, group: 2 });
  for (const [name, rt] of all) {
    it(`runs weights packed on the host (${name}), refuses a foreign key`, async () => {
      const k = kernelFor('Conv');
      const v = k.variants!.find((c) => c.name === 'gemm-tiled')!;
      const p = v.prepack!(rt, 1, w, infos, attrs)!;
      expect(v.prepack!(rt, 0, x, infos, attrs)).toBeUndefined();
      const ins = [
        rt.upload(x, shape.x),
        { ...rt.upload(p.data, [p.data.length], p.dtype), shape: shape.w, packed: p.key },
        rt.upload(b, [10]),
      ];
      try {
        const [y] = runKernel(rt, k, ins, attrs, [], 'gemm-tiled');
        expectClose(await rt.read(y), want.data, TOL.f32Reduce, `prepacked ${name}`);
        rt.release(y);
        const foreign = [ins[0], { ...ins[1], packed: 'conv-gemm Mq=3' }, ins[2]];
        expect(() => runKernel(rt, k, foreign, attrs, [], 'gemm-tiled')).toThrow(
          expect.objectContaining({ code: 'BAD_INPUT' }),
        );
      } finally {
        rt.release(...ins);
        rt.submit();
      }
    });
  }
});

describe('gemm-tiled tile rule', () => {
  const geo = (N: number, C: number, H: number, M: number, k: number, s = 1, group = 1): TiledGeometry => {
    const O = Math.floor((H + 2 * (k >> 1) - k) / s) + 1;
    return {
      N,
      C,
      H,
      W: H,
      M,
      kH: k,
      kW: k,
      group,
      Cg: C / group,
      Mg: M / group,
      sh: s,
      sw: s,
      dh: 1,
      dw: 1,
      pads: [k >> 1, k >> 1, k >> 1, k >> 1],
      OH: O,
      OW: O,
    };
  };
  it('picks big tiles for big layers and smaller ones where the grid would be small', () => {
    expect(tiledTile(geo(1, 64, 128, 64, 3))).toBe('64x64'); // 256 workgroups
    expect(tiledTile(geo(1, 256, 32, 256, 3))).toBe('64x32'); // 64 with 64x64, 128 with 64x32
    expect(tiledTile(geo(1, 512, 16, 512, 1))).toBe('32x32'); // 32, 64, then 128
    expect(tiledTile(geo(1, 3, 224, 32, 3, 2))).toBe('32x64'); // 32 channels: 196 workgroups
    expect(tiledTile(geo(1, 8, 5, 8, 3))).toBe('32x32');
  });
  it('does not apply to depthwise convolutions', async () => {
    const ins = [
      { data: new Float32Array(6 * 25), shape: [1, 6, 5, 5] },
      { data: new Float32Array(6 * 9), shape: [6, 1, 3, 3] },
    ];
    expect(await variantsOf('Conv', ins, { group: 6 }, lavapipe)).not.toContain('gemm-tiled');
  });
});
