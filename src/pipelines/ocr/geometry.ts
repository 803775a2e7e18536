/** Plane geometry for text boxes (host side, f64): hulls, minimum-area rectangles, homographies. */

export type Point = [number, number];
export type Quad = [Point, Point, Point, Point];

const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Convex hull, counter-clockwise in y-down coordinates' mathematical sense (Andrew's monotone chain); collinear points dropped. */
export function convexHull(points: Point[]): Point[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const lower: Point[] = [],
    upper: Point[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** A rotated rectangle: centre, unit axis `u` (the `w` side; `v` = u turned +90 deg holds the `h` side). */
export interface RotatedRect {
  cx: number;
  cy: number;
  w: number;
  h: number;
  u: Point;
}

/**
 * Minimum-area enclosing rectangle of a point set: one side lies on a hull edge (rotating
 * calipers, here by trying every edge). Degenerate sets give zero-width sides.
 */
export function minAreaRect(points: Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, w: 0, h: 0, u: [1, 0] };
  const dirs: Point[] = [[1, 0]];
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i],
      b = hull[(i + 1) % hull.length];
    const dx = b[0] - a[0],
      dy = b[1] - a[1],
      len = Math.hypot(dx, dy);
    if (len > 0) dirs.push([dx / len, dy / len]);
  }
  let best: RotatedRect | null = null,
    bestArea = Infinity;
  for (const u of dirs) {
    let a0 = Infinity,
      a1 = -Infinity,
      b0 = Infinity,
      b1 = -Infinity;
    for (const q of hull) {
      const s = q[0] * u[0] + q[1] * u[1],
        t = -q[0] * u[1] + q[1] * u[0];
      (a0 = Math.min(a0, s)), (a1 = Math.max(a1, s)), (b0 = Math.min(b0, t)), (b1 = Math.max(b1, t));
    }
    const area = (a1 - a0) * (b1 - b0);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const s = (a0 + a1) / 2,
        t = (b0 + b1) / 2;
      best = { cx: s * u[0] - t * u[1], cy: s * u[1] + t * u[0], w: a1 - a0, h: b1 - b0, u };
    }
  }
  return best!;
}

/**
 * The rectangle's corners in reading order: top-left, top-right, bottom-right, bottom-left of a
 * line read along its long side (along the side nearer horizontal unless the other is at least
 * `vertical` times longer), left to right (x grows along the reading direction).
 */
export function readingQuad(r: RotatedRect, vertical = 1.5): Quad {
  let { w, h } = r;
  let u: Point = r.u;
  // candidate axes: u (length w) and v = (-u.y, u.x) (length h); pick the reading axis
  const v: Point = [-u[1], u[0]];
  const uFlat = Math.abs(u[0]) >= Math.abs(v[0]);
  const useV = uFlat ? h >= vertical * w : w < vertical * h;
  if (useV) [u, w, h] = [v, h, w];
  if (u[0] < 0 || (u[0] === 0 && u[1] > 0)) u = [-u[0], -u[1]];
  const n: Point = [-u[1], u[0]]; // points "down" the line (y grows) for a left-to-right axis
  const hw = w / 2,
    hh = h / 2;
  const at = (s: number, t: number): Point => [r.cx + s * u[0] + t * n[0], r.cy + s * u[1] + t * n[1]];
  return [at(-hw, -hh), at(hw, -hh), at(hw, hh), at(-hw, hh)];
}

/** Grow a rectangle by `d` on every side: DB's unclip of a rectangle (a round-joined offset's minimum-area rectangle). */
export function expandRect(r: RotatedRect, d: number): RotatedRect {
  return { ...r, w: r.w + 2 * d, h: r.h + 2 * d };
}

/**
 * Homography H (row-major 3x3, h22 = 1) with H * (from_i, 1) ~ (to_i, 1) for four point pairs, by
 * Gaussian elimination with partial pivoting on the 8x8 system.
 */
export function homography(from: Quad, to: Quad): number[] {
  const A: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i],
      [X, Y] = to[i];
    A.push([x, y, 1, 0, 0, 0, -x * X, -y * X, X]);
    A.push([0, 0, 0, x, y, 1, -x * Y, -y * Y, Y]);
  }
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
    [A[c], A[p]] = [A[p], A[c]];
    const d = A[c][c];
    if (Math.abs(d) < 1e-12) throw new Error('homography: degenerate quadrilateral');
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const f = A[r][c] / d;
      if (f !== 0) for (let k = c; k < 9; k++) A[r][k] -= f * A[c][k];
    }
  }
  return [...A.map((row, i) => row[8] / row[i]), 1];
}

export function applyHomography(h: number[], [x, y]: Point): Point {
  const z = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / z, (h[3] * x + h[4] * y + h[5]) / z];
}
