import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { CALIBRATED, actParams, dynamicNet, floatNet, qdqNet, weights } from '../helpers/quantized-nets';
import { rng } from '../helpers/random';

/**
 * Quantized versions of a U-Net (test/helpers/quantized-nets.ts: static QDQ with per-channel int8
 * weights and uint8 activations, and dynamic DynamicQuantizeLinear + ConvInteger, as onnxruntime's
 * quantizers lay them out) through Session against onnxruntime-web (wasm, CPU) on the same bytes, at
 * two input sizes from one file. Calibration: the float model's layer outputs in onnxruntime.
 * Stated tolerance for the static model (its output is dequantized uint8): at most one quantization
 * step from onnxruntime's and at least 99% equal (measured on lavapipe: every output equal); the
 * dynamic model's float outputs under the network rule (measured: equal).
 */

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

async function ortRun(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await s.run({ input: new ort.Tensor('float32', x, dims) });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await s.release();
  }
}

const SIZES = [
  [1, 3, 16, 24],
  [2, 3, 12, 12],
];
const inputOf = (dims: number[], seed: number) =>
  Float32Array.from(
    rng(seed).array(
      dims.reduce((a, b) => a * b, 1),
      -1,
      1,
    ),
  );

async function calibrate(bytes: Uint8Array): Promise<Map<string, [number, number]>> {
  const ranges = new Map<string, [number, number]>();
  for (const [k, dims] of SIZES.entries()) {
    const x = inputOf(dims, 100 + k);
    const out = { ...(await ortRun(bytes, x, dims)), input: x };
    for (const name of CALIBRATED) {
      const d = out[name as keyof typeof out];
      const [lo, hi] = ranges.get(name) ?? [Infinity, -Infinity];
      ranges.set(name, [Math.min(lo, ...d), Math.max(hi, ...d)]);
    }
  }
  return ranges;
}

describe('quantized U-Net vs onnxruntime', () => {
  const ws = weights();
  const float = floatNet(ws);

  it('static QDQ (per-channel int8 weights, uint8 activations): the convs run as QLinearConv, weights 8-bit', async () => {
    const ranges = await calibrate(floatNet(ws, true));
    const bytes = qdqNet(ws, ranges);
    const out = actParams(...ranges.get('logits')!);
    const rt = await gpu();
    const s = await Session.create(bytes, { device: rt, source: 'unet_qdq.onnx' });
    const f = await Session.create(float, { device: rt, source: 'unet_float.onnx' });
    try {
      for (const [k, dims] of SIZES.entries()) {
        const x = inputOf(dims, 200 + k);
        const ref = (await ortRun(bytes, x, dims)).out;
        const got = await (await s.run({ input: { data: x, dims } })).out.read();
        // both outputs are dequantized uint8: count the quantization steps between them
        let exact = 0,
          worst = 0;
        for (let i = 0; i < ref.length; i++) {
          const steps = Math.round(Math.abs(got[i] - ref[i]) / out.scale);
          if (steps === 0) exact++;
          worst = Math.max(worst, steps);
        }
        console.log(
          `unet QDQ [${dims}]: ${exact} of ${ref.length} outputs equal to onnxruntime's, worst ${worst} step(s) of ${out.scale.toExponential(3)}`,
        );
        expect(worst).toBeLessThanOrEqual(1);
        expect(exact / ref.length).toBeGreaterThanOrEqual(0.99);
        if (k === 0) {
          const ops = s.optimizedGraph!.nodes.map((n) => n.op);
          expect(ops.filter((o) => o === 'QLinearConv').length).toBe(6);
          expect(ops).not.toContain('Conv');
          await f.run({ input: { data: x, dims } });
          console.log(
            `planned GPU bytes at [${dims}]: constants ${s.plannedConstantBytes} (float model ${f.plannedConstantBytes}), intermediates ${s.plannedPeakBytes} (float ${f.plannedPeakBytes})`,
          );
          expect(s.plannedConstantBytes!).toBeLessThan(f.plannedConstantBytes! / 2);
        }
      }
    } finally {
      s.dispose();
      f.dispose();
    }
  });

  it('dynamic (DynamicQuantizeLinear + ConvInteger, int8 weights)', async () => {
    const bytes = dynamicNet(ws);
    const rt = await gpu();
    const s = await Session.create(bytes, { device: rt, source: 'unet_dynamic.onnx' });
    try {
      for (const [k, dims] of SIZES.entries()) {
        const x = inputOf(dims, 300 + k);
        const ref = (await ortRun(bytes, x, dims)).logits;
        const got = await (await s.run({ input: { data: x, dims } })).logits.read();
        let worst = 0,
          peak = 0;
        for (let i = 0; i < ref.length; i++)
          (worst = Math.max(worst, Math.abs(got[i] - ref[i]))), (peak = Math.max(peak, Math.abs(ref[i])));
        console.log(`unet dynamic [${dims}]: max abs diff ${worst.toExponential(2)} at max |ref| ${peak.toFixed(3)}`);
        expect(worst).toBeLessThanOrEqual(1e-4 * Math.max(1, peak));
      }
      expect(s.optimizedGraph!.nodes.filter((n) => n.op === 'ConvInteger').length).toBe(6);
    } finally {
      s.dispose();
    }
  });
});
