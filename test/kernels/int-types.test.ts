import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session';
import { gpu, runOp } from '../helpers/gpu';
import { OnnxBuilder, encodeModel, f } from '../helpers/onnx-build';
import { TOL, expectClose } from '../helpers/tolerance';

/** One-node-chain models through import -> plan -> GPU, against f64 references written from the ONNX definitions. */

describe('Swish-24 alpha through Session', () => {
  it('y = x * sigmoid(alpha * x) for alpha 0.5 and default 1', async () => {
    const b = new OnnxBuilder({ opset: 24 });
    const x = b.input('x', [8]);
    b.output(b.node('Swish', [x], { alpha: f(0.5) }, { output: 'half' }));
    b.output(b.node('Swish', [x], {}, { output: 'one' }));
    const s = await Session.create(b.bytes(), { device: await gpu(), source: 'swish.onnx' });
    const data = Float32Array.from([-7, -3, -1.5, -0.5, 0, 0.75, 2, 6]);
    const out = await s.run({ x: { data, dims: [8] } });
    const ref = (a: number) => Array.from(data, (v) => v / (1 + Math.exp(-a * v)));
    expectClose(await out.half.read(), ref(0.5), TOL.f32, 'Swish alpha=0.5');
    expectClose(await out.one.read(), ref(1), TOL.f32, 'Swish alpha=1');
    s.dispose();
  });
});

// ---- Cast to every integer type ------------------------------------------------------------------

type IntType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'int64' | 'uint32' | 'uint64';
const CODE: Record<IntType | 'float32' | 'bool', number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  uint32: 12,
  uint64: 13,
};
const BITS: Record<IntType, [number, boolean]> = {
  uint8: [8, false],
  int8: [8, true],
  uint16: [16, false],
  int16: [16, true],
  int32: [32, true],
  int64: [64, true],
  uint32: [32, false],
  uint64: [64, false],
};

/** Exact integer wrapped to `type` (two's complement). */
function wrapTo(v: number, type: IntType): number {
  const [bits, signed] = BITS[type];
  return Number(signed ? BigInt.asIntN(bits, BigInt(v)) : BigInt.asUintN(bits, BigInt(v)));
}

/**
 * ONNX Cast float -> int, written from the definition (truncate toward zero) plus what
 * onnxruntime's wasm build does where ONNX leaves it undefined (out of range: saturate to
 * int32/uint32, then wrap to the width).
 */
function castFloatRef(v: number, type: IntType): number {
  const t = Math.trunc(v),
    [bits, signed] = BITS[type];
  if (bits === 64) return signed ? t : Math.max(t, 0);
  return wrapTo(signed ? Math.min(Math.max(t, -(2 ** 31)), 2 ** 31 - 1) : Math.min(Math.max(t, 0), 2 ** 32 - 1), type);
}

// in-range and wrapping values; the 32-bit targets only get values they can hold on the GPU (int32)
const FLOATS = [
  0, 0.9, -0.9, 1.5, -1.5, 127.7, 128.2, -128.6, -129.9, 255.9, 256, 300.7, -300.7, 32767.5, 32768.1, -32769, 65535.5,
  70000.2, -40000.9, 3e9, -3e9, 5e9,
];
const INTS = [
  0, 1, -1, 127, 128, -128, -129, 255, 256, 300, -300, 32767, 32768, -32769, 65535, 65536, 70000, -40000, 2147483647,
  -2147483648,
];
const NARROW = ['uint8', 'int8', 'uint16', 'int16'] as const;
const holdable = (v: number) => v >= -(2 ** 31) && v < 2 ** 31;

describe('Cast kernel: integer targets are i32 storage, wrapped to their width', () => {
  for (const type of NARROW) {
    it(`f32 and i32 -> ${type}`, async () => {
      const [yf] = await runOp('Cast', [{ data: Float32Array.from(FLOATS), shape: [FLOATS.length] }], {
        to: CODE[type],
      });
      expect(yf.data).toBeInstanceOf(Int32Array);
      expect(Array.from(yf.data)).toEqual(Array.from(Float32Array.from(FLOATS), (v) => castFloatRef(v, type)));
      const [yi] = await runOp('Cast', [{ data: Int32Array.from(INTS), shape: [INTS.length], dtype: 'i32' }], {
        to: CODE[type],
      });
      expect(yi.data).toBeInstanceOf(Int32Array);
      expect(Array.from(yi.data)).toEqual(INTS.map((v) => wrapTo(v, type)));
    });
  }
  it('f32 -> int32/uint32/int64/uint64 truncates toward zero (values int32 can hold)', async () => {
    const xs = Float32Array.from([0, 2.9, -2.9, 1e6 + 0.5, -1e6, 2147483520]);
    for (const type of ['int32', 'int64', 'uint32', 'uint64'] as IntType[]) {
      const [y] = await runOp('Cast', [{ data: xs, shape: [xs.length] }], { to: CODE[type] });
      expect(Array.from(y.data), type).toEqual(Array.from(xs, (v) => castFloatRef(v, type)));
    }
  });
  it('bool source and bool target; CastLike to bool is 0/1', async () => {
    const [b] = await runOp('Cast', [{ data: Float32Array.from([0, 2.5, -0.1]), shape: [3] }], { to: 9 });
    expect(Array.from(b.data)).toEqual([0, 1, 1]);
    const [u] = await runOp('Cast', [{ data: Uint32Array.from([0, 1, 1]), shape: [3], dtype: 'u32' }], { to: 2 });
    expect(Array.from(u.data)).toEqual([0, 1, 1]);
    const [like] = await runOp('CastLike', [
      { data: Float32Array.from([0, 2.5, -3]), shape: [3] },
      { data: [1], shape: [1], dtype: 'u32' },
    ]);
    expect(Array.from(like.data)).toEqual([0, 1, 1]);
  });
});

type OrtData = Float32Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array;
/** onnxruntime-web (wasm, CPU) on typed feeds; outputs as plain numbers with their ORT type. */
async function ortTyped(bytes: Uint8Array, feeds: Record<string, { type: string; data: OrtData; dims: number[] }>) {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const inputs = Object.fromEntries(
      Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type as 'float32', v.data as Float32Array, v.dims)]),
    );
    const res = await s.run(inputs);
    return Object.fromEntries(
      Object.entries(res).map(([k, t]) => [
        k,
        { type: t.type, data: Array.from(t.data as ArrayLike<number | bigint>, Number) },
      ]),
    );
  } finally {
    await s.release();
  }
}

/** Declare graph output `i` of a built model as ONNX type `code` (the builder knows fewer types). */
function outputTypes(b: OnnxBuilder, codes: number[]): Uint8Array {
  const m = b.model();
  codes.forEach(
    (c, i) => ((m.graph.output[i] as { type: { tensorType: { elemType: number } } }).type.tensorType.elemType = c),
  );
  return encodeModel(m);
}

describe('Cast typing through Session vs onnxruntime', () => {
  it('Cast to uint8/int8/uint16/int16/uint32: output types, wrapped values; a folded Cast of a constant agrees', async () => {
    const targets: IntType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint32'];
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('x', [FLOATS.length]);
    for (const t of targets) b.output(b.node('Cast', [x], { to: CODE[t] }, { output: `x_${t}` }));
    const k = b.init(
      'k',
      INTS.filter((v) => v >= 0),
      [INTS.filter((v) => v >= 0).length],
      'int32',
    );
    for (const t of NARROW) b.output(b.node('Cast', [k], { to: CODE[t] }, { output: `k_${t}` }));
    const bytes = outputTypes(
      b,
      [...targets, ...NARROW].map((t) => CODE[t]),
    );
    // uint32 keeps to values int32 holds
    const data = Float32Array.from(FLOATS, (v) => (holdable(v) ? v : 7.5));
    const ref = await ortTyped(bytes, { x: { type: 'float32', data, dims: [data.length] } });
    const s = await Session.create(bytes, { device: await gpu(), source: 'cast.onnx' });
    expect(s.outputs.map((o) => o.type)).toEqual([...targets, ...NARROW]);
    const out = await s.run({ x: { data, dims: [data.length] } });
    for (const name of Object.keys(ref)) {
      expect(out[name].type, name).toBe(ref[name].type);
      expect(Array.from(await out[name].read()), name).toEqual(ref[name].data);
    }
    s.dispose();
  });

  it('a uint8 input plus Cast(float -> uint8) adds as uint8 (both i32 on the GPU)', async () => {
    const b = new OnnxBuilder({ opset: 17 });
    const u = b.input('u', [4], 'uint8');
    const x = b.input('x', [4]);
    b.output(b.node('Add', [u, b.node('Cast', [x], { to: 2 })], {}, { output: 'y' }), 'uint8');
    const s = await Session.create(b.bytes(), { device: await gpu(), source: 'add-u8.onnx' });
    const ud = Uint8Array.from([0, 10, 100, 50]),
      xd = Float32Array.from([1.9, 2.5, 27, 0]);
    const out = await s.run({ u: { data: ud, dims: [4] }, x: { data: xd, dims: [4] } });
    expect(out.y.type).toBe('uint8');
    // f64 reference: ONNX Cast truncates, uint8 Add
    expect(Array.from(await out.y.read())).toEqual(Array.from(ud, (v, i) => wrapTo(v + Math.trunc(xd[i]), 'uint8')));
    s.dispose();
  });
});

// ---- narrow integer arithmetic wraps -------------------------------------------------------------

const NARROW_ARRAY = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array };

/** a, b of `type` -> Add, Sub, Mul, Div, Greater(Add(a, b), a) (a comparison after the overflow), Transpose(a); constants too (folded on the host). */
function arithmetic(type: keyof typeof NARROW_ARRAY, consts?: { a: number[]; b: number[] }) {
  const m = new OnnxBuilder({ opset: 17 });
  const [a, b] = consts
    ? [m.init('a', consts.a, [2, 4], 'int32'), m.init('b', consts.b, [2, 4], 'int32')]
    : [m.input('a', [2, 4]), m.input('b', [2, 4])];
  m.node('Add', [a, b], {}, { output: 'add' });
  for (const op of ['Sub', 'Mul', 'Div']) m.node(op, [a, b], {}, { output: op.toLowerCase() });
  m.node('Greater', ['add', a], {}, { output: 'gt' });
  m.node('Transpose', [a], { perm: [1, 0] }, { output: 't' });
  const outs = ['add', 'sub', 'mul', 'div', 'gt', 't'];
  for (const o of outs) m.output(o);
  const model = m.model();
  const code = CODE[type];
  for (const v of [...(model.graph.input as object[]), ...(model.graph.initializer as object[])]) {
    const t = v as { type?: { tensorType: { elemType: number } }; dataType?: number; rawData?: Uint8Array };
    if (t.type) t.type.tensorType.elemType = code;
    if (t.dataType !== undefined) {
      t.dataType = code;
      t.rawData = new Uint8Array(
        NARROW_ARRAY[type].from(
          new Int32Array(t.rawData!.buffer.slice(t.rawData!.byteOffset, t.rawData!.byteOffset + t.rawData!.byteLength)),
        ).buffer,
      );
    }
  }
  outs.forEach(
    (o, i) =>
      ((model.graph.output[i] as { type: { tensorType: { elemType: number } } }).type.tensorType.elemType =
        o === 'gt' ? CODE.bool : code),
  );
  return encodeModel(model);
}

describe('narrow integer arithmetic wraps to its width (vs onnxruntime)', () => {
  const data = {
    uint8: { a: [200, 100, 255, 3, 0, 17, 128, 250], b: [100, 200, 1, 5, 1, 15, 128, 7] },
    int8: { a: [100, -100, 127, -128, 3, -7, 64, -1], b: [100, -100, 1, 1, -5, 2, 2, -128] },
    uint16: { a: [60000, 100, 65535, 3, 0, 300, 32768, 1000], b: [6000, 200, 1, 5, 1, 300, 2, 70] },
    int16: { a: [30000, -30000, 32767, -32768, 3, -7, 256, -1], b: [30000, -30000, 1, 1, -5, 300, 200, -32768] },
  };
  for (const type of NARROW) {
    it(`${type}: Add/Sub/Mul/Div, a comparison after overflow, GPU and folded`, async () => {
      const { a, b } = data[type];
      const C = NARROW_ARRAY[type];
      const bytes = arithmetic(type);
      const ref = await ortTyped(bytes, {
        a: { type, data: C.from(a), dims: [2, 4] },
        b: { type, data: C.from(b), dims: [2, 4] },
      });
      const rt = await gpu();
      const s = await Session.create(bytes, { device: rt, source: `${type}.onnx` });
      // a wrapping Cast after each arithmetic node, none after the comparison or the Transpose
      expect(s.optimizedGraph!.nodes.map((n) => n.op).join(' ')).toBe(
        'Add Cast Sub Cast Mul Cast Div Cast Greater Transpose',
      );
      const before = rt.submits;
      const out = await s.run({ a: { data: C.from(a), dims: [2, 4] }, b: { data: C.from(b), dims: [2, 4] } });
      expect(rt.submits - before).toBe(1);
      const folded = await Session.create(arithmetic(type, { a, b }), { device: rt, source: `${type}-const.onnx` });
      expect(folded.optimizedGraph!.nodes).toEqual([]);
      const fout = await folded.run({});
      for (const name of Object.keys(ref)) {
        expect(out[name].type, name).toBe(ref[name].type);
        expect(Array.from(await out[name].read()), `${type} ${name}`).toEqual(ref[name].data);
        expect(Array.from(await fout[name].read()), `${type} ${name} folded`).toEqual(ref[name].data);
      }
      s.dispose();
      folded.dispose();
    });
  }

  it('int8 Neg/Abs of -128, uint8 Sum of three and Pow (f64 reference: wrap the exact result)', async () => {
    const m = new OnnxBuilder({ opset: 17 });
    const x = m.input('x', [4], 'int8');
    const u = m.input('u', [4], 'uint8');
    m.output(m.node('Neg', [x], {}, { output: 'neg' }), 'int8');
    m.output(m.node('Abs', [x], {}, { output: 'abs' }), 'int8');
    m.output(m.node('Sum', [u, u, u], {}, { output: 'sum' }), 'uint8');
    m.output(m.node('Pow', [u, m.init('e', [3], [], 'uint8')], {}, { output: 'pow' }), 'uint8');
    const s = await Session.create(m.bytes(), { device: await gpu(), source: 'narrow-unary.onnx' });
    const xd = Int8Array.from([-128, -5, 0, 127]),
      ud = Uint8Array.from([100, 7, 255, 0]);
    const out = await s.run({ x: { data: xd, dims: [4] }, u: { data: ud, dims: [4] } });
    expect(Array.from(await out.neg.read())).toEqual(Array.from(xd, (v) => wrapTo(-v, 'int8')));
    expect(Array.from(await out.abs.read())).toEqual(Array.from(xd, (v) => wrapTo(Math.abs(v), 'int8')));
    expect(Array.from(await out.sum.read())).toEqual(Array.from(ud, (v) => wrapTo(3 * v, 'uint8')));
    expect(Array.from(await out.pow.read())).toEqual(Array.from(ud, (v) => wrapTo(v ** 3, 'uint8')));
    s.dispose();
  });
});

describe('integer feeds outside their type are refused', () => {
  it('uint8 300, int8 200 (a Uint8Array for int8), uint32 -1: BAD_INPUT naming input, value and type', async () => {
    const m = new OnnxBuilder({ opset: 17 });
    const u = m.input('u', [2], 'uint8'),
      k = m.input('k', [2], 'int8');
    m.output(m.node('Add', [u, u], {}, { output: 'y' }), 'uint8');
    m.output(m.node('Neg', [k], {}, { output: 'z' }), 'int8');
    const s = await Session.create(m.bytes(), { device: await gpu(), source: 'feed.onnx' });
    const ok = { data: Int8Array.from([1, -2]), dims: [2] };
    await expect(s.run({ u: { data: Int32Array.from([1, 300]), dims: [2] }, k: ok })).rejects.toThrow(
      /input u.*value 300 at 1 is outside uint8/,
    );
    await expect(s.run({ u: { data: Int32Array.from([-1, 3]), dims: [2] }, k: ok })).rejects.toThrow(
      /value -1 at 0 is outside uint8/,
    );
    await expect(
      s.run({ u: { data: Uint8Array.from([1, 2]), dims: [2] }, k: { data: Uint8Array.from([200, 1]), dims: [2] } }),
    ).rejects.toThrow(/value 200 at 0 is outside int8/);
    const out = await s.run({
      u: { data: Uint8Array.from([255, 128]), dims: [2] },
      k: { data: Int8Array.from([-128, 127]), dims: [2] },
    });
    expect(Array.from(await out.y.read())).toEqual([254, 0]);
    expect(Array.from(await out.z.read())).toEqual([-128, -127]);
    s.dispose();
  });
});
