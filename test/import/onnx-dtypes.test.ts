import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { importOnnx } from '../../src/import/onnx';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder, encodeModel } from '../helpers/onnx-build';

/** ONNX TensorProto.DataType codes of the integer types the builder does not name. */
const CODE = { uint16: 4, int16: 5, uint32: 12, uint64: 13 } as const;
type Wide = keyof typeof CODE;
const ARRAY = { uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, uint64: BigUint64Array } as const;

function raw(type: Wide, values: number[]): Uint8Array {
  const a = type === 'uint64' ? BigUint64Array.from(values, BigInt) : ARRAY[type].from(values);
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** y = Add(x, k): x a graph input and k an initializer, both of `type`, shape [n]. */
function addModel(type: Wide, k: number[]): Uint8Array {
  const b = new OnnxBuilder({ opset: 14 });
  const x = b.input('x', [k.length]);
  b.output(b.node('Add', [x, 'k'], {}, { output: 'y', name: 'add0' }));
  const m = b.model();
  m.graph.input[0] = {
    name: 'x',
    type: { tensorType: { elemType: CODE[type], shape: { dim: [{ dimValue: k.length }] } } },
  };
  m.graph.initializer.push({ name: 'k', dims: [k.length], dataType: CODE[type], rawData: raw(type, k) });
  m.graph.output[0] = { name: 'y', type: { tensorType: { elemType: CODE[type] } } };
  return encodeModel(m);
}

const caught = async (fn: () => Promise<unknown>): Promise<WgsegError> => {
  try {
    await fn();
  } catch (e) {
    if (e instanceof WgsegError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

describe('int16/uint16/uint32/uint64 graph inputs and initializers', () => {
  it('import with their own element type and exact values (no GPU)', () => {
    const big = { uint16: 65535, int16: -32768, uint32: 4294967295, uint64: 2 ** 40 };
    for (const type of Object.keys(CODE) as Wide[]) {
      const g = importOnnx(addModel(type, [big[type], 7]), `${type}.onnx`);
      expect(g.values.get('x')).toEqual({ name: 'x', type, shape: [2] });
      expect(g.values.get('k')!.type).toBe(type);
      expect(Array.from(g.values.get('k')!.data!)).toEqual([big[type], 7]);
    }
  });

  it('inputs of 4-bit, 8-bit float and bfloat16 types are refused by name (no GPU)', () => {
    for (const [code, name] of [
      [22, 'int4'],
      [19, 'float8e5m2'],
      [16, 'bfloat16'],
    ] as const) {
      const m = new OnnxBuilder({ opset: 23 });
      m.output(m.node('Relu', [m.input('x', [2])], {}, { output: 'y' }));
      const obj = m.model();
      obj.graph.input[0] = { name: 'x', type: { tensorType: { elemType: code, shape: { dim: [{ dimValue: 2 }] } } } };
      let err: unknown;
      try {
        importOnnx(encodeModel(obj), 'q.onnx');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WgsegError);
      expect([(err as WgsegError).code, (err as WgsegError).message]).toEqual([
        'UNSUPPORTED_DTYPE',
        `q.onnx: input "x" has element type ${name}, which wgseg does not take as an input`,
      ]);
    }
  });

  it('run on the GPU as int32: sums equal the host sums', async () => {
    const rt = await gpu();
    const k = [0, 1, 300, 32767];
    const x = [5, 65000 - 32767, 12, 0];
    for (const type of Object.keys(CODE) as Wide[]) {
      const xs = type === 'int16' ? x.map((v) => v - 16000) : x;
      const s = await Session.create(addModel(type, k), { device: rt, source: `${type}.onnx` });
      try {
        expect(s.inputs[0].type).toBe(type);
        const data = type === 'uint64' ? BigInt64Array.from(xs, BigInt) : ARRAY[type].from(xs);
        const out = await s.run({ x: { data: data as unknown as Int32Array, dims: [4] } });
        expect(out.y.type).toBe(type);
        expect(Array.from(await out.y.read()), type).toEqual(xs.map((v, i) => v + k[i]));
        out.y.dispose();
      } finally {
        s.dispose();
      }
    }
  });

  it('values outside int32 are refused where they reach the GPU: a fed input (BAD_INPUT), an initializer (UNSUPPORTED_DTYPE)', async () => {
    const rt = await gpu();
    const s = await Session.create(addModel('uint32', [1, 2]), { device: rt, source: 'u32.onnx' });
    try {
      const e = await caught(() => s.run({ x: { data: Uint32Array.of(3, 2 ** 31), dims: [2] } }));
      expect([e.code, e.message]).toEqual([
        'BAD_INPUT',
        expect.stringMatching(/^u32\.onnx: .*x.*2147483648 at 1 does not fit the GPU's int32/),
      ]);
    } finally {
      s.dispose();
    }
    const e = await caught(async () => {
      const t = await Session.create(addModel('uint64', [1, 2 ** 33]), { device: rt, source: 'u64.onnx' });
      try {
        await t.run({ x: { data: BigInt64Array.of(1n, 2n), dims: [2] } });
      } finally {
        t.dispose();
      }
    });
    expect(e.code).toBe('UNSUPPORTED_DTYPE');
    expect(e.message).toMatch(/^u64\.onnx: constant k \(uint64\) holds 8589934592 at 1, outside the GPU's int32 range/);
  });
});
