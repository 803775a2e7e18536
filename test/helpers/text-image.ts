import { rng } from './random';

/**
 * A page-like RGB image (light paper, dark text lines made of glyph-like strokes), normalised as
 * PaddleOCR does: (x/255 - mean) / std per channel, NCHW.
 */
export function textImage(h: number, w: number, seed: number): { data: Float32Array; dims: number[] } {
  const r = rng(seed);
  const px = new Float32Array(h * w).map(
    (_, i) => 235 + 12 * ((i % w) / w) - 8 * (Math.floor(i / w) / h) + r.uniform(-4, 4),
  );
  const ink = (y0: number, x0: number, hh: number, ww: number, v: number) => {
    for (let y = Math.max(0, y0); y < Math.min(h, y0 + hh); y++)
      for (let x = Math.max(0, x0); x < Math.min(w, x0 + ww); x++) px[y * w + x] = v + r.uniform(-6, 6);
  };
  for (let y = 30; y < h - 40; y += r.int(38, 64)) {
    const size = r.int(14, 28);
    let x = r.int(20, 80);
    const end = w - r.int(20, 200);
    while (x < end - size) {
      // a glyph: a few horizontal / vertical strokes inside a size x size cell
      const v = r.uniform(20, 70),
        t = Math.max(2, Math.round(size / 8));
      for (let k = r.int(2, 4); k > 0; k--) {
        if (r.next() < 0.5) ink(y + r.int(0, size - t), x + r.int(0, size / 3), t, r.int(size / 2, size), v);
        else ink(y + r.int(0, size / 3), x + r.int(0, size - t), r.int(size / 2, size), t, v);
      }
      x += size + r.int(2, 8) + (r.next() < 0.12 ? size : 0); // word gaps
    }
  }
  const mean = [0.485, 0.456, 0.406],
    std = [0.229, 0.224, 0.225];
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) data[c * h * w + i] = (px[i] / 255 - mean[c]) / std[c];
  return { data, dims: [1, 3, h, w] };
}
