import { WgsegError } from './core/errors';
import { BYTES, numel, type DType } from './core/dtype';
import type { GpuTensor } from './core/op';
import type { Feed } from './graph/executor';
import { intBits } from './core/dtype';
import type { Dim, Graph } from './graph/ir';
import type { ElemType } from './core/dtype';
import { gpuType, type Precision } from './core/dtype';

/**
 * What `Session.run` checks of its inputs, all before anything touches the GPU: the names (no
 * unknown, none missing), what each input is (a Tensor, `{data, dims}` or `{buffer, dims, type}`),
 * its dims (non-negative integers, the graph's rank, its numeric dims, one size per symbolic dim
 * across inputs, at most 2^31 elements), its element type (float data for a float input, integer
 * data within the input type's range for an integer one), the data length against the dims, a
 * GPU buffer's size and usage, and with `checkFinite` that float data holds no NaN or Infinity
 * (by default they are allowed and propagate as IEEE arithmetic makes them). The caller's arrays are
 * read, never written: integer data is converted into a new Int32Array, float data is copied when
 * it is uploaded.
 */

export interface FeedOptions {
  /** refuse NaN and +-Infinity in float host data (BAD_INPUT naming the index); default false */
  checkFinite?: boolean;
}

/** A Tensor (an output of a session) as session.ts hands it over. */
export interface TensorFeed {
  tensor: GpuTensor;
  disposed: boolean;
}

export interface CheckedFeeds {
  shapes: Record<string, number[]>;
  feeds: Map<string, Feed>;
}

const MAX_ELEMENTS = 2 ** 31;
/** GPUBufferUsage.STORAGE (a number here: the global is absent where WebGPU is) */
const STORAGE = 0x80;
const FLOAT_DATA = [Float32Array, Float64Array];
const INT_DATA = [
  Int32Array,
  Int16Array,
  Int8Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
  Float64Array,
];
const fmt = (s: readonly Dim[]) => `[${s.join(',')}]`;
const ELEM_TYPES = new Set<string>([
  'float32',
  'float16',
  'float64',
  'int64',
  'uint64',
  'int32',
  'uint32',
  'int16',
  'uint16',
  'int8',
  'uint8',
  'bool',
]);

function show(v: unknown): string {
  try {
    return JSON.stringify(v)?.slice(0, 80) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Every input of one run, checked and converted. `tensorOf` says whether a feed is a Tensor
 * (session.ts owns that class). Throws WgsegError('BAD_INPUT' | 'BAD_SHAPE') naming the input.
 */
export function checkFeeds(
  g: Graph,
  feeds: unknown,
  precision: Precision,
  opts: FeedOptions,
  tensorOf: (f: unknown) => TensorFeed | undefined,
): CheckedFeeds {
  const src = g.source;
  const expected = `expected inputs: ${g.inputs.join(', ')}`;
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds))
    throw new WgsegError(
      'BAD_INPUT',
      `${src}: run() takes an object of inputs by name, got ${show(feeds)}; ${expected}`,
    );
  const given = feeds as Record<string, unknown>;
  for (const k of Object.keys(given))
    if (!g.inputs.includes(k)) throw new WgsegError('BAD_INPUT', `${src}: unknown input "${k}"; ${expected}`);
  for (const n of g.inputs)
    if (given[n] === undefined || given[n] === null)
      throw new WgsegError('BAD_INPUT', `${src}: missing input "${n}"; ${expected}`);
  const shapes: Record<string, number[]> = {};
  const out = new Map<string, Feed>();
  const symbols = new Map<string, [number, string]>();
  for (const name of g.inputs) {
    const where = `${src}: input ${name}`;
    const v = g.values.get(name)!;
    const dtype = gpuType(v.type, precision);
    const f = given[name];
    const t = tensorOf(f);
    const dims = t ? t.tensor.shape : (f as { dims?: unknown }).dims;
    checkDims(dims, v.shape, where, symbols);
    shapes[name] = [...(dims as number[])];
    if (t) {
      if (t.disposed) throw new WgsegError('BAD_INPUT', `${where}: the Tensor given was disposed`);
      out.set(name, { gpu: gpuFeed(t.tensor, v.type, dtype, where) });
    } else if (typeof f === 'object' && f !== null && 'buffer' in f) {
      const b = f as { buffer: GPUBuffer; type?: unknown };
      if (typeof b.type !== 'string' || !ELEM_TYPES.has(b.type))
        throw new WgsegError(
          'BAD_INPUT',
          `${where}: a GPU buffer input needs a type (float32, int32, ...), got ${show(b.type)}`,
        );
      if (!b.buffer || typeof b.buffer.size !== 'number')
        throw new WgsegError('BAD_INPUT', `${where}: buffer is not a GPUBuffer`);
      if (typeof b.buffer.usage === 'number' && !(b.buffer.usage & STORAGE))
        throw new WgsegError(
          'BAD_INPUT',
          `${where}: the GPUBuffer lacks STORAGE usage (usage 0x${b.buffer.usage.toString(16)})`,
        );
      const type = b.type as ElemType;
      out.set(name, {
        gpu: gpuFeed(
          { buffer: b.buffer, shape: shapes[name], dtype: type === 'float16' ? 'f16' : gpuType(type, 'f32') },
          v.type,
          dtype,
          where,
        ),
      });
    } else if (typeof f === 'object' && f !== null && 'data' in f) {
      out.set(name, { data: hostFeed((f as { data: unknown }).data, shapes[name], v.type, dtype, where, opts) });
    } else {
      throw new WgsegError(
        'BAD_INPUT',
        `${where}: give a Tensor, { data, dims } or { buffer, dims, type }, got ${show(f)}`,
      );
    }
  }
  return { shapes, feeds: out };
}

/** Dims: non-negative integers, the graph's rank and numeric dims, one size per symbol across inputs. */
function checkDims(
  dims: unknown,
  want: Dim[] | undefined,
  where: string,
  symbols: Map<string, [number, string]>,
): void {
  if (!Array.isArray(dims) || dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new WgsegError('BAD_INPUT', `${where}: dims must be non-negative integers, got ${show(dims)}`);
  const got = dims as number[];
  if (want) {
    const bad = () => new WgsegError('BAD_SHAPE', `${where}: expected dims ${fmt(want)}, given ${fmt(got)}`);
    if (got.length !== want.length) throw bad();
    want.forEach((d, i) => {
      if (typeof d === 'number') {
        if (d !== got[i]) throw bad();
      } else if (d !== '?' && d !== '') {
        const prior = symbols.get(d);
        if (prior && prior[0] !== got[i])
          throw new WgsegError('BAD_SHAPE', `${where}: dim ${d} given as ${got[i]}, but as ${prior[0]} by ${prior[1]}`);
        symbols.set(d, [got[i], where.replace(/^.*: /, '')]);
      }
    });
  }
  if (numel(got) > MAX_ELEMENTS) throw new WgsegError('BAD_SHAPE', `${where}: ${fmt(got)} has more than 2^31 elements`);
}

/** A GPU tensor for an input: float for float, integer for integer, and a buffer big enough. */
function gpuFeed(t: GpuTensor, type: ElemType, dtype: DType, where: string): GpuTensor {
  const isFloat = (d: DType) => d === 'f32' || d === 'f16';
  if (isFloat(t.dtype) !== isFloat(dtype))
    throw new WgsegError('BAD_INPUT', `${where}: a ${t.dtype} tensor given for a ${type} input`);
  const need = numel(t.shape) * BYTES[t.dtype];
  if (t.buffer.size < need)
    throw new WgsegError(
      'BAD_INPUT',
      `${where}: buffer of ${t.buffer.size} bytes holds less than ${fmt(t.shape)} ${t.dtype} (${need} bytes)`,
    );
  return t;
}

/** Host data for an input: the right kind of array, one value per element, integers in range. */
function hostFeed(
  data: unknown,
  dims: number[],
  type: ElemType,
  dtype: DType,
  where: string,
  opts: FeedOptions,
): ArrayLike<number> {
  const floatWanted = dtype === 'f32' || dtype === 'f16';
  const isArray = Array.isArray(data);
  if (!isArray && !ArrayBuffer.isView(data))
    throw new WgsegError('BAD_INPUT', `${where}: data must be a typed array or an array of numbers, got ${show(data)}`);
  const arr = data as ArrayLike<number | bigint>;
  const n = numel(dims);
  if (arr.length !== n)
    throw new WgsegError('BAD_INPUT', `${where}: ${arr.length} values for dims ${fmt(dims)} (${n} elements)`);
  if (!isArray) {
    const ok = (floatWanted ? FLOAT_DATA : INT_DATA).some((C) => data instanceof C);
    if (!ok)
      throw new WgsegError(
        'BAD_INPUT',
        `${where}: ${(data as object).constructor.name} given for a ${type} input (${floatWanted ? 'Float32Array or Float64Array' : 'an integer typed array'} expected)`,
      );
  }
  if (floatWanted) {
    if (isArray || opts.checkFinite) {
      for (let i = 0; i < n; i++) {
        const x = arr[i];
        if (typeof x !== 'number')
          throw new WgsegError('BAD_INPUT', `${where}: element ${i} is ${show(x)}, not a number`);
        if (opts.checkFinite && !Number.isFinite(x))
          throw new WgsegError('BAD_INPUT', `${where}: element ${i} is ${x} (checkFinite is on)`);
      }
    }
    return arr as ArrayLike<number>;
  }
  // integers (and bool) live in i32/u32 on the GPU: a new Int32Array, each value an integer in the input type's range
  const [bits, signed] = intBits(type) ?? [32, true];
  const lo = type === 'bool' ? 0 : signed ? -(2 ** (Math.min(bits, 32) - 1)) : 0;
  const hi = type === 'bool' ? 2 : bits < 32 ? 2 ** (signed ? bits - 1 : bits) : 2 ** 31;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = arr[i];
    const v = typeof x === 'bigint' ? Number(x) : x;
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw new WgsegError(
        'BAD_INPUT',
        `${where}: element ${i} is ${show(typeof x === 'bigint' ? String(x) : x)}, not an integer (the input is ${type})`,
      );
    if (v < -(2 ** 31) || v >= 2 ** 31)
      throw new WgsegError('BAD_INPUT', `${where}: value ${x} at ${i} does not fit the GPU's int32`);
    if (v < lo || v >= hi) throw new WgsegError('BAD_INPUT', `${where}: value ${x} at ${i} is outside ${type}`);
    out[i] = v;
  }
  return out;
}
