import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { homography, type Quad } from '../../src/pipelines/ocr/geometry';
import { rng } from './random';

/**
 * Test scenes for OCR: lines of English words and digits drawn with DejaVu TrueType fonts
 * (Debian fonts-dejavu-core; @napi-rs/canvas rasterises them), then the whole page warped by a
 * rotation and an optional keystone (perspective) into the output image, with the true text and
 * the true line quadrilaterals. Deterministic for a seed.
 */

export const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONTS = [
  ['DejaVuSans.ttf', 'DejaVu Sans'],
  ['DejaVuSerif.ttf', 'DejaVu Serif'],
  ['DejaVuSansMono.ttf', 'DejaVu Sans Mono'],
] as const;

let registered = false;
/** Registers the fonts; throws naming the missing file (install Debian fonts-dejavu-core). */
export function registerFonts(): void {
  if (registered) return;
  for (const [file, family] of FONTS) {
    const path = `${FONT_DIR}/${file}`;
    if (!existsSync(path))
      throw new Error(`${path} is missing: install Debian fonts-dejavu-core (scripts/setup-webgpu.sh does)`);
    GlobalFonts.registerFromPath(path, family);
  }
  registered = true;
}

const WORDS = [
  'invoice',
  'total',
  'amount',
  'order',
  'number',
  'date',
  'customer',
  'account',
  'balance',
  'payment',
  'station',
  'street',
  'river',
  'garden',
  'market',
  'report',
  'window',
  'summer',
  'coffee',
  'ticket',
  'office',
  'north',
  'green',
  'table',
  'Paris',
  'London',
  'Berlin',
  'Monday',
  'Friday',
  'March',
  'October',
  'Hotel',
  'Room',
  'Exit',
  'Gate',
  'Price',
  'Model',
  'Level',
];
function phrase(r: ReturnType<typeof rng>): string {
  const parts: string[] = [];
  for (let k = r.int(2, 3); k > 0; k--) {
    const kind = r.next();
    if (kind < 0.6) parts.push(r.pick(WORDS));
    else if (kind < 0.8) parts.push(String(r.int(10, 99999)));
    else parts.push(`${r.int(1, 999)}.${String(r.int(0, 99)).padStart(2, '0')}`);
  }
  return parts.join(' ');
}

export interface SceneOptions {
  seed: number;
  lines?: number;
  /** font size in px (default 28) */
  fontPx?: number;
  /** page rotation in degrees (positive: counter-clockwise on screen) */
  angle?: number;
  /** keystone strength: the page's top edge shrinks by this fraction of the width (0: none) */
  perspective?: number;
}

export interface Scene {
  image: { data: Uint8ClampedArray; width: number; height: number };
  lines: { text: string; quad: Quad }[];
}

type H = number[];
const apply = (h: H, x: number, y: number): [number, number] => {
  const z = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / z, (h[3] * x + h[4] * y + h[5]) / z];
};
const mul = (a: H, b: H): H => {
  const c = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) c[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return c;
};
function invert(m: H): H {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h,
    B = -(d * i - f * g),
    C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    A,
    -(b * i - c * h),
    b * f - c * e,
    B,
    a * i - c * g,
    -(a * f - c * d),
    C,
    -(a * h - b * g),
    a * e - b * d,
  ].map((v) => v / det);
}
/** keystone: the page rectangle -> a trapezoid whose top edge is (1 - p) as wide (a homography) */
function keystone(w: number, hgt: number, p: number): H {
  const d = (p * w) / 2;
  return homography(
    [
      [0, 0],
      [w, 0],
      [w, hgt],
      [0, hgt],
    ],
    [
      [d, 0],
      [w - d, 0],
      [w, hgt],
      [0, hgt],
    ],
  );
}

export function renderScene(o: SceneOptions): Scene {
  registerFonts();
  const r = rng(o.seed);
  const n = o.lines ?? 4,
    px = o.fontPx ?? 28;
  const texts = Array.from({ length: n }, () => phrase(r));
  const fonts = texts.map(() => r.pick(FONTS)[1]);
  const measure = createCanvas(8, 8).getContext('2d');
  const widths = texts.map((t, i) => ((measure.font = `${px}px "${fonts[i]}"`), measure.measureText(t).width));
  const margin = Math.round(px * 1.5),
    gap = Math.round(px * 1.2);
  const pw = Math.ceil(Math.max(...widths) + 2 * margin),
    ph = Math.ceil(margin * 2 + n * px * 1.25 + (n - 1) * gap);
  const page = createCanvas(pw, ph);
  const ctx = page.getContext('2d');
  ctx.fillStyle = '#f3f0e8';
  ctx.fillRect(0, 0, pw, ph);
  const boxes: [number, number, number, number][] = [];
  texts.forEach((t, i) => {
    const y = margin + i * (px * 1.25 + gap);
    ctx.font = `${px}px "${fonts[i]}"`;
    ctx.fillStyle = `rgb(${r.int(10, 60)},${r.int(10, 60)},${r.int(10, 80)})`;
    ctx.textBaseline = 'top';
    ctx.fillText(t, margin, y);
    boxes.push([margin, y, margin + widths[i], y + px * 1.15]);
  });
  const src = ctx.getImageData(0, 0, pw, ph).data;
  // page -> output: keystone, then rotation about the page centre, then shift into view
  const th = ((o.angle ?? 0) * Math.PI) / 180,
    c = Math.cos(th),
    s = Math.sin(th);
  const rot: H = [c, s, 0, -s, c, 0, 0, 0, 1]; // y down: counter-clockwise on screen
  let h = mul(rot, mul([1, 0, -pw / 2, 0, 1, -ph / 2, 0, 0, 1], keystone(pw, ph, o.perspective ?? 0)));
  const corners = [
    [0, 0],
    [pw, 0],
    [pw, ph],
    [0, ph],
  ].map(([x, y]) => apply(h, x, y));
  const x0 = Math.min(...corners.map((p) => p[0])) - px,
    y0 = Math.min(...corners.map((p) => p[1])) - px;
  h = mul([1, 0, -x0, 0, 1, -y0, 0, 0, 1], h);
  const W = Math.ceil(Math.max(...corners.map((p) => p[0])) - x0 + px),
    Hh = Math.ceil(Math.max(...corners.map((p) => p[1])) - y0 + px);
  const inv = invert(h);
  const out = new Uint8ClampedArray(W * Hh * 4);
  const bg = [196, 204, 210];
  for (let y = 0; y < Hh; y++)
    for (let x = 0; x < W; x++) {
      const [u, v] = apply(inv, x + 0.5, y + 0.5);
      const o4 = (y * W + x) * 4;
      const fu = u - 0.5,
        fv = v - 0.5,
        iu = Math.floor(fu),
        iv = Math.floor(fv),
        au = fu - iu,
        av = fv - iv;
      for (let ch = 0; ch < 3; ch++) {
        const at = (xx: number, yy: number) =>
          xx < 0 || yy < 0 || xx >= pw || yy >= ph ? bg[ch] : src[(yy * pw + xx) * 4 + ch];
        const top = at(iu, iv) * (1 - au) + at(iu + 1, iv) * au,
          bot = at(iu, iv + 1) * (1 - au) + at(iu + 1, iv + 1) * au;
        out[o4 + ch] = top * (1 - av) + bot * av + r.uniform(-3, 3);
      }
      out[o4 + 3] = 255;
    }
  const lines = texts.map((text, i) => {
    const [a, b, cc, d] = boxes[i];
    return { text, quad: [apply(h, a, b), apply(h, cc, b), apply(h, cc, d), apply(h, a, d)] as Quad };
  });
  return { image: { data: out, width: W, height: Hh }, lines };
}
