import { WgsegError } from './errors';

/**
 * Every element type wgseg knows, once: its name at the graph level (what a model file says), its
 * ONNX TensorProto and TFLite TensorType codes, its byte size in a file, how the GPU stores it, its
 * integer width. The GPU stores floats as f32/f16 (the session's precision), bool as u32 and every
 * integer type as i32: values outside int32 are refused when they are uploaded or fed.
 */
export type ElemType =
  | 'float32'
  | 'float16'
  | 'float64'
  | 'int64'
  | 'uint64'
  | 'int32'
  | 'uint32'
  | 'int16'
  | 'uint16'
  | 'int8'
  | 'uint8'
  | 'bool';
/** GPU storage type of a tensor. */
export type DType = 'f32' | 'f16' | 'i32' | 'u32';
/** The one float type a session computes in. */
export type Precision = 'f32' | 'f16';
/** Host data read back from the GPU (f16 widened to f32). */
export type HostArray = Float32Array | Int32Array | Uint32Array;
/** Host data of a constant: floats as Float32Array, integers (64-bit and uint32 included, exact below 2^53) as Float64Array or Int32Array, bool as Uint8Array. */
export type ConstData = Float32Array | Float64Array | Int32Array | Uint8Array;

interface ElemInfo {
  onnx: number;
  tflite: number;
  bytes: number;
  float: boolean;
  /** integer types: [bits, signed] */
  int?: [number, boolean];
}

export const ELEM_TYPES: Record<ElemType, ElemInfo> = {
  float32: { onnx: 1, tflite: 0, bytes: 4, float: true },
  uint8: { onnx: 2, tflite: 3, bytes: 1, float: false, int: [8, false] },
  int8: { onnx: 3, tflite: 9, bytes: 1, float: false, int: [8, true] },
  uint16: { onnx: 4, tflite: 16, bytes: 2, float: false, int: [16, false] },
  int16: { onnx: 5, tflite: 7, bytes: 2, float: false, int: [16, true] },
  int32: { onnx: 6, tflite: 2, bytes: 4, float: false, int: [32, true] },
  int64: { onnx: 7, tflite: 4, bytes: 8, float: false, int: [64, true] },
  bool: { onnx: 9, tflite: 6, bytes: 1, float: false },
  float16: { onnx: 10, tflite: 1, bytes: 2, float: true },
  float64: { onnx: 11, tflite: 10, bytes: 8, float: true },
  uint32: { onnx: 12, tflite: 15, bytes: 4, float: false, int: [32, false] },
  uint64: { onnx: 13, tflite: 12, bytes: 8, float: false, int: [64, false] },
};

const BY_ONNX = new Map(Object.entries(ELEM_TYPES).map(([t, e]) => [e.onnx, t as ElemType]));

/** ONNX TensorProto.DataType code -> element type (undefined for types wgseg does not hold). */
export const onnxElemType = (code: number): ElemType | undefined => BY_ONNX.get(code);
export const onnxCode = (t: ElemType): number => ELEM_TYPES[t].onnx;
export const isFloatType = (t: ElemType): boolean => ELEM_TYPES[t].float;
/** Integer types: [bits, signed]; undefined for floats and bool. */
export const intBits = (t: ElemType): [number, boolean] | undefined => ELEM_TYPES[t].int;

/** GPU storage of a graph-level type: floats by precision, integers i32, bool u32 (what comparisons produce). */
export function gpuType(t: ElemType, precision: Precision): DType {
  if (isFloatType(t)) return precision;
  return t === 'bool' ? 'u32' : 'i32';
}

/** The ONNX type code a GPU storage type casts to (bool for u32). */
export const DTYPE_ONNX: Record<DType, number> = { f32: 1, f16: 10, i32: 6, u32: 9 };

export const BYTES: Record<DType, number> = { f32: 4, f16: 2, i32: 4, u32: 4 };

/** An exact integer wrapped to `type`'s width (two's complement), as C conversions and ONNX integer arithmetic do. */
export function wrapInt(v: number, type: ElemType): number {
  const [bits, signed] = intBits(type) ?? [0, true];
  if (
    bits === 0 ||
    !Number.isFinite(v) ||
    (bits === 64 && Math.abs(v) <= Number.MAX_SAFE_INTEGER && (signed || v >= 0))
  )
    return v;
  const b = BigInt(v);
  return Number(signed ? BigInt.asIntN(bits, b) : BigInt.asUintN(bits, b));
}

/** Host storage for `type` (floats Float32Array, integers Float64Array, bool Uint8Array). */
export function hostData(type: ElemType, values: ArrayLike<number>): ConstData {
  if (isFloatType(type)) return Float32Array.from(values);
  if (type === 'bool') return Uint8Array.from(values, (v) => (v ? 1 : 0));
  return Float64Array.from(values);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) (s[i] = acc), (acc *= shape[i]);
  return s;
}

export function checkShape(shape: readonly number[], where: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new WgsegError('BAD_SHAPE', `${where}: invalid dimension ${d} in [${shape.join(',')}]`);
  }
}

// IEEE half <-> single, round-to-nearest-even; used at the edges only.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1),
      half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}
export function fromHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >>> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Host data -> bytes in the GPU dtype. */
export function encodeHost(data: ArrayLike<number>, dtype: DType): Uint8Array<ArrayBuffer> {
  const n = data.length;
  if (dtype === 'f16') {
    const out = new Uint16Array(Math.ceil(n / 2) * 2);
    for (let i = 0; i < n; i++) out[i] = toHalf(data[i]);
    return new Uint8Array(out.buffer);
  }
  const Ctor = dtype === 'f32' ? Float32Array : dtype === 'i32' ? Int32Array : Uint32Array;
  // already the GPU's element type: its bytes as they are (writeBuffer copies them; nothing is written to them)
  if (data instanceof Ctor && data.buffer instanceof ArrayBuffer)
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(Ctor.from(data as ArrayLike<number>).buffer);
}

/** GPU bytes -> host array (f16 widens to f32). */
export function decodeHost(bytes: ArrayBuffer, dtype: DType, n: number): HostArray {
  if (dtype === 'f16') {
    const h = new Uint16Array(bytes, 0, n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = fromHalf(h[i]);
    return out;
  }
  const Ctor = dtype === 'f32' ? Float32Array : dtype === 'i32' ? Int32Array : Uint32Array;
  return new Ctor(bytes, 0, n); // `bytes` is the caller's own copy of the mapped range
}
