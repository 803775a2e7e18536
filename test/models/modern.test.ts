import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/index';
import { gpu } from '../helpers/gpu';
import { expectNetClose, ortRun } from '../helpers/ort';
import { rng } from '../helpers/random';

/**
 * Segmentation architectures users bring, written in PyTorch (tools/refs/{segformer,u2net,segnet}.py,
 * random weights, narrow) and exported at opset 17 with dynamic batch/height/width: each file runs
 * at three sizes, odd ones included, through one Session against onnxruntime-web (CPU) on the same
 * bytes, under the networks' rule |got - ref| <= 1e-4*max(1,max|ref|) + 1e-3*|ref|. One submit per
 * run: attention (MatMul -> scale -> Softmax -> MatMul), the spatial-reduction convs, the shape
 * chains and MaxUnpool stay on the GPU.
 */
const SIZES = [
  [1, 3, 64, 64],
  [2, 3, 48, 80],
  [1, 3, 45, 71],
];

const MODELS = [
  { name: 'segformer_s', what: 'SegFormer-B0-shaped (MiT: overlapping patch embeds, efficient attention, Mix-FFN)' },
  { name: 'u2net_s', what: 'U^2-Net-shaped (RSU blocks, dilated convs, upsampling to skip sizes, 7 sigmoid maps)' },
  { name: 'segnet_s', what: 'SegNet-shaped (MaxPool indices -> MaxUnpool)' },
];

describe('modern segmentation architectures at three sizes vs onnxruntime', () => {
  for (const m of MODELS) {
    it(`${m.name}: ${m.what}`, async () => {
      const bytes = new Uint8Array(readFileSync(`test/fixtures/models/${m.name}.onnx`));
      const rt = await gpu();
      const s = await Session.create(bytes, { device: rt, source: `${m.name}.onnx` });
      try {
        const r = rng(7);
        for (const dims of SIZES) {
          const x = Float32Array.from(
            r.array(
              dims.reduce((a, b) => a * b, 1),
              -2,
              2,
            ),
          );
          const ref = (await ortRun(bytes, { input: { data: x, dims } })).out;
          const before = rt.submits;
          const y = (await s.run({ input: { data: x, dims } })).out;
          expect(rt.submits - before, `${m.name} [${dims}]: submits`).toBe(1);
          expect(y.shape, `${m.name} [${dims}]: shape`).toEqual(ref.dims);
          const got = await y.read();
          y.dispose();
          const { maxAbsErr } = expectNetClose(got, ref.data, `${m.name} [${dims}]`);
          console.log(`${m.name} [${dims}] -> [${ref.dims}]: max abs err ${maxAbsErr.toExponential(2)}`);
        }
      } finally {
        s.dispose();
      }
    }, 120_000);
  }
});
