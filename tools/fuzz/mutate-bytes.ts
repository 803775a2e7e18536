import type { Rng } from '../../test/helpers/random';

/**
 * Format-blind mutations of a file's bytes: bit flips, byte runs, truncation, inserted, deleted and
 * duplicated chunks, and "interesting" integers (0, -1, 2^31, 2^32 - 1, 2^53...) written over 1, 2,
 * 4 or 8 bytes. Each returns a new array and a short description for the case log.
 */

export interface Mutated {
  bytes: Uint8Array;
  what: string;
}

/** Values that break size arithmetic: zero, signs, powers of two at every integer width. */
export const INTERESTING = [
  0,
  1,
  -1,
  2,
  3,
  7,
  127,
  128,
  255,
  256,
  0x7fff,
  0x8000,
  0xffff,
  0x10000,
  0x7fffffff,
  -0x80000000,
  0xffffffff,
  2 ** 32,
  2 ** 40,
  2 ** 53 - 1,
  -(2 ** 53),
];

function writeInt(out: Uint8Array, at: number, v: number, width: 1 | 2 | 4 | 8): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (at + width > out.length) return;
  if (width === 1) dv.setUint8(at, v & 0xff);
  else if (width === 2) dv.setUint16(at, v & 0xffff, true);
  else if (width === 4) dv.setUint32(at, v >>> 0, true);
  else dv.setBigInt64(at, BigInt.asIntN(64, BigInt(Math.trunc(v))), true);
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
};

export function mutateBytes(given: Uint8Array, r: Rng): Mutated {
  // a plain copy: Buffer#slice (a Node Buffer seed) would be a view, and the seed would change
  const src = new Uint8Array(given);
  const n = src.length;
  const pos = () => r.int(0, Math.max(0, n - 1));
  const kind = r.int(0, 8);
  switch (kind) {
    case 0: {
      // bit flips
      const out = src.slice();
      const k = r.pick([1, 1, 2, 4, 8, 32]);
      for (let i = 0; i < k && n; i++) out[pos()] ^= 1 << r.int(0, 7);
      return { bytes: out, what: `flip ${k} bits` };
    }
    case 1: {
      // a run of one byte value
      const out = src.slice();
      const at = pos(),
        len = r.pick([1, 2, 4, 8, 64, 1024]),
        v = r.pick([0, 0xff, 0x7f, 0x80, r.int(0, 255)]);
      out.fill(v, at, at + len);
      return { bytes: out, what: `run of ${len} x 0x${v.toString(16)} at ${at}` };
    }
    case 2: {
      // truncation
      const at = r.next() < 0.3 ? r.int(0, Math.min(n, 64)) : pos();
      return { bytes: src.slice(0, at), what: `truncate to ${at}` };
    }
    case 3: {
      // random bytes inserted
      const at = pos(),
        len = r.pick([1, 4, 16, 256]);
      const junk = Uint8Array.from({ length: len }, () => r.int(0, 255));
      return {
        bytes: concat(src.subarray(0, at), junk, src.subarray(at)),
        what: `insert ${len} random bytes at ${at}`,
      };
    }
    case 4: {
      // chunk deleted
      const at = pos(),
        len = r.pick([1, 4, 16, 256, 4096]);
      return {
        bytes: concat(src.subarray(0, at), src.subarray(Math.min(n, at + len))),
        what: `delete ${len} bytes at ${at}`,
      };
    }
    case 5: {
      // chunk duplicated in place
      const at = pos(),
        len = Math.min(r.pick([4, 64, 1024]), n - at);
      return {
        bytes: concat(src.subarray(0, at + len), src.subarray(at, at + len), src.subarray(at + len)),
        what: `duplicate ${len} bytes at ${at}`,
      };
    }
    case 6: {
      // chunk copied over another place
      const out = src.slice();
      const from = pos(),
        to = pos(),
        len = r.pick([4, 16, 256]);
      out.set(src.subarray(from, Math.min(n, from + len)).subarray(0, Math.max(0, n - to)), to);
      return { bytes: out, what: `copy ${len} bytes from ${from} to ${to}` };
    }
    case 7: {
      // an interesting integer at a random place
      const out = src.slice();
      const at = pos(),
        v = r.pick(INTERESTING),
        w = r.pick([1, 2, 4, 4, 8] as const);
      writeInt(out, at, v, w);
      return { bytes: out, what: `int${w * 8} ${v} at ${at}` };
    }
    default: {
      // an interesting integer at a 4-aligned place (flatbuffer offsets and lengths are aligned)
      const out = src.slice();
      const at = pos() & ~3,
        v = r.pick(INTERESTING);
      writeInt(out, at, v, 4);
      return { bytes: out, what: `aligned int32 ${v} at ${at}` };
    }
  }
}
