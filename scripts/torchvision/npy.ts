/** Minimal NPY reader for the check script (v1-v3 headers; little-endian f4/f8/i8/i4/u1, C order). */
export interface Npy {
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
}

const CTORS = {
  '<f4': Float32Array,
  '<f8': Float64Array,
  '<i8': BigInt64Array,
  '<i4': Int32Array,
  '|u1': Uint8Array,
} as const;

export function readNpy(buf: Uint8Array): Npy {
  if (buf.length < 10 || buf[0] !== 0x93 || String.fromCharCode(...buf.subarray(1, 6)) !== 'NUMPY')
    throw new Error('not an NPY file');
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(buf.subarray(start, start + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`bad NPY header: ${header}`);
  if (fortran) throw new Error('NPY: fortran_order arrays are not supported');
  const Ctor = CTORS[descr as keyof typeof CTORS];
  if (!Ctor) throw new Error(`NPY: dtype ${descr} not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  const bytes = new Uint8Array(buf.subarray(off, off + n * Ctor.BYTES_PER_ELEMENT)); // a copy (Buffer.slice is a view): aligned, offset 0
  if (bytes.length !== n * Ctor.BYTES_PER_ELEMENT)
    throw new Error(`NPY: truncated (${bytes.length} of ${n * Ctor.BYTES_PER_ELEMENT} data bytes)`);
  return { shape, data: new Ctor(bytes.buffer, 0, n) };
}
