import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { Attrs } from '../../src/core/attrs';
import { Session } from '../../src/session';
import { gpu, runOp, variantsOf, type HostTensor } from '../helpers/gpu';
import { OnnxBuilder, is } from '../helpers/onnx-build';
import { rng } from '../helpers/random';
import {
  RANGE,
  convIntegerRef,
  dequantizeRef,
  dynamicQuantizeRef,
  matmulIntegerRef,
  quantizeRef,
  requantRef,
  type QType,
} from '../reference/quant';

/**
 * The quantization ops against the f64 references of test/reference/quant.ts (from the ONNX
 * definitions) and, through whole one-node models, against onnxruntime-web's wasm backend. Every
 * integer result must be exact. The conv/matmul kernel variants (portable, dot4) are forced in turn;
 * this file also runs on SwiftShader (vite.config.ts BOTH_ADAPTERS).
 */

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const ints = (n: number, lo: number, hi: number, seed: number) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => r.int(lo, hi));
};
const floats = (n: number, lo: number, hi: number, seed: number) => Array.from(rng(seed).array(n, lo, hi), Math.fround);
const i32 = (data: number[], shape: number[]): HostTensor => ({ data, shape, dtype: 'i32' });
const f32 = (data: number[], shape: number[]): HostTensor => ({ data, shape, dtype: 'f32' });
const range = (t: QType): Attrs => ({ q_lo: RANGE[t][0], q_hi: RANGE[t][1] });

async function ortRun(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, number[]>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const res = await s.run(feeds);
    return Object.fromEntries(Object.entries(res).map(([k, t]) => [k, Array.from(t.data as ArrayLike<number>)]));
  } finally {
    await s.release();
  }
}

describe('QuantizeLinear', () => {
  it('per tensor uint8: ties round to even, saturation, zero point', async () => {
    const x = [-1000, -0.75, -0.25, 0.25, 0.75, 1.25, 1.75, 63.25, 63.75, 64.25, 1000, 0];
    const [y] = await runOp('QuantizeLinear', [f32(x, [12]), f32([0.5], []), i32([128], [])], range('uint8'));
    expect(Array.from(y.data)).toEqual(quantizeRef(x, [12], [0.5], [128], 'uint8'));
    expect(Array.from(y.data).slice(1, 7)).toEqual([126, 128, 128, 130, 130, 132]);
  });

  it('per axis int8 with a negative axis, and without zero point (uint8)', async () => {
    const shape = [2, 3, 5, 7];
    const x = floats(210, -3, 3, 1);
    const scale = [0.01, 0.02, 0.05],
      zp = [-3, 0, 7];
    const [y] = await runOp('QuantizeLinear', [f32(x, shape), f32(scale, [3]), i32(zp, [3])], {
      axis: -3,
      ...range('int8'),
    });
    expect(Array.from(y.data)).toEqual(quantizeRef(x, shape, scale, zp, 'int8', 1));
    const [u] = await runOp('QuantizeLinear', [f32(x, shape), f32([0.02], [])], range('uint8'));
    expect(Array.from(u.data)).toEqual(quantizeRef(x, shape, [0.02], undefined, 'uint8'));
  });

  it('blocked (opset 21) along axis 1, block 4 over 6; int16 and uint16', async () => {
    const shape = [2, 6, 5];
    const x = floats(60, -40, 40, 2);
    const scale = floats(20, 0.001, 0.5, 3),
      zp = ints(20, -100, 100, 4);
    const [y] = await runOp('QuantizeLinear', [f32(x, shape), f32(scale, [2, 2, 5]), i32(zp, [2, 2, 5])], {
      axis: 1,
      block_size: 4,
      ...range('int16'),
    });
    expect(Array.from(y.data)).toEqual(quantizeRef(x, shape, scale, zp, 'int16', 1, 4));
    const [u] = await runOp('QuantizeLinear', [f32(x, shape), f32([0.0004], []), i32([30000], [])], range('uint16'));
    expect(Array.from(u.data)).toEqual(quantizeRef(x, shape, [0.0004], [30000], 'uint16'));
  });

  it('f16 input where the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return; // SwiftShader: no f16 storage; the f32 cases above cover the kernel
    const x = [-2.5, -0.75, 0.25, 0.75, 1.25, 3.5, 100, -100];
    const [y] = await runOp(
      'QuantizeLinear',
      [
        { data: x, shape: [8], dtype: 'f16' },
        { data: [0.5], shape: [], dtype: 'f16' },
      ],
      range('int8'),
    );
    expect(Array.from(y.data)).toEqual(quantizeRef(x, [8], [0.5], undefined, 'int8'));
  });
});

describe('DequantizeLinear', () => {
  it('per axis int8, blocked uint8, int32 without zero point', async () => {
    const shape = [2, 4, 3];
    const x = ints(24, -128, 127, 5);
    const scale = [0.5, 0.25, 0.125, 3],
      zp = [0, -5, 9, 127];
    const [y] = await runOp('DequantizeLinear', [i32(x, shape), f32(scale, [4]), i32(zp, [4])], { axis: -2 });
    expect(Array.from(y.data)).toEqual(dequantizeRef(x, shape, scale, zp, 1));
    const xu = ints(24, 0, 255, 6);
    const bs = floats(12, 0.01, 1, 7),
      bz = ints(12, 0, 255, 8);
    const [b] = await runOp('DequantizeLinear', [i32(xu, shape), f32(bs, [2, 2, 3]), i32(bz, [2, 2, 3])], {
      axis: 1,
      block_size: 3,
    });
    expect(Array.from(b.data)).toEqual(dequantizeRef(xu, shape, bs, bz, 1, 3));
    const big = [2 ** 30, -(2 ** 30), 12345678, -1];
    const [c] = await runOp('DequantizeLinear', [i32(big, [4]), f32([0.001], [])]);
    expect(Array.from(c.data)).toEqual(dequantizeRef(big, [4], [Math.fround(0.001)], undefined));
  });

  it('a constant int8 / uint8 weight is read 8-bit (prepacked) through a session', async () => {
    const b = new OnnxBuilder({ opset: 13 });
    const ws = ints(30, -128, 127, 9),
      wu = ints(30, 0, 255, 10);
    b.init('ws', ws, [5, 6], 'int8');
    b.init('wu', wu, [5, 6], 'uint8');
    b.init('s', [0.5, 0.25, 1, 2, 0.125], [5]);
    b.init('zs', [0, 1, -2, 3, -128], [5], 'int8');
    b.init('zu', [0, 1, 2, 3, 255], [5], 'uint8');
    const a = b.input('a', [5, 6]);
    const ds = b.node('DequantizeLinear', ['ws', 's', 'zs'], { axis: 0 });
    const du = b.node('DequantizeLinear', ['wu', 's', 'zu'], { axis: 0 });
    b.output(b.node('Add', [b.node('Add', [ds, du]), a], {}, { output: 'y' }));
    const s = await Session.create(b.bytes(), { device: await gpu(), source: 'dq.onnx' });
    const y = await (await s.run({ a: { data: new Float32Array(30), dims: [5, 6] } })).y.read();
    const rs = dequantizeRef(ws, [5, 6], [0.5, 0.25, 1, 2, 0.125], [0, 1, -2, 3, -128], 0);
    const ru = dequantizeRef(wu, [5, 6], [0.5, 0.25, 1, 2, 0.125], [0, 1, 2, 3, 255], 0);
    expect(Array.from(y)).toEqual(rs.map((v, k) => Math.fround(v + ru[k])));
    s.dispose();
  });
});

describe('DynamicQuantizeLinear', () => {
  const cases: [string, number[]][] = [
    ['mixed signs', floats(300, -2, 5, 11)],
    ['all positive', floats(77, 0.5, 3, 12)],
    ['all negative', floats(64, -9, -1, 13)],
    ['all zero', new Array(16).fill(0)],
  ];
  for (const [name, x] of cases)
    it(`${name}: y, scale, zero point as defined (and as onnxruntime computes)`, async () => {
      const [y, scale, zp] = await runOp('DynamicQuantizeLinear', [f32(x, [x.length])]);
      const ref = dynamicQuantizeRef(x);
      expect(scale.data[0]).toBe(ref.scale);
      expect(zp.data[0]).toBe(ref.zp);
      expect(Array.from(y.data)).toEqual(ref.y);
      const b = new OnnxBuilder({ opset: 13 });
      b.input('x', [x.length]);
      b.node('DynamicQuantizeLinear', ['x'], {}, { outputs: ['y', 's', 'z'] });
      b.output('y', 'uint8');
      b.output('s');
      b.output('z', 'uint8');
      const o = await ortRun(b.bytes(), { x: new ort.Tensor('float32', Float32Array.from(x), [x.length]) });
      expect([o.s[0], o.z[0]]).toEqual([ref.scale, ref.zp]);
      expect(o.y).toEqual(ref.y);
    });
});

// ---- integer conv and matmul ---------------------------------------------------------------------

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  N: number;
  C: number;
  H: number;
  W: number;
  M: number;
  k: number;
  xz: number;
  wz: number[];
  xt: 'uint8' | 'int8';
  wt: 'uint8' | 'int8';
  opts: { pads?: number[]; strides?: number[]; dilations?: number[]; group?: number };
}

function convCase(
  name: string,
  [N, C, H, W, M, k]: number[],
  xt: ConvCase['xt'],
  wt: ConvCase['wt'],
  xz: number,
  wz: number[],
  opts: ConvCase['opts'],
  seed: number,
): ConvCase {
  const g = opts.group ?? 1;
  const [xl, xh] = RANGE[xt],
    [wl, wh] = RANGE[wt];
  return {
    name,
    x: ints(N * C * H * W, xl, xh, seed),
    w: ints(M * (C / g) * k * k, wl, wh, seed + 1),
    ...{ N, C, H, W, M, k, xz, wz, xt, wt, opts },
  };
}

const CONV_CASES: ConvCase[] = [
  convCase(
    'uint8 x, int8 w per channel, pads, stride 2',
    [2, 5, 7, 9, 3, 3],
    'uint8',
    'int8',
    131,
    [0, -3, 5],
    { pads: [1, 2, 0, 1], strides: [2, 2] },
    20,
  ),
  convCase(
    'uint8 x and w, dilation 2, groups 2',
    [1, 6, 9, 8, 4, 3],
    'uint8',
    'uint8',
    7,
    [200],
    { pads: [2, 2, 2, 2], dilations: [2, 2], group: 2 },
    30,
  ),
  convCase(
    'int8 x, uint8 w, 1x1, K not a multiple of 4',
    [1, 7, 5, 6, 5, 1],
    'int8',
    'uint8',
    -9,
    [128, 0, 255, 3, 90],
    {},
    40,
  ),
  convCase(
    'int8 x and w, 5x5, saturated values',
    [1, 3, 6, 6, 2, 5],
    'int8',
    'int8',
    -128,
    [127],
    { pads: [2, 2, 2, 2] },
    50,
  ),
];

const convAttrs = (c: ConvCase): Attrs => ({
  ...c.opts,
  kernel_shape: [c.k, c.k],
  q_xu: c.xt === 'uint8' ? 1 : 0,
  q_wu: c.wt === 'uint8' ? 1 : 0,
});
const convRef = (c: ConvCase) =>
  convIntegerRef(c.x, [c.N, c.C, c.H, c.W], c.w, [c.M, c.C / (c.opts.group ?? 1), c.k, c.k], c.xz, c.wz, c.opts);

describe('ConvInteger', () => {
  for (const c of CONV_CASES)
    it(`${c.name}: every kernel variant, exact int32`, async () => {
      const ins = [
        i32(c.x, [c.N, c.C, c.H, c.W]),
        i32(c.w, [c.M, c.C / (c.opts.group ?? 1), c.k, c.k]),
        i32([c.xz], []),
        i32(c.wz, c.wz.length > 1 ? [c.M] : []),
      ];
      const ref = convRef(c);
      const vs = await variantsOf('ConvInteger', ins, convAttrs(c));
      expect(vs).toContain('portable');
      if ((await gpu()).info.dot4) expect(vs).toContain('dot4');
      for (const variant of vs) {
        const [y] = await runOp('ConvInteger', ins, convAttrs(c), [], { variant });
        expect(y.shape, variant).toEqual(ref.shape);
        expect(Array.from(y.data), variant).toEqual(ref.data);
      }
    });
});

interface MmCase {
  name: string;
  as: number[];
  bs: number[];
  at: 'uint8' | 'int8';
  bt: 'uint8' | 'int8';
  az: number[];
  bz: number[];
}
const MM_CASES: MmCase[] = [
  {
    name: 'batched A, shared B, scalar zero points',
    as: [2, 3, 5],
    bs: [5, 4],
    at: 'uint8',
    bt: 'int8',
    az: [12],
    bz: [-1],
  },
  {
    name: 'shared A, batched B, per-row / per-column zero points',
    as: [3, 9],
    bs: [2, 9, 5],
    at: 'int8',
    bt: 'uint8',
    az: [1, -2, 3],
    bz: [0, 5, 255, 17, 128],
  },
];

describe('MatMulInteger', () => {
  for (const c of MM_CASES)
    it(`${c.name}: every kernel variant, exact int32`, async () => {
      const a = ints(
        c.as.reduce((p, q) => p * q),
        RANGE[c.at][0],
        RANGE[c.at][1],
        60,
      );
      const b = ints(
        c.bs.reduce((p, q) => p * q),
        RANGE[c.bt][0],
        RANGE[c.bt][1],
        61,
      );
      const a3 = c.as.length === 3 ? c.as : [1, ...c.as],
        b3 = c.bs.length === 3 ? c.bs : [1, ...c.bs];
      const ref = matmulIntegerRef(a, a3, b, b3, c.az, c.bz);
      const ins = [
        i32(a, c.as),
        i32(b, c.bs),
        i32(c.az, c.az.length > 1 ? [c.az.length] : []),
        i32(c.bz, c.bz.length > 1 ? [c.bz.length] : []),
      ];
      const attrs = { q_xu: c.at === 'uint8' ? 1 : 0, q_wu: c.bt === 'uint8' ? 1 : 0 };
      for (const variant of await variantsOf('MatMulInteger', ins, attrs)) {
        const [y] = await runOp('MatMulInteger', ins, attrs, [], { variant });
        expect(y.shape).toEqual([Math.max(a3[0], b3[0]), a3[1], b3[2]]);
        expect(Array.from(y.data), variant).toEqual(ref);
      }
    });
});

describe('QLinearConv and QLinearMatMul', () => {
  it('QLinearConv: per-channel int8 weights, int32 bias, uint8 and int8 outputs; every variant', async () => {
    const c = CONV_CASES[0];
    const ws = [0.02, 0.011, 0.05];
    const bias = [1000, -2500, 33];
    const acc = convRef(c);
    const plane = acc.shape[2] * acc.shape[3];
    const ch = (k: number) => Math.floor(k / plane) % c.M;
    for (const [yt, yz] of [
      ['uint8', 119],
      ['int8', -7],
    ] as const) {
      const ins = [
        i32(c.x, [c.N, c.C, c.H, c.W]),
        f32([0.037], []),
        i32([c.xz], []),
        i32(c.w, [c.M, c.C, c.k, c.k]),
        f32(ws, [3]),
        i32(c.wz, [3]),
        f32([0.9], []),
        i32([yz], []),
        i32(bias, [3]),
      ];
      const ref = requantRef(acc.data, ch, 0.037, ws, 0.9, yz, yt, bias);
      const attrs = { ...convAttrs(c), ...range(yt) };
      for (const variant of await variantsOf('QLinearConv', ins, attrs)) {
        const [y] = await runOp('QLinearConv', ins, attrs, [], { variant });
        expect(Array.from(y.data), `${yt} ${variant}`).toEqual(ref);
      }
    }
  });

  it('QLinearMatMul: scalar scales, per-column b scale; every variant', async () => {
    const a = ints(2 * 3 * 6, 0, 255, 70),
      b = ints(6 * 4, -128, 127, 71);
    const acc = matmulIntegerRef(a, [2, 3, 6], b, [1, 6, 4], [100], [0]);
    for (const bsc of [[0.004], [0.004, 0.01, 0.002, 0.03]]) {
      const ins = [
        i32(a, [2, 3, 6]),
        f32([0.05], []),
        i32([100], []),
        i32(b, [6, 4]),
        f32(bsc, bsc.length > 1 ? [4] : []),
        i32([0], []),
        f32([0.07], []),
        i32([128], []),
      ];
      const ref = requantRef(acc, (k) => k % 4, 0.05, bsc, 0.07, 128, 'uint8');
      const attrs = { q_xu: 1, q_wu: 0, ...range('uint8') };
      for (const variant of await variantsOf('QLinearMatMul', ins, attrs)) {
        const [y] = await runOp('QLinearMatMul', ins, attrs, [], { variant });
        expect(Array.from(y.data), variant).toEqual(ref);
      }
    }
  });
});

describe('quantized one-node models: Session (weights prepacked 8-bit) against onnxruntime', () => {
  it('ConvInteger and QLinearConv with constant weights', async () => {
    const c = CONV_CASES[0];
    const b = new OnnxBuilder({ opset: 13 });
    b.input('x', [c.N, c.C, c.H, c.W], 'uint8');
    b.init('w', c.w, [c.M, c.C, c.k, c.k], 'int8');
    b.init('xz', [c.xz], [], 'uint8');
    // onnxruntime's ConvInteger takes a per-tensor w zero point only
    b.init('wz', [c.wz[1]], [], 'int8');
    b.init('xs', [0.037], []);
    b.init('ws', [0.02, 0.011, 0.05], [3]);
    b.init('ys', [0.9], []);
    b.init('yz', [119], [], 'uint8');
    b.init('bias', [1000, -2500, 33], [3], 'int32');
    const attrs = { kernel_shape: is([c.k, c.k]), pads: is(c.opts.pads!), strides: is(c.opts.strides!) };
    b.node('ConvInteger', ['x', 'w', 'xz', 'wz'], attrs, { output: 'acc' });
    b.node('QLinearConv', ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'bias'], attrs, { output: 'q' });
    b.output('acc', 'int32');
    b.output('q', 'uint8');
    const bytes = b.bytes();
    const s = await Session.create(bytes, { device: await gpu(), source: 'qconv.onnx' });
    const out = await s.run({ x: { data: Uint8Array.from(c.x), dims: [c.N, c.C, c.H, c.W] } });
    const o = await ortRun(bytes, { x: new ort.Tensor('uint8', Uint8Array.from(c.x), [c.N, c.C, c.H, c.W]) });
    expect(Array.from(await out.acc.read())).toEqual(o.acc);
    expect(Array.from(await out.q.read())).toEqual(o.q);
    expect(o.acc).toEqual(convRef({ ...c, wz: [c.wz[1]] }).data);
    expect(s.outputs.map((v) => v.type)).toEqual(['int32', 'uint8']);
    s.dispose();
  });

  it('MatMulInteger and QLinearMatMul with a constant B', async () => {
    const a = ints(3 * 7, 0, 255, 80),
      w = ints(7 * 5, -128, 127, 81);
    const b = new OnnxBuilder({ opset: 13 });
    b.input('a', [3, 7], 'uint8');
    b.init('b', w, [7, 5], 'int8');
    b.init('az', [3], [], 'uint8');
    b.init('bz', [0], [], 'int8');
    b.init('as', [0.1], []);
    b.init('bs', [0.003], []);
    b.init('ys', [0.25], []);
    b.init('yz', [131], [], 'uint8');
    b.node('MatMulInteger', ['a', 'b', 'az', 'bz'], {}, { output: 'acc' });
    b.node('QLinearMatMul', ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], {}, { output: 'q' });
    b.output('acc', 'int32');
    b.output('q', 'uint8');
    const bytes = b.bytes();
    const s = await Session.create(bytes, { device: await gpu(), source: 'qmm.onnx' });
    const out = await s.run({ a: { data: Uint8Array.from(a), dims: [3, 7] } });
    const o = await ortRun(bytes, { a: new ort.Tensor('uint8', Uint8Array.from(a), [3, 7]) });
    expect(Array.from(await out.acc.read())).toEqual(o.acc);
    expect(Array.from(await out.q.read())).toEqual(o.q);
    s.dispose();
  });
});
