import { rng } from '../helpers/random';

/**
 * A photo-like test picture for the selfie models, drawn from shapes: a person (hair, face with
 * eyes and mouth, neck, shoulders and a shirt with folds) in front of a room (a lit wall with a
 * window, a shelf with books, a plant, a floor), smooth lighting and sensor noise. RGB, HWC, uint8;
 * deterministic for a given size and seed. `person` is the drawn person's mask (1 inside).
 */
export function selfieScene(h: number, w: number, seed = 7): { rgb: Uint8Array; person: Uint8Array } {
  const r = rng(seed);
  const rgb = new Uint8Array(h * w * 3);
  const person = new Uint8Array(h * w);
  const s = Math.min(h, w); // person scale
  const cx = w * 0.52;
  const headY = h * 0.36,
    headRx = s * 0.15,
    headRy = s * 0.19;
  const books = Array.from({ length: 9 }, () => [r.uniform(0.2, 0.9), r.uniform(0.1, 0.5), r.uniform(0.1, 0.4)]);
  const noise = () => (r.next() - 0.5) * 10;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / w,
        v = y / h;
      // room: warm wall with a light falloff and a faint texture, a window top left, shelf right, floor
      const light = 1 - 0.5 * Math.hypot(u - 0.2, v - 0.2);
      let c = [200 * light + 8 * Math.sin(x * 0.9) * Math.sin(y * 0.7), 180 * light, 150 * light];
      if (u > 0.05 && u < 0.3 && v > 0.08 && v < 0.5) {
        const bar = Math.abs(u - 0.175) < 0.006 || Math.abs(v - 0.29) < 0.008;
        c = bar ? [235, 235, 230] : [150 + 60 * v, 190 + 40 * v, 240];
      }
      if (u > 0.75 && u < 0.98 && v > 0.3 && v < 0.62) {
        const k = Math.floor((u - 0.75) / 0.0256);
        const b = books[k % books.length];
        c =
          v > 0.6
            ? [90, 60, 40]
            : v > 0.3 + 0.28 * (1 - b[2])
              ? [255 * b[0], 255 * b[1], 255 * b[2]]
              : [120 * light, 100 * light, 80 * light];
      }
      if (Math.hypot((u - 0.1) * 1.4, v - 0.8) < 0.12)
        c = [40 + 50 * Math.sin(x * 1.3 + y), 110 + 40 * Math.cos(x * 0.7), 50];
      if (v > 0.88) c = [110 + 20 * Math.sin(x * 0.15), 80, 55];
      // person: torso (rounded shoulders widening downwards), neck, head with hair
      const dx = x - cx;
      const shoulderY = h * 0.62;
      const torsoHalf = s * (0.3 + 0.12 * Math.max(0, (y - shoulderY) / h));
      const inTorso =
        y > shoulderY &&
        Math.abs(dx) < torsoHalf &&
        Math.hypot(Math.max(0, Math.abs(dx) - torsoHalf + s * 0.08), Math.max(0, shoulderY + s * 0.08 - y)) < s * 0.08;
      const inNeck = Math.abs(dx) < s * 0.065 && y > headY && y <= shoulderY + 2;
      const hd = (dx / headRx) ** 2 + ((y - headY) / headRy) ** 2;
      const hair =
        (dx / (headRx * 1.1)) ** 2 + ((y - headY + s * 0.04) / (headRy * 1.05)) ** 2 < 1 && y < headY - s * 0.05;
      if (inTorso) {
        const fold = 12 * Math.sin(dx * 0.25 + y * 0.05);
        c = [40 + fold, 70 + fold, 140 + 30 * (1 - Math.abs(dx) / torsoHalf)];
      }
      if (inNeck) c = [205, 150, 120];
      if (hd < 1) {
        const shade = 1 - 0.25 * Math.max(0, dx / headRx);
        c = [225 * shade, 170 * shade, 140 * shade];
        const eye = Math.min(
          Math.hypot(dx + headRx * 0.4, y - headY + headRy * 0.1),
          Math.hypot(dx - headRx * 0.4, y - headY + headRy * 0.1),
        );
        if (eye < s * 0.02) c = [40, 30, 30];
        if (Math.abs(dx) < headRx * 0.35 && Math.abs(y - headY - headRy * 0.5) < s * 0.008) c = [150, 60, 60];
      }
      if (hair) c = [55, 35, 25];
      const p = y * w + x;
      person[p] = inTorso || inNeck || hd < 1 || hair ? 1 : 0;
      for (let k = 0; k < 3; k++) rgb[p * 3 + k] = Math.max(0, Math.min(255, Math.round(c[k] + noise())));
    }
  }
  return { rgb, person };
}
