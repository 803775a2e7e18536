import { fromHalf, toHalf } from '../core/dtype';
import { WgsegError } from '../core/errors';

/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), C order only.
 * Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 *
 *   "\x93NUMPY" major minor  header_len (u16 LE in v1, u32 LE in v2/v3)  header  data
 *
 * The header is a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
 * padded with spaces and ended by '\n' so that the data starts at a multiple of 64 (16 in old
 * files); v1/v2 headers are latin-1, v3 headers UTF-8.
 */

export type NpyDtype =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'bool';
/** float16 is widened to Float32Array on read; int64 stays exact in a BigInt64Array. */
export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface Kind {
  dtype: NpyDtype;
  size: number;
  get: (v: DataView, o: number, le: boolean) => number | bigint;
  make: (n: number) => NpyData;
}
// key: kind char + item size, as in descr '<f4'
const KINDS: Record<string, Kind> = {
  f2: { dtype: 'float16', size: 2, get: (v, o, le) => fromHalf(v.getUint16(o, le)), make: (n) => new Float32Array(n) },
  f4: { dtype: 'float32', size: 4, get: (v, o, le) => v.getFloat32(o, le), make: (n) => new Float32Array(n) },
  f8: { dtype: 'float64', size: 8, get: (v, o, le) => v.getFloat64(o, le), make: (n) => new Float64Array(n) },
  i1: { dtype: 'int8', size: 1, get: (v, o) => v.getInt8(o), make: (n) => new Int8Array(n) },
  i2: { dtype: 'int16', size: 2, get: (v, o, le) => v.getInt16(o, le), make: (n) => new Int16Array(n) },
  i4: { dtype: 'int32', size: 4, get: (v, o, le) => v.getInt32(o, le), make: (n) => new Int32Array(n) },
  i8: { dtype: 'int64', size: 8, get: (v, o, le) => v.getBigInt64(o, le), make: (n) => new BigInt64Array(n) },
  u1: { dtype: 'uint8', size: 1, get: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n) },
  u2: { dtype: 'uint16', size: 2, get: (v, o, le) => v.getUint16(o, le), make: (n) => new Uint16Array(n) },
  u4: { dtype: 'uint32', size: 4, get: (v, o, le) => v.getUint32(o, le), make: (n) => new Uint32Array(n) },
  b1: { dtype: 'bool', size: 1, get: (v, o) => (v.getUint8(o) ? 1 : 0), make: (n) => new Uint8Array(n) },
};

/** Parse the header dict: exactly the keys descr, fortran_order, shape (any order). */
function parseHeader(text: string, source: string): { descr: string; fortran: boolean; shape: number[] } {
  const bad = (why: string): never => {
    throw new WgsegError('MALFORMED_FILE', `${source}: bad .npy header (${why}): ${text.trim().slice(0, 120)}`);
  };
  const body = text.trim().match(/^\{(.*)\}$/s)?.[1] ?? bad('not a dict');
  const entries = new Map<string, string>();
  // values are a quoted string, True/False, or a tuple of integers; none contains a comma outside ( )
  const re = /\s*['"](\w+)['"]\s*:\s*('[^']*'|"[^"]*"|True|False|\([^)]*\)|\[[^\]]*\])\s*(,|$)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(body))) {
    entries.set(m[1], m[2]);
    end = re.lastIndex;
    if (m[3] === '') break;
  }
  if (body.slice(end).trim() !== '') bad('unreadable entry');
  const descr = entries.get('descr'),
    fortran = entries.get('fortran_order'),
    shape = entries.get('shape');
  if (descr === undefined || fortran === undefined || shape === undefined) bad('needs descr, fortran_order and shape');
  if (descr!.startsWith('[')) {
    throw new WgsegError(
      'UNSUPPORTED_DTYPE',
      `${source}: structured (record) arrays are not supported; save a plain numeric array`,
    );
  }
  if (!/^\(.*\)$/s.test(shape!)) bad('shape is not a tuple');
  const dims = shape!
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out = dims.map((d) => {
    const v = /^\d+L?$/.test(d) ? Number.parseInt(d, 10) : NaN;
    if (!Number.isSafeInteger(v)) bad(`dimension "${d}"`);
    return v;
  });
  return { descr: descr!.slice(1, -1), fortran: fortran === 'True', shape: out };
}

/** Read a .npy file. Errors are WgsegError MALFORMED_FILE / UNSUPPORTED_DTYPE / BAD_INPUT naming `source`. */
export function readNpy(bytes: Uint8Array, source = 'array.npy'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new WgsegError('MALFORMED_FILE', `${source}: not a .npy file (no \\x93NUMPY magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3)
    throw new WgsegError(
      'MALFORMED_FILE',
      `${source}: .npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0, 3.0 are)`,
    );
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new WgsegError('MALFORMED_FILE', `${source}: truncated .npy header`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes,
    dataStart = start + headerLen;
  if (dataStart > bytes.length)
    throw new WgsegError(
      'MALFORMED_FILE',
      `${source}: truncated .npy header (${headerLen} bytes announced, ${bytes.length - start} present)`,
    );
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, dataStart));
  const { descr, fortran, shape } = parseHeader(text, source);

  const dm = /^([<>=|])([a-zA-Z])(\d+)$/.exec(descr);
  const kind = dm ? KINDS[dm[2] + dm[3]] : undefined;
  if (!dm || !kind) {
    throw new WgsegError(
      'UNSUPPORTED_DTYPE',
      `${source}: dtype '${descr}' is not supported (float16/32/64, int8/16/32/64, uint8/16/32, bool are)`,
    );
  }
  const little = dm[1] !== '>'; // '=' is native order, which numpy only writes on little-endian hosts in practice
  const n = shape.reduce((a, b) => a * b, 1);
  if (fortran && shape.filter((d) => d > 1).length > 1) {
    throw new WgsegError(
      'BAD_INPUT',
      `${source}: Fortran-order arrays are not supported; save with np.save(path, np.ascontiguousarray(a))`,
    );
  }
  const need = n * kind.size,
    have = bytes.length - dataStart;
  if (have < need)
    throw new WgsegError(
      'MALFORMED_FILE',
      `${source}: truncated data: shape (${shape.join(', ')}) of '${descr}' needs ${need} bytes, file has ${have}`,
    );
  if (have > need)
    throw new WgsegError(
      'MALFORMED_FILE',
      `${source}: ${have - need} unexpected bytes after the data of shape (${shape.join(', ')}) '${descr}'`,
    );

  let data: NpyData;
  const fast = little && kind.dtype !== 'float16' && kind.dtype !== 'bool';
  if (fast) {
    // copy into a fresh (aligned) buffer of the right type (a Node Buffer may be a view into a shared pool)
    const copy = new Uint8Array(need);
    copy.set(bytes.subarray(dataStart, dataStart + need));
    const C = kind.make(0).constructor as new (b: ArrayBuffer) => NpyData;
    data = new C(copy.buffer);
  } else {
    data = kind.make(n);
    for (let i = 0; i < n; i++)
      (data as unknown as (number | bigint)[])[i] = kind.get(view, dataStart + i * kind.size, little);
  }
  return { dtype: kind.dtype, shape, data };
}

export type NpyWriteDtype = 'float32' | 'float16' | 'int64';

/**
 * Write a C-order .npy (version 1.0, or 2.0 when the header does not fit 65535 bytes).
 * float32 / float16 (rounded to nearest even) from any numeric array; int64 from integer numbers or a BigInt64Array.
 */
export function writeNpy(
  dtype: NpyWriteDtype,
  shape: readonly number[],
  data: ArrayLike<number> | BigInt64Array,
): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n)
    throw new WgsegError(
      'BAD_SHAPE',
      `writeNpy: ${data.length} values for shape (${shape.join(', ')}) (${n} expected)`,
    );
  const descr = dtype === 'float32' ? '<f4' : dtype === 'float16' ? '<f2' : '<i8';
  const size = dtype === 'float32' ? 4 : dtype === 'float16' ? 2 : 8;
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  let major = 1,
    pre = 10;
  if (dict.length + 1 + pre > 65535) (major = 2), (pre = 12);
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const out = new Uint8Array(total + n * size);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  if (dtype === 'float32') {
    for (let i = 0; i < n; i++) view.setFloat32(total + i * 4, Number(data[i]), true);
  } else if (dtype === 'float16') {
    for (let i = 0; i < n; i++) view.setUint16(total + i * 2, toHalf(Number(data[i])), true);
  } else {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (typeof v !== 'bigint' && !Number.isInteger(v))
        throw new WgsegError('BAD_INPUT', `writeNpy: int64 value ${v} at ${i} is not an integer`);
      view.setBigInt64(total + i * 8, typeof v === 'bigint' ? v : BigInt(v), true);
    }
  }
  return out;
}
