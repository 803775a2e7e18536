import type { Point, Quad } from '../../src/pipelines/ocr/geometry';

/**
 * Character error rate of OCR output against a rendered scene's true lines. Each read line is
 * assigned to the true line whose quadrilateral holds its box centre (else the nearest true line
 * within one line height; else it counts as inserted characters); the lines assigned to one true
 * line are joined along its reading direction. CER = sum of edit distances / true characters.
 * `spaces: false` compares with all whitespace removed (PP-OCR's Chinese+ASCII model often drops
 * the space between English words); `true` collapses runs of whitespace to one space.
 */

export function editDistance(a: string, b: string): number {
  const A = [...a],
    B = [...b];
  let prev = Array.from({ length: B.length + 1 }, (_, j) => j);
  for (let i = 1; i <= A.length; i++) {
    const cur = [i];
    for (let j = 1; j <= B.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (A[i - 1] === B[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[B.length];
}

const centre = (q: Quad): Point => [
  (q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4,
  (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4,
];
function inside(q: Quad, p: Point): boolean {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const a = q[i],
      b = q[(i + 1) % 4];
    const c = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
    if (c !== 0) {
      if (sign && Math.sign(c) !== sign) return false;
      sign = Math.sign(c);
    }
  }
  return true;
}

export interface CerResult {
  errors: number;
  chars: number;
  /** per true line: truth, what was read for it, edit distance */
  lines: { truth: string; read: string; errors: number }[];
  /** read lines matched to no true line */
  extra: string[];
}

export function sceneCer(
  read: { text: string; box: Quad }[],
  truth: { text: string; quad: Quad }[],
  spaces: boolean,
): CerResult {
  const norm = (s: string) => (spaces ? s.trim().replace(/\s+/g, ' ') : s.replace(/\s+/g, ''));
  const groups: { text: string; at: number }[][] = truth.map(() => []);
  const extra: string[] = [];
  for (const r of read) {
    const c = centre(r.box);
    let k = truth.findIndex((t) => inside(t.quad, c));
    if (k < 0) {
      let best = Infinity;
      truth.forEach((t, i) => {
        const [x, y] = centre(t.quad),
          h = Math.hypot(t.quad[3][0] - t.quad[0][0], t.quad[3][1] - t.quad[0][1]);
        const dist = Math.hypot(x - c[0], y - c[1]);
        if (dist < h && dist < best) (best = dist), (k = i);
      });
    }
    if (k < 0) {
      extra.push(r.text);
      continue;
    }
    const q = truth[k].quad,
      u = [q[1][0] - q[0][0], q[1][1] - q[0][1]];
    groups[k].push({ text: r.text, at: c[0] * u[0] + c[1] * u[1] });
  }
  let errors = 0,
    chars = 0;
  const lines = truth.map((t, i) => {
    const readText = groups[i]
      .sort((a, b) => a.at - b.at)
      .map((g) => g.text)
      .join(' ');
    const e = editDistance(norm(t.text), norm(readText));
    errors += e;
    chars += [...norm(t.text)].length;
    return { truth: t.text, read: readText, errors: e };
  });
  for (const x of extra) errors += [...norm(x)].length;
  return { errors, chars, lines, extra };
}
