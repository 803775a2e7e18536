import { expandRect, minAreaRect, readingQuad, type Point, type Quad, type RotatedRect } from './geometry';

/**
 * DB (differentiable binarization) post-processing on the host, on the byte map that
 * shaders/ocr/binarize.wgsl made on the GPU (bit 7: p > thresh; bits 0-6: round(127 p)):
 * 8-connected components of the binary map (row runs + union-find), minimum-area rectangle of
 * each component's pixel centres, box score = mean probability inside that rectangle (DB's
 * box_score_fast), unclip = grow the rectangle by area * ratio / perimeter on every side, size
 * filters. Coordinates are det-map pixel indices (pixel centres at integers).
 */

export interface DbOptions {
  /** minimum mean probability inside a box (default 0.6) */
  boxThresh?: number;
  /** unclip ratio (default 1.5) */
  unclipRatio?: number;
  /** shortest side of a component's rectangle, in det pixels (default 3; 5 after unclip) */
  minSize?: number;
  /** largest number of components considered (default 1000) */
  maxCandidates?: number;
}

export interface DbBox {
  /** the unclipped rectangle, det-map coordinates */
  rect: RotatedRect;
  /** corners in reading order (TL, TR, BR, BL), det-map coordinates */
  quad: Quad;
  score: number;
}

/** Row runs of set pixels, labelled by 8-connected component. */
export function components(map: Uint8Array, width: number, height: number): { y: number; x0: number; x1: number }[][] {
  const runs: { y: number; x0: number; x1: number }[] = [];
  const parent: number[] = [];
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  let prevStart = 0,
    prevEnd = 0;
  for (let y = 0; y < height; y++) {
    const rowStart = runs.length,
      o = y * width;
    for (let x = 0; x < width; x++) {
      if (!(map[o + x] & 128)) continue;
      const x0 = x;
      while (x + 1 < width && map[o + x + 1] & 128) x++;
      const id = runs.length;
      runs.push({ y, x0, x1: x });
      parent.push(id);
      // runs of the previous row touching [x0 - 1, x + 1] (8-connectivity)
      for (let j = prevStart; j < prevEnd; j++) {
        const r = runs[j];
        if (r.x1 < x0 - 1) continue;
        if (r.x0 > x + 1) break;
        const a = find(j),
          b = find(id);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
    prevStart = rowStart;
    prevEnd = runs.length;
  }
  const groups = new Map<number, { y: number; x0: number; x1: number }[]>();
  runs.forEach((r, i) => {
    const root = find(i);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = []));
    g.push(r);
  });
  return [...groups.values()];
}

/** Mean of the probability bits over pixels whose centres lie in the rectangle (half a pixel of slack, as a filled polygon covers its edge pixels). */
export function rectScore(map: Uint8Array, width: number, height: number, r: RotatedRect): number {
  const [ux, uy] = r.u,
    hw = r.w / 2 + 0.5,
    hh = r.h / 2 + 0.5;
  const ext = Math.abs(ux) * hw + Math.abs(uy) * hh,
    eyt = Math.abs(uy) * hw + Math.abs(ux) * hh;
  const x0 = Math.max(0, Math.floor(r.cx - ext)),
    x1 = Math.min(width - 1, Math.ceil(r.cx + ext));
  const y0 = Math.max(0, Math.floor(r.cy - eyt)),
    y1 = Math.min(height - 1, Math.ceil(r.cy + eyt));
  let sum = 0,
    n = 0;
  for (let y = y0; y <= y1; y++)
    for (let x = x0; x <= x1; x++) {
      const dx = x - r.cx,
        dy = y - r.cy;
      if (Math.abs(dx * ux + dy * uy) > hw || Math.abs(-dx * uy + dy * ux) > hh) continue;
      sum += map[y * width + x] & 127;
      n++;
    }
  return n ? sum / n / 127 : 0;
}

export function dbBoxes(map: Uint8Array, width: number, height: number, opts: DbOptions = {}): DbBox[] {
  const boxThresh = opts.boxThresh ?? 0.6,
    ratio = opts.unclipRatio ?? 1.5,
    minSize = opts.minSize ?? 3,
    max = opts.maxCandidates ?? 1000;
  const out: DbBox[] = [];
  for (const runs of components(map, width, height).slice(0, max)) {
    const pts: Point[] = [];
    for (const r of runs) pts.push([r.x0, r.y], [r.x1, r.y]);
    const rect = minAreaRect(pts);
    if (Math.min(rect.w, rect.h) < minSize) continue;
    const score = rectScore(map, width, height, rect);
    if (score < boxThresh) continue;
    const d = (rect.w * rect.h * ratio) / (2 * (rect.w + rect.h));
    const grown = expandRect(rect, d);
    if (Math.min(grown.w, grown.h) < minSize + 2) continue;
    out.push({ rect: grown, quad: readingQuad(grown), score });
  }
  return out;
}
