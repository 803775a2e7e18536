/**
 * Distorted MNIST, the STN paper's RTS setting, exactly as tools/train_stn.py makes it: a 28x28
 * digit centred on a 42x42 canvas, rotated, scaled and translated, sampled bilinearly with zeros
 * outside (torch grid_sample, align_corners=False). Pixels are intensities in [0, 1].
 * Used by the rectify demo, tools/eval_stn.ts and test/models/stn-mnist.test.ts; no GPU, no DOM.
 */

export const CANVAS = 42;
export const DIGIT = 28;
/** the training distribution: angle U(-60, 60) deg, scale U(0.7, 1.2), shift U(-0.3, 0.3) of the half-canvas per axis */
export const RTS = { maxAngle: 60, scale: [0.7, 1.2], maxShift: 0.3 } as const;

export interface Distortion {
  /** degrees; positive turns the digit clockwise on screen (y points down) */
  angle: number;
  scale: number;
  /** shifts in normalised canvas units (-1..1 spans the canvas), x right, y down */
  tx: number;
  ty: number;
}

export const IDENTITY: Distortion = { angle: 0, scale: 1, tx: 0, ty: 0 };

/** Seeded PRNG (mulberry32), uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One draw from the RTS distribution. */
export function randomDistortion(next: () => number): Distortion {
  const u = [next(), next(), next(), next()];
  return {
    angle: (u[0] * 2 - 1) * RTS.maxAngle,
    scale: RTS.scale[0] + (RTS.scale[1] - RTS.scale[0]) * u[1],
    tx: (u[2] * 2 - 1) * RTS.maxShift,
    ty: (u[3] * 2 - 1) * RTS.maxShift,
  };
}

/**
 * The sampling matrix (affine_grid theta, row-major [2,3]) of a distortion: its forward map is
 * q = s R p + t (digit -> canvas), so each output pixel q samples p = R^T (q - t) / s.
 */
export function distortionTheta(d: Distortion): number[] {
  const a = (d.angle * Math.PI) / 180;
  const c = Math.cos(a) / d.scale,
    s = Math.sin(a) / d.scale;
  return [c, s, -(c * d.tx + s * d.ty), -s, c, -(-s * d.tx + c * d.ty)];
}

/** A 28x28 digit (bytes 0..255 or floats 0..1) centred on the empty 42x42 canvas, as floats in [0, 1]. */
export function centre(digit: ArrayLike<number>, bytes = true): Float32Array {
  const out = new Float32Array(CANVAS * CANVAS),
    pad = (CANVAS - DIGIT) / 2;
  for (let y = 0; y < DIGIT; y++)
    for (let x = 0; x < DIGIT; x++)
      out[(y + pad) * CANVAS + x + pad] = bytes ? digit[y * DIGIT + x] / 255 : digit[y * DIGIT + x];
  return out;
}

/** torch grid_sample(affine_grid(theta)) on one size x size channel: bilinear, zeros outside, align_corners=False. */
export function warp(src: ArrayLike<number>, theta: ArrayLike<number>, size = CANVAS): Float32Array {
  const out = new Float32Array(size * size);
  const at = (x: number, y: number) => (x >= 0 && x < size && y >= 0 && y < size ? src[y * size + x] : 0);
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++) {
      const gx = (2 * j + 1) / size - 1,
        gy = (2 * i + 1) / size - 1;
      const x = ((theta[0] * gx + theta[1] * gy + theta[2] + 1) * size - 1) / 2;
      const y = ((theta[3] * gx + theta[4] * gy + theta[5] + 1) * size - 1) / 2;
      const x0 = Math.floor(x),
        y0 = Math.floor(y),
        fx = x - x0,
        fy = y - y0;
      out[i * size + j] =
        at(x0, y0) * (1 - fx) * (1 - fy) +
        at(x0 + 1, y0) * fx * (1 - fy) +
        at(x0, y0 + 1) * (1 - fx) * fy +
        at(x0 + 1, y0 + 1) * fx * fy;
    }
  return out;
}

/** A distorted canvas of one 28x28 digit. */
export function distortDigit(digit: ArrayLike<number>, d: Distortion, bytes = true): Float32Array {
  return warp(centre(digit, bytes), distortionTheta(d));
}

/** Raw MNIST IDX bytes (images magic 2051 -> [n, 28*28] bytes; labels magic 2049 -> n bytes). */
export function parseIdx(bytes: Uint8Array): { count: number; data: Uint8Array; magic: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint32(0),
    count = v.getUint32(4);
  if (magic === 2051) return { magic, count, data: bytes.subarray(16, 16 + count * v.getUint32(8) * v.getUint32(12)) };
  if (magic === 2049) return { magic, count, data: bytes.subarray(8, 8 + count) };
  throw new Error(`not an MNIST IDX file (magic ${magic})`);
}

/**
 * The fixed distorted test set: test digits first..first+count, one RTS draw each from
 * mulberry32(seed), as one [count, 1, 42, 42] batch (tools/eval_stn.ts and the test use seed 1234).
 */
export function distortedSet(images: Uint8Array, first: number, count: number, seed = 1234): Float32Array {
  const next = mulberry32(seed),
    out = new Float32Array(count * CANVAS * CANVAS);
  for (let i = 0; i < first; i++) randomDistortion(next);
  for (let i = 0; i < count; i++) {
    const k = first + i;
    out.set(
      distortDigit(images.subarray(k * DIGIT * DIGIT, (k + 1) * DIGIT * DIGIT), randomDistortion(next)),
      i * CANVAS * CANVAS,
    );
  }
  return out;
}
