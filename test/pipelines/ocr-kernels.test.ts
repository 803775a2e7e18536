import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { applyHomography, homography, type Quad } from '../../src/pipelines/ocr/geometry';
import { binarize, ctcArgmax, detInput, rectify, type LineWarp } from '../../src/pipelines/ocr/kernels';
import { uploadSource } from '../../src/pipelines/ocr/source';
import { gpu } from '../helpers/gpu';
import { rng } from '../helpers/random';

/** The OCR pipeline's own GPU kernels (shaders/ocr/) against plain f64 references. */

function randomRgba(seed: number, w: number, h: number) {
  const r = rng(seed);
  return { data: Uint8ClampedArray.from({ length: w * h * 4 }, () => r.int(0, 255)), width: w, height: h };
}

/** f64 reference: bilinear at a continuous point (pixel centres at +0.5), edge pixels repeated; channel c of RGBA in [0,1]. */
function bilinear(
  img: { data: ArrayLike<number>; width: number; height: number },
  x: number,
  y: number,
  c: number,
): number {
  const at = (i: number, j: number) => {
    const ci = Math.min(img.width - 1, Math.max(0, i)),
      cj = Math.min(img.height - 1, Math.max(0, j));
    return img.data[(cj * img.width + ci) * 4 + c] / 255;
  };
  const tx = x - 0.5,
    ty = y - 0.5,
    i = Math.floor(tx),
    j = Math.floor(ty),
    fx = tx - i,
    fy = ty - j;
  return (at(i, j) * (1 - fx) + at(i + 1, j) * fx) * (1 - fy) + (at(i, j + 1) * (1 - fx) + at(i + 1, j + 1) * fx) * fy;
}
const taps = (ratio: number) => Math.min(8, Math.max(1, Math.ceil(ratio - 1e-6)));

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, label: string) {
  expect(got.length, label).toBe(want.length);
  let worst = 0,
    at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= worst)) (worst = e), (at = i);
  }
  expect(worst, `${label}: worst at ${at}: got ${got[at]} want ${want[at]}`).toBeLessThanOrEqual(tol);
  return worst;
}

describe('OCR kernels', () => {
  it('det input: planar B,G,R resize (enlarging: one bilinear tap; shrinking: taps over the footprint) vs f64', async () => {
    const rt = await gpu();
    for (const [w, h, ow, oh] of [
      [37, 23, 64, 32],
      [100, 70, 32, 32],
    ]) {
      const src = randomRgba(w * h, w, h);
      const img = uploadSource(rt, src);
      const out = detInput(rt, img, ow, oh);
      const got = await rt.read(out);
      rt.release(out), rt.pool.release(img.buffer);
      const want = new Float64Array(3 * ow * oh);
      const sx = w / ow,
        sy = h / oh,
        kx = taps(sx),
        ky = taps(sy);
      for (let y = 0; y < oh; y++)
        for (let x = 0; x < ow; x++)
          for (let c = 0; c < 3; c++) {
            let acc = 0;
            for (let b = 0; b < ky; b++)
              for (let a = 0; a < kx; a++)
                acc += bilinear(src, (x + (a + 0.5) / kx) * sx, (y + (b + 0.5) / ky) * sy, c);
            want[(2 - c) * ow * oh + y * ow + x] = acc / (kx * ky); // plane 0 = B
          }
      expectClose(got, want, 2e-5, `detInput ${w}x${h}->${ow}x${oh}`);
    }
  });

  it('rectify: homography sampling of quads into a padded [lines,3,H,W] batch, (x-0.5)/0.5, vs f64', async () => {
    const rt = await gpu();
    const src = randomRgba(7, 61, 45);
    const img = uploadSource(rt, src);
    const H = 12,
      W = 32;
    const quads: Quad[] = [
      [
        [5.5, 20],
        [50, 8.25],
        [53, 20.5],
        [8, 33],
      ], // rotated, slightly perspective
      [
        [10, 5],
        [30, 5],
        [30, 40],
        [10, 40],
      ], // tall: shrinks 35/12 -> 3 taps
    ];
    const widths = [29, 7];
    const lines: LineWarp[] = quads.map((q, i) => ({
      h: homography(
        [
          [0, 0],
          [widths[i], 0],
          [widths[i], H],
          [0, H],
        ],
        q,
      ),
      width: widths[i],
      shrink: i === 1 ? 35 / H : 1,
    }));
    const out = rectify(rt, img, lines, W, H, { scale: 2, bias: -1, pad: 0.25 });
    const got = await rt.read(out);
    rt.release(out), rt.pool.release(img.buffer);
    const want = new Float64Array(2 * 3 * H * W);
    lines.forEach((l, n) => {
      const k = taps(l.shrink);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < 3; c++) {
            let v = 0.25;
            if (x < l.width) {
              let acc = 0;
              for (let b = 0; b < k; b++)
                for (let a = 0; a < k; a++) {
                  const [px, py] = applyHomography(l.h, [x + (a + 0.5) / k, y + (b + 0.5) / k]);
                  acc += bilinear(src, px, py, c);
                }
              v = (acc / (k * k)) * 2 - 1;
            }
            want[((n * 3 + (2 - c)) * H + y) * W + x] = v;
          }
    });
    expectClose(got, want, 2e-4, 'rectify');
  });

  it('binarize: bit 7 = p > thresh (exact at the threshold), bits 0-6 = round(127 p)', async () => {
    const rt = await gpu();
    const r = rng(3);
    const p = Float32Array.from({ length: 1001 }, (_, i) => (i % 50 === 0 ? 0.3 : r.next()));
    p[7] = Math.fround(0.3) + 2 ** -24; // just above
    const t = rt.upload(p, [p.length]);
    const out = binarize(rt, t, p.length, 0.3);
    const words = await rt.read(out);
    rt.release(t, out);
    const bytes = new Uint8Array(words.buffer, words.byteOffset, p.length);
    const want = Uint8Array.from(p, (v) => (v > Math.fround(0.3) ? 128 : 0) | Math.round(v * 127));
    expect(Array.from(bytes)).toEqual(Array.from(want));
    expect(bytes[7] & 128).toBe(128);
    expect(bytes[0] & 128).toBe(0);
  });

  it('ctcArgmax: index (first on ties) and value of each row max', async () => {
    const rt = await gpu();
    const r = rng(4),
      rows = 37,
      C = 6625;
    const x = Float32Array.from({ length: rows * C }, () => r.next());
    (x[5 * C + 100] = 2), (x[5 * C + 4000] = 2); // tie: the first wins
    x[9 * C + C - 1] = 3; // last class
    const t = rt.upload(x, [rows, C]);
    const out = ctcArgmax(rt, t, rows, C);
    const raw = await rt.read(out);
    rt.release(t, out);
    const f = new Float32Array(raw.buffer, raw.byteOffset, raw.length);
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (x[i * C + c] > x[i * C + best]) best = c;
      expect(raw[2 * i], `row ${i}`).toBe(best);
      expect(f[2 * i + 1]).toBe(x[i * C + best]);
    }
    expect(raw[10]).toBe(100);
    expect(raw[18]).toBe(C - 1);
  });

  it('uploadSource refuses bad RGBA input with BAD_INPUT and leaves it untouched', async () => {
    const rt = await gpu();
    const data = new Uint8Array(4 * 6).fill(9);
    const bad = [
      [{ data, width: 2, height: 2 }, /holds 24 bytes; 2x2 needs 16/],
      [{ data, width: 0, height: 6 }, /0x6/],
      [{ data: new Float32Array(24), width: 2, height: 3 }, /Uint8Array or Uint8ClampedArray, got Float32Array/],
      [null, /got null/],
    ] as const;
    for (const [src, msg] of bad) {
      let err: unknown;
      try {
        uploadSource(rt, src as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WgsegError);
      expect((err as WgsegError).code).toBe('BAD_INPUT');
      expect((err as Error).message).toMatch(msg);
    }
    expect(data.every((v) => v === 9)).toBe(true);
  });
});
