import { describe, expect, it } from 'vitest';
import { ctcGreedy, parseDictionary } from '../../src/pipelines/ocr/ctc';
import { components, dbBoxes, rectScore } from '../../src/pipelines/ocr/db';
import {
  applyHomography,
  convexHull,
  homography,
  minAreaRect,
  readingQuad,
  type Point,
  type Quad,
} from '../../src/pipelines/ocr/geometry';
import { rng } from '../helpers/random';

/** Host-side OCR pieces (no GPU) against brute-force f64 references. */

const randomPoints = (seed: number, n: number): Point[] => {
  const r = rng(seed);
  const a = r.uniform(0, Math.PI),
    c = Math.cos(a),
    s = Math.sin(a),
    w = r.uniform(5, 60),
    h = r.uniform(1, 15);
  return Array.from({ length: n }, () => {
    const u = r.uniform(-w, w),
      v = r.uniform(-h, h);
    return [Math.round(50 + u * c - v * s), Math.round(40 + u * s + v * c)] as Point;
  });
};

describe('convexHull / minAreaRect', () => {
  it('hull holds every point and is convex (random sets)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const pts = randomPoints(seed, 40),
        hull = convexHull(pts);
      const n = hull.length;
      for (let i = 0; i < n; i++) {
        const a = hull[i],
          b = hull[(i + 1) % n];
        for (const p of pts)
          expect((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])).toBeGreaterThanOrEqual(-1e-9);
      }
    }
  });

  it('minimum-area rectangle: area equals the best of a 0.005-degree sweep (within its step) and holds every point', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const pts = randomPoints(100 + seed, 30);
      const r = minAreaRect(pts);
      let sweep = Infinity;
      for (let k = 0; k < 36000; k++) {
        const a = (k * Math.PI) / 36000,
          c = Math.cos(a),
          s = Math.sin(a);
        let a0 = Infinity,
          a1 = -Infinity,
          b0 = Infinity,
          b1 = -Infinity;
        for (const [x, y] of pts) {
          const p = x * c + y * s,
            q = -x * s + y * c;
          (a0 = Math.min(a0, p)), (a1 = Math.max(a1, p)), (b0 = Math.min(b0, q)), (b1 = Math.max(b1, q));
        }
        sweep = Math.min(sweep, (a1 - a0) * (b1 - b0));
      }
      expect(r.w * r.h).toBeLessThanOrEqual(sweep + 1e-9);
      expect(r.w * r.h).toBeGreaterThan(sweep * (1 - 1e-3) - 1e-6);
      for (const [x, y] of pts) {
        const dx = x - r.cx,
          dy = y - r.cy;
        expect(Math.abs(dx * r.u[0] + dy * r.u[1])).toBeLessThanOrEqual(r.w / 2 + 1e-9);
        expect(Math.abs(-dx * r.u[1] + dy * r.u[0])).toBeLessThanOrEqual(r.h / 2 + 1e-9);
      }
    }
  });

  it('readingQuad: TL, TR, BR, BL along the long side, left to right, for any edge the rectangle was found on', () => {
    for (const deg of [0, 12, -12, 30, -30, 44, -44]) {
      const a = (deg * Math.PI) / 180;
      for (const flip of [1, -1]) {
        // the same rectangle, described with u along its long side (either sign) or along its short side
        const u: Point = [flip * Math.cos(a), flip * Math.sin(a)],
          v: Point = [-u[1], u[0]];
        for (const r of [
          { cx: 10, cy: 20, w: 40, h: 10, u },
          { cx: 10, cy: 20, w: 10, h: 40, u: v },
        ]) {
          const q = readingQuad(r);
          const dir = Math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0]);
          expect(Math.abs(dir - a)).toBeLessThan(1e-9);
          expect(Math.hypot(q[1][0] - q[0][0], q[1][1] - q[0][1])).toBeCloseTo(40, 9);
          expect(Math.hypot(q[3][0] - q[0][0], q[3][1] - q[0][1])).toBeCloseTo(10, 9);
          expect(q[3][1] - q[0][1]).toBeGreaterThan(0); // BL below TL (y down)
        }
      }
    }
  });

  it('homography maps the four corners (and is projective in between)', () => {
    const from: Quad = [
      [0, 0],
      [100, 0],
      [100, 48],
      [0, 48],
    ];
    const to: Quad = [
      [12.5, 30],
      [140, 10],
      [150, 70],
      [20, 95],
    ];
    const h = homography(from, to);
    from.forEach((p, i) => {
      const q = applyHomography(h, p);
      expect(q[0]).toBeCloseTo(to[i][0], 9);
      expect(q[1]).toBeCloseTo(to[i][1], 9);
    });
    // straight lines stay straight: the image of the top edge's midpoint lies on the image of the top edge
    const m = applyHomography(h, [50, 0]);
    expect((to[1][0] - to[0][0]) * (m[1] - to[0][1]) - (to[1][1] - to[0][1]) * (m[0] - to[0][0])).toBeCloseTo(0, 6);
  });
});

describe('DB post-processing', () => {
  it('8-connected components equal a flood fill on random maps', () => {
    for (const seed of [1, 2, 3, 4]) {
      const r = rng(seed),
        w = 37,
        h = 29;
      const map = Uint8Array.from({ length: w * h }, () => (r.next() < 0.45 ? 128 | r.int(0, 127) : r.int(0, 127)));
      const label = new Int32Array(w * h).fill(-1);
      let count = 0;
      for (let i = 0; i < w * h; i++) {
        if (!(map[i] & 128) || label[i] >= 0) continue;
        const stack = [i];
        label[i] = count;
        while (stack.length) {
          const p = stack.pop()!,
            x = p % w,
            y = (p - x) / w;
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const X = x + dx,
                Y = y + dy,
                q = Y * w + X;
              if (X >= 0 && Y >= 0 && X < w && Y < h && map[q] & 128 && label[q] < 0) (label[q] = count), stack.push(q);
            }
        }
        count++;
      }
      const got = components(map, w, h);
      expect(got.length).toBe(count);
      for (const runs of got) {
        const ids = new Set<number>();
        let px = 0;
        for (const run of runs) for (let x = run.x0; x <= run.x1; x++) ids.add(label[run.y * w + x]), px++;
        expect(ids.size).toBe(1);
        expect(px).toBe(label.filter((l) => l === [...ids][0]).length);
      }
    }
  });

  it('box score is the mean probability over the rectangle; boxes of drawn rotated bars, unclipped by area*1.5/perimeter', () => {
    const w = 120,
      h = 80,
      map = new Uint8Array(w * h);
    // an axis-aligned bar x 10..49, y 10..17 (40 x 8 pixels) at p = 100/127, and a bar rotated by 20 degrees at p = 120/127
    for (let y = 10; y <= 17; y++) for (let x = 10; x <= 49; x++) map[y * w + x] = 128 | 100;
    const a = (20 * Math.PI) / 180;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const dx = x - 80,
          dy = y - 55,
          s = dx * Math.cos(a) + dy * Math.sin(a),
          t = -dx * Math.sin(a) + dy * Math.cos(a);
        if (Math.abs(s) <= 25 && Math.abs(t) <= 5) map[y * w + x] = 128 | 120;
      }
    const bar = { cx: 29.5, cy: 13.5, w: 39, h: 7, u: [1, 0] as Point };
    expect(rectScore(map, w, h, bar)).toBeCloseTo(100 / 127, 12);
    const boxes = dbBoxes(map, w, h).sort((p, q) => p.rect.cx - q.rect.cx);
    expect(boxes.length).toBe(2);
    const d = (39 * 7 * 1.5) / (2 * (39 + 7));
    expect(boxes[0].rect.w * boxes[0].rect.h).toBeCloseTo((39 + 2 * d) * (7 + 2 * d), 6);
    expect(boxes[0].score).toBeCloseTo(100 / 127, 12);
    const q = boxes[1].quad;
    expect((Math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0]) * 180) / Math.PI).toBeCloseTo(20, 0);
    expect(boxes[1].score).toBeGreaterThan(0.85);
    // the box threshold drops boxes whose mean probability is below it
    const high = dbBoxes(map, w, h, { boxThresh: 0.8 });
    expect(high.length).toBe(1);
    expect(high[0].rect.cx).toBeCloseTo(boxes[1].rect.cx, 9);
  });
});

describe('CTC decoding and the dictionary', () => {
  it('drops blanks, collapses repeats, keeps repeats split by a blank; confidence = mean of emitted steps', () => {
    const chars = ['a', 'b', 'c', ' '];
    const d = ctcGreedy([0, 1, 1, 0, 1, 2, 2, 0, 4, 3], [0.9, 0.8, 0.6, 0.9, 0.7, 0.5, 0.9, 0.9, 0.4, 1], chars);
    expect(d.text).toBe('aab c');
    expect(d.confidence).toBeCloseTo((0.8 + 0.7 + 0.5 + 0.4 + 1) / 5, 12);
    expect(ctcGreedy([0, 0], [1, 1], chars)).toEqual({ text: '', confidence: 0 });
  });

  it('dictionary: one character per line, a space appended; CRLF and a trailing newline are accepted', () => {
    expect(parseDictionary('a\nb\nc')).toEqual(['a', 'b', 'c', ' ']);
    expect(parseDictionary('a\r\nb\r\n')).toEqual(['a', 'b', ' ']);
    expect(() => parseDictionary('')).toThrow(/empty/);
  });
});
