import { WgsegError } from '../errors';

export type DType = 'f32' | 'f16' | 'i32' | 'u32';
export type HostArray = Float32Array | Int32Array | Uint32Array;

export const BYTES: Record<DType, number> = { f32: 4, f16: 2, i32: 4, u32: 4 };

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) (s[i] = acc), (acc *= shape[i]);
  return s;
}

/** A tensor living in a GPU buffer (row-major). Several tensors may view one buffer (reshape). */
export interface GpuTensor {
  buffer: GPUBuffer;
  shape: number[];
  dtype: DType;
  /** a constant in a kernel's own layout (OpKernel.prepack's key); `shape` and `dtype` are still the logical ones */
  packed?: string;
}

export function checkShape(shape: readonly number[], where: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new WgsegError('BAD_SHAPE', `${where}: invalid dimension ${d} in [${shape.join(',')}]`);
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
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}
export function fromHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
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
  if (data instanceof Ctor && data.buffer instanceof ArrayBuffer) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
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
