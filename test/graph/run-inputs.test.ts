import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { gpuMemory } from '../../src/gpu/memory';
import { Session, type TensorInput } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';

/**
 * Session.run checks every input before the GPU is touched (no submit, no buffer, no plan) and
 * never writes to what the caller gave: typed arrays are compared with copies after the run,
 * plain arrays, dims and feed objects are frozen (a write would throw), GPU inputs read back.
 */

const err = async (p: Promise<unknown>): Promise<WgsegError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WgsegError);
    return e as WgsegError;
  }
  throw new Error('no error');
};

/**
 * a float32 [N,3], b int64 [N,3], c uint8 [N,3], d bool [N,3] ->
 * y = a + Cast(b) + Cast(c) (float), z = Where(d, a, 0), v = Reshape(a) (a view of an input, copied out).
 */
function model(): Uint8Array {
  const b = new OnnxBuilder({ opset: 17 });
  const a = b.input('a', ['N', 3]),
    bi = b.input('b', ['N', 3], 'int64'),
    c = b.input('c', ['N', 3], 'uint8'),
    d = b.input('d', ['N', 3], 'bool');
  const sum = b.node(
    'Add',
    [b.node('Add', [a, b.node('Cast', [bi], { to: 1 })]), b.node('Cast', [c], { to: 1 })],
    {},
    { output: 'y', name: 'sum' },
  );
  b.output(sum);
  b.output(b.node('Where', [d, a, b.init('zero', [0], [])], {}, { output: 'z', name: 'where' }));
  b.output(b.node('Reshape', [a, b.initInt64('flat', [-1])], {}, { output: 'v', name: 'view' }));
  return b.bytes();
}

const A = [1.5, -2, 3, 0.25, -0.5, 8],
  B = [1, -2, 3, 40, 0, -7],
  C = [0, 1, 255, 7, 8, 9],
  D = [1, 0, 1, 1, 0, 0];

describe('Session.run input validation (before the GPU)', () => {
  it('refuses bad names, kinds, dims, types, lengths and ranges with BAD_INPUT/BAD_SHAPE naming the input; nothing submitted or allocated', async () => {
    const rt = await gpu();
    const s = await Session.create(model(), { device: rt, source: 'in.onnx' });
    try {
      const ok = {
        a: { data: Float32Array.from(A), dims: [2, 3] },
        b: { data: BigInt64Array.from(B.map(BigInt)), dims: [2, 3] },
        c: { data: Uint8Array.from(C), dims: [2, 3] },
        d: { data: Uint8Array.from(D), dims: [2, 3] },
      };
      const cases: [string, unknown, string, RegExp][] = [
        [
          'not an object',
          null,
          'BAD_INPUT',
          /^in\.onnx: run\(\) takes an object of inputs by name, got null; expected inputs: a, b, c, d$/,
        ],
        ['an array', [ok.a], 'BAD_INPUT', /takes an object of inputs by name/],
        ['unknown name', { ...ok, e: ok.a }, 'BAD_INPUT', /^in\.onnx: unknown input "e"; expected inputs: a, b, c, d$/],
        ['missing name', { a: ok.a, b: ok.b, c: ok.c }, 'BAD_INPUT', /^in\.onnx: missing input "d"/],
        [
          'not a feed',
          { ...ok, a: 5 },
          'BAD_INPUT',
          /^in\.onnx: input a: dims must be non-negative integers, got undefined$/,
        ],
        [
          'dims only',
          { ...ok, a: { dims: [2, 3] } },
          'BAD_INPUT',
          /^in\.onnx: input a: give a Tensor, \{ data, dims \} or \{ buffer, dims, type \}/,
        ],
        [
          'negative dim',
          { ...ok, a: { data: new Float32Array(6), dims: [-2, -3] } },
          'BAD_INPUT',
          /input a: dims must be non-negative integers, got \[-2,-3\]/,
        ],
        [
          'fractional dim',
          { ...ok, a: { data: new Float32Array(6), dims: [2, 3.5] } },
          'BAD_INPUT',
          /dims must be non-negative integers/,
        ],
        [
          'wrong rank',
          { ...ok, a: { data: new Float32Array(6), dims: [6] } },
          'BAD_SHAPE',
          /^in\.onnx: input a: expected dims \[N,3\], given \[6\]$/,
        ],
        [
          'wrong fixed dim',
          { ...ok, a: { data: new Float32Array(6), dims: [3, 2] } },
          'BAD_SHAPE',
          /input a: expected dims \[N,3\], given \[3,2\]/,
        ],
        [
          'symbol bound twice',
          { ...ok, b: { data: new Int32Array(9), dims: [3, 3] } },
          'BAD_SHAPE',
          /^in\.onnx: input b: dim N given as 3, but as 2 by input a$/,
        ],
        [
          'over 2^31 elements',
          { ...ok, a: { data: new Float32Array(6), dims: [2 ** 30, 3] } },
          'BAD_SHAPE',
          /input a: \[1073741824,3\] has more than 2\^31 elements/,
        ],
        [
          'length vs dims',
          { ...ok, a: { data: new Float32Array(5), dims: [2, 3] } },
          'BAD_INPUT',
          /^in\.onnx: input a: 5 values for dims \[2,3\] \(6 elements\)$/,
        ],
        [
          'ints for a float input',
          { ...ok, a: { data: new Int32Array(6), dims: [2, 3] } },
          'BAD_INPUT',
          /input a: Int32Array given for a float32 input \(Float32Array or Float64Array expected\)/,
        ],
        [
          'floats for an int input',
          { ...ok, b: { data: new Float32Array(6), dims: [2, 3] } },
          'BAD_INPUT',
          /input b: Float32Array given for a int64 input/,
        ],
        [
          'a fraction for an int input',
          { ...ok, b: { data: Float64Array.from([1, 2, 3.5, 4, 5, 6]), dims: [2, 3] } },
          'BAD_INPUT',
          /input b: element 2 is 3\.5, not an integer \(the input is int64\)/,
        ],
        [
          'int64 beyond int32',
          { ...ok, b: { data: BigInt64Array.from([1n, 2n ** 40n, 0n, 0n, 0n, 0n]), dims: [2, 3] } },
          'BAD_INPUT',
          /input b: value 1099511627776 at 1 does not fit the GPU's int32/,
        ],
        [
          'uint8 out of range',
          { ...ok, c: { data: Int32Array.from([0, 256, 0, 0, 0, 0]), dims: [2, 3] } },
          'BAD_INPUT',
          /input c: value 256 at 1 is outside uint8/,
        ],
        [
          'bool out of range',
          { ...ok, d: { data: Uint8Array.from([0, 2, 0, 0, 0, 0]), dims: [2, 3] } },
          'BAD_INPUT',
          /input d: value 2 at 1 is outside bool/,
        ],
        [
          'a string in a number[]',
          { ...ok, a: { data: [1, 2, '3', 4, 5, 6], dims: [2, 3] } },
          'BAD_INPUT',
          /input a: element 2 is "3", not a number/,
        ],
        [
          'a buffer without a type',
          { ...ok, a: { buffer: { size: 24, usage: 0x80 }, dims: [2, 3] } },
          'BAD_INPUT',
          /input a: a GPU buffer input needs a type/,
        ],
        [
          'a buffer too small',
          { ...ok, a: { buffer: { size: 16, usage: 0x80 }, dims: [2, 3], type: 'float32' } },
          'BAD_INPUT',
          /input a: buffer of 16 bytes holds less than \[2,3\] f32 \(24 bytes\)/,
        ],
        [
          'a buffer without STORAGE',
          { ...ok, a: { buffer: { size: 32, usage: 0x08 }, dims: [2, 3], type: 'float32' } },
          'BAD_INPUT',
          /input a: the GPUBuffer lacks STORAGE usage/,
        ],
        [
          'an int buffer for a float input',
          { ...ok, a: { buffer: { size: 32, usage: 0x80 }, dims: [2, 3], type: 'int32' } },
          'BAD_INPUT',
          /input a: a i32 tensor given for a float32 input/,
        ],
      ];
      const before = { mem: gpuMemory(), submits: rt.submits };
      for (const [what, feeds, code, msg] of cases) {
        const e = await err(s.run(feeds as Record<string, TensorInput>));
        expect([what, e.code], e.message).toEqual([what, code]);
        expect(e.message, what).toMatch(msg);
      }
      expect(gpuMemory()).toEqual(before.mem);
      expect(rt.submits).toBe(before.submits);
      expect(s.plannedPeakBytes).toBeUndefined(); // symbolic N: nothing planned by the refused runs
      // a disposed Tensor
      const out = await s.run(ok);
      out.y.dispose();
      expect((await err(s.run({ ...ok, a: out.y }))).message).toMatch(
        /^in\.onnx: input a: the Tensor given was disposed$/,
      );
      for (const t of Object.values(out)) t.dispose();
    } finally {
      s.dispose();
    }
  });

  it('NaN and Infinity: allowed and propagated by default; refused with checkFinite', async () => {
    const rt = await gpu();
    const b = new OnnxBuilder({ opset: 17 });
    b.output(b.node('Add', [b.input('x', [4]), b.init('one', [1], [])], {}, { output: 'y', name: 'add' }));
    const bytes = b.bytes();
    const x = Float32Array.from([NaN, Infinity, -Infinity, 2]);
    const s = await Session.create(bytes, { device: rt, source: 'nan.onnx' });
    try {
      const out = await s.run({ x: { data: x, dims: [4] } });
      const y = await out.y.read();
      out.y.dispose();
      expect(Number.isNaN(y[0])).toBe(true);
      expect([y[1], y[2], y[3]]).toEqual([Infinity, -Infinity, 3]);
    } finally {
      s.dispose();
    }
    const strict = await Session.create(bytes, { device: rt, source: 'nan.onnx', checkFinite: true });
    try {
      expect((await err(strict.run({ x: { data: x, dims: [4] } }))).message).toBe(
        'nan.onnx: input x: element 0 is NaN (checkFinite is on)',
      );
      expect((await err(strict.run({ x: { data: [1, 2, -Infinity, 0], dims: [4] } }))).message).toBe(
        'nan.onnx: input x: element 2 is -Infinity (checkFinite is on)',
      );
      const out = await strict.run({ x: { data: [1, 2, 3, 4], dims: [4] } });
      expect(Array.from(await out.y.read())).toEqual([2, 3, 4, 5]);
      out.y.dispose();
    } finally {
      strict.dispose();
    }
  });

  it("never writes to the caller's inputs, whatever their kind (typed arrays, plain arrays, Tensors, GPU buffers)", async () => {
    const rt = await gpu();
    const s = await Session.create(model(), { device: rt, source: 'in.onnx' });
    const frozen = <T extends object>(o: T): T => Object.freeze(o);
    const feed = (data: ArrayLike<number | bigint>, dims = [2, 3]) =>
      frozen({ data: Array.isArray(data) ? frozen(data) : data, dims: frozen(dims) }) as TensorInput;
    const a = frozen({ f32: Float32Array.from(A), f64: Float64Array.from(A), arr: [...A] });
    const b = frozen({
      i64: BigInt64Array.from(B.map(BigInt)),
      i32: Int32Array.from(B),
      f64: Float64Array.from(B),
      arr: [...B],
      i16: Int16Array.from(B),
      i8: Int8Array.from(B),
    });
    const c = frozen({ u8: Uint8Array.from(C), u16: Uint16Array.from(C), u32: Uint32Array.from(C), arr: [...C] });
    const d = frozen({ u8: Uint8Array.from(D), arr: [...D] });
    const copies = structuredClone({ a, b, c, d });
    const expectY = A.map((v, i) => v + B[i] + C[i]);
    const expectZ = A.map((v, i) => (D[i] ? v : 0));
    try {
      const check = async (feeds: Record<string, TensorInput>) => {
        const out = await s.run(feeds);
        expect(Array.from(await out.y.read())).toEqual(expectY);
        expect(Array.from(await out.z.read())).toEqual(expectZ);
        expect(Array.from(await out.v.read())).toEqual(A);
        for (const t of Object.values(out)) t.dispose();
      };
      const kinds = Math.max(...[a, b, c, d].map((o) => Object.keys(o).length));
      for (let k = 0; k < kinds; k++) {
        const pick = <T extends object>(o: T) =>
          Object.values(o)[k % Object.keys(o).length] as ArrayLike<number | bigint>;
        await check({ a: feed(pick(a)), b: feed(pick(b)), c: feed(pick(c)), d: feed(pick(d)) });
      }
      expect(structuredClone({ a, b, c, d })).toEqual(copies);
      // a Tensor (another run's output) and a caller's GPU buffer as inputs: read back unchanged
      const first = await s.run({ a: feed(a.f32), b: feed(b.i32), c: feed(c.u8), d: feed(d.u8) });
      const tensorA = first.y; // y = A + B + C, fed as `a`
      const yBefore = Array.from(await tensorA.read());
      const up = rt.upload(Float32Array.from(A), [2, 3], 'f32');
      const out = await s.run({ a: tensorA, b: feed(b.i32), c: feed(c.u8), d: feed(d.u8) });
      expect(Array.from(await out.v.read())).toEqual(yBefore);
      for (const t of Object.values(out)) t.dispose();
      const out2 = await s.run({
        a: frozen({ buffer: up.buffer, dims: frozen([2, 3]), type: 'float32' as const }),
        b: feed(b.i32),
        c: feed(c.u8),
        d: feed(d.u8),
      });
      expect(Array.from(await out2.y.read())).toEqual(expectY);
      for (const t of Object.values(out2)) t.dispose();
      expect(Array.from(await tensorA.read())).toEqual(yBefore);
      expect(Array.from(await rt.read(up))).toEqual(A);
      for (const t of Object.values(first)) t.dispose();
      rt.release(up);
    } finally {
      s.dispose();
    }
  });
});
