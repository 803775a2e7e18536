import { rng } from '../../test/helpers/random';
import { mutateBytes } from './mutate-bytes';
import { mutateOnnx } from './mutate-onnx';
import { mutateTflite } from './mutate-tflite';
import { mutateNpy, mutateSafetensors } from './mutate-tensors';
import { seeds, type Format, type Seed } from './seeds';

/**
 * Case `index` of a run with seed `seed`: which format (round-robin over the formats asked for),
 * which seed file, which mutation: all from one PRNG seeded by (seed, index), so a case is
 * reproduced by its two numbers alone (`npm run fuzz -- --seed S --only I`).
 */

export interface FuzzCase {
  index: number;
  format: Format;
  seed: string;
  /** what was done to the seed */
  what: string;
  bytes: Uint8Array;
}

const cache = new Map<Format, Seed[]>();
export function seedsOf(format: Format): Seed[] {
  let s = cache.get(format);
  // plain Uint8Array copies: protobufjs hands out Node Buffers, whose slice() is a view
  if (!s) cache.set(format, (s = seeds(format).map((x) => ({ ...x, bytes: new Uint8Array(x.bytes) }))));
  return s;
}

/** A 32-bit hash of the run seed and case index (splitmix-style mixing). */
function mix(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export function makeCase(seed: number, index: number, formats: Format[]): FuzzCase {
  const format = formats[index % formats.length];
  const r = rng(mix(seed, index));
  const s = r.pick(seedsOf(format));
  // structure-aware most of the time, raw bytes otherwise (both sometimes: structure first)
  const structured = r.next() < 0.65;
  let m = { bytes: s.bytes, what: '' };
  if (structured) {
    if (format === 'onnx') m = mutateOnnx(s.bytes, r);
    else if (format === 'tflite') m = mutateTflite(s.bytes, s.tflite, r);
    else if (format === 'safetensors') m = mutateSafetensors(s.bytes, r);
    else m = mutateNpy(s.bytes, r);
  }
  if (!structured || r.next() < 0.15) {
    const b = mutateBytes(m.bytes, r);
    m = { bytes: b.bytes, what: m.what ? `${m.what}; then ${b.what}` : b.what };
  }
  return { index, format, seed: s.name, what: m.what, bytes: m.bytes };
}
