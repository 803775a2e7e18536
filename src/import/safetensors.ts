import { WgsegError } from '../core/errors';
import { fromHalf } from '../core/dtype';

/**
 * safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length, a
 * JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then the raw
 * little-endian bytes. Floats (F32/F16/BF16/F64) become Float32Array; integers Float64Array.
 */

export interface NamedTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array;
}

const SIZES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
const MAX_HEADER = 100 * 2 ** 20;

/** Deepest JSON nesting accepted: {name: {shape: [...]}} is 3; __metadata__ is a flat string map. */
const MAX_NESTING = 16;

/** Nesting depth of JSON text (brackets outside strings), counted up to `limit + 1` (then it stops). */
function nesting(text: string, limit: number): number {
  let depth = 0,
    max = 0,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if ((max = Math.max(max, ++depth)) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

export function readSafetensors(bytes: Uint8Array, source = 'weights.safetensors'): Map<string, NamedTensor> {
  const bad = (msg: string): never => {
    throw new WgsegError('MALFORMED_FILE', `${source}: ${msg}`);
  };
  if (bytes.length < 8) bad('truncated: shorter than the 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.length)
    bad(`header length ${headerLen} does not fit the ${bytes.length}-byte file (not a safetensors file?)`);
  let header: Record<string, unknown>;
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLen));
  const depth = nesting(text, MAX_NESTING);
  if (depth > MAX_NESTING) bad(`header JSON nests deeper than ${MAX_NESTING} levels (a safetensors header needs 3)`);
  try {
    header = JSON.parse(text);
  } catch {
    return bad('header is not JSON (not a safetensors file?)');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) bad('header is not a JSON object');
  const base = 8 + headerLen;
  const out = new Map<string, NamedTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      bad(
        `tensor ${name}: entry is ${entry === null ? 'null' : Array.isArray(entry) ? 'an array' : typeof entry}, not an object with dtype, shape and data_offsets`,
      );
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const size = typeof e.dtype === 'string' ? SIZES[e.dtype] : undefined;
    if (!size)
      bad(
        `tensor ${name}: dtype ${String(e.dtype)} is not supported (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)`,
      );
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
      bad(`tensor ${name}: bad shape ${JSON.stringify(shape)}`);
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0))
      bad(`tensor ${name}: bad data_offsets`);
    const [b, end] = offs as number[];
    if (end - b !== n * size!) bad(`tensor ${name}: ${end - b} bytes for shape [${shape}] of ${e.dtype}`);
    if (base + end > bytes.length) bad(`truncated: tensor ${name} ends at byte ${base + end} of ${bytes.length}`);
    const raw = bytes.slice(base + b, base + end); // aligned copy
    const dv = new DataView(raw.buffer);
    const data =
      e.dtype === 'F32'
        ? new Float32Array(raw.buffer)
        : e.dtype === 'F16' || e.dtype === 'BF16' || e.dtype === 'F64'
          ? new Float32Array(n)
          : new Float64Array(n);
    if (e.dtype !== 'F32') {
      for (let i = 0; i < n; i++) {
        data[i] =
          e.dtype === 'F16'
            ? fromHalf(dv.getUint16(i * 2, true))
            : e.dtype === 'BF16'
              ? new Float32Array(new Uint32Array([dv.getUint16(i * 2, true) << 16]).buffer)[0]
              : e.dtype === 'F64'
                ? dv.getFloat64(i * 8, true)
                : e.dtype === 'I64'
                  ? Number(dv.getBigInt64(i * 8, true))
                  : e.dtype === 'I32'
                    ? dv.getInt32(i * 4, true)
                    : e.dtype === 'I16'
                      ? dv.getInt16(i * 2, true)
                      : e.dtype === 'I8'
                        ? dv.getInt8(i)
                        : dv.getUint8(i);
      }
    }
    out.set(name, { dtype: e.dtype as string, shape: shape as number[], data });
  }
  return out;
}

/** Write F32 tensors (tests and tools). */
export function writeSafetensors(tensors: Record<string, { shape: number[]; data: ArrayLike<number> }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.length * 4] };
    off += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(Float32Array.from(t.data).buffer), p);
    p += t.data.length * 4;
  }
  return out;
}
