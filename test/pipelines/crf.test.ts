import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import type { GpuTensor } from '../../src/core/op';
import { GraphBuilder } from '../../src/graph/builder';
import { DenseCRF, type DenseCRFOptions } from '../../src/pipelines/crf/crf';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { expectClose, TOL } from '../helpers/tolerance';
import {
  argmaxPixels,
  crfFilters,
  DEFAULT_CRF,
  denseCrf,
  meanIoU,
  syntheticScene,
  uniform,
  type CrfParams,
} from '../reference/crf';

// DenseCRF on real WebGPU against the exact O(N^2) f64 mean-field of test/reference/crf.ts.
// The position kernel is exact up to f32; the bilateral kernel is the grid approximation, whose
// error is measured (and bounded) here, filter by filter and on the final labels.

const params = (o: DenseCRFOptions): CrfParams => ({
  ...DEFAULT_CRF,
  iterations: o.iterations ?? DEFAULT_CRF.iterations,
  w1: o.bilateral?.weight ?? DEFAULT_CRF.w1,
  alpha: o.bilateral?.sigmaXY ?? DEFAULT_CRF.alpha,
  beta: o.bilateral?.sigmaRGB ?? DEFAULT_CRF.beta,
  w2: o.gaussian?.weight ?? DEFAULT_CRF.w2,
  gamma: o.gaussian?.sigmaXY ?? DEFAULT_CRF.gamma,
});

async function readAll(ts: GpuTensor[]) {
  const rt = await gpu();
  const out = await Promise.all(ts.map((t) => rt.read(t)));
  rt.release(...ts);
  return out;
}

async function runCrf(
  o: DenseCRFOptions,
  s: { H: number; W: number; C: number; img: Float32Array; probs: Float32Array },
  logits = false,
) {
  const rt = await gpu();
  const p = rt.upload(s.probs, [1, s.C, s.H, s.W]),
    im = rt.upload(s.img, [1, 3, s.H, s.W]);
  const { probs, labels } = new DenseCRF(rt, o).run(p, im, { logits });
  const [q, l] = await readAll([probs, labels, p, im]);
  return { probs: q as Float32Array, labels: l as Int32Array };
}

function compare(got: { probs: Float32Array; labels: Int32Array }, ref: { probs: Float64Array; labels: Int32Array }) {
  let maxDiff = 0,
    sum = 0,
    agree = 0;
  for (let k = 0; k < ref.probs.length; k++) {
    const d = Math.abs(got.probs[k] - ref.probs[k]);
    (maxDiff = Math.max(maxDiff, d)), (sum += d);
  }
  for (let i = 0; i < ref.labels.length; i++) agree += got.labels[i] === ref.labels[i] ? 1 : 0;
  return { maxDiff, meanDiff: sum / ref.probs.length, agreement: agree / ref.labels.length };
}

describe('DenseCRF filters vs the exact kernels', () => {
  const H = 48,
    W = 48;
  const s = syntheticScene(H, W, 3);
  const C = s.C,
    N = H * W;
  const rnd = uniform(5);
  const q = new Float32Array(C * N).map(() => rnd());

  // [options, bound on RMS relative error of the bilateral message, bound on max error / max]
  const cases: [string, DenseCRFOptions, number, number][] = [
    ['alpha 12, beta 20', { bilateral: { sigmaXY: 12, sigmaRGB: 20 } }, 0.12, 0.2],
    ['defaults (alpha 80, beta 13)', {}, 0.14, 0.25],
    ['alpha 12, beta 20, linear splat', { bilateral: { sigmaXY: 12, sigmaRGB: 20 }, splat: 'linear' }, 0.08, 0.2],
    [
      'alpha 12, beta 20, cells 0.7 sigma, linear splat',
      { bilateral: { sigmaXY: 12, sigmaRGB: 20 }, splat: 'linear', cellScale: 0.7 },
      0.035,
      0.08,
    ],
  ];
  for (const [name, o, rmsBound, maxBound] of cases) {
    it(`${name}: Gaussian exact, bilateral within RMS ${rmsBound}`, async () => {
      const rt = await gpu();
      const qt = rt.upload(q, [1, C, H, W]),
        im = rt.upload(s.img, [1, 3, H, W]);
      const f = new DenseCRF(rt, o).filter(qt, im);
      const [g, b] = (await readAll([f.gaussian, f.bilateral, qt, im])) as Float32Array[];
      const ref = crfFilters(q, s.img, H, W, C, params(o));
      // the filters include j = i (k = 1): subtract q for the sum over j != i
      const gj = g.map((v, k) => v - q[k]),
        bj = b.map((v, k) => v - q[k]);
      const gmax = Math.max(...ref.gaussian);
      expectClose(gj, ref.gaussian, { abs: 1e-4 * gmax, rel: 0 }, 'gaussian');
      let se = 0,
        sr = 0,
        maxErr = 0;
      for (let k = 0; k < C * N; k++) {
        const d = bj[k] - ref.bilateral[k];
        (se += d * d), (sr += ref.bilateral[k] ** 2), (maxErr = Math.max(maxErr, Math.abs(d)));
      }
      const rms = Math.sqrt(se / sr),
        rel = maxErr / Math.max(...ref.bilateral);
      console.log(
        `crf filter ${H}x${W} ${name}: bilateral RMS rel err ${rms.toFixed(4)}, max err / max ${rel.toFixed(4)}`,
      );
      expect(rms).toBeLessThan(rmsBound);
      expect(rel).toBeLessThan(maxBound);
    });
  }
});

describe('DenseCRF mean-field vs the exact reference (24x24)', () => {
  // soft unaries on a noisy scene; the second scene is noisier still
  const scenes = [syntheticScene(24, 24, 11, 3, 0.8, 60), syntheticScene(24, 24, 11, 3, 1.5, 120)];
  const s = scenes[0];
  const exact = (o: DenseCRFOptions, sc = s, logits = false, scores = sc.probs) =>
    denseCrf(scores, sc.img, sc.H, sc.W, sc.C, params(o), logits);

  it('0 iterations: the unaries alone, to f32', async () => {
    const got = await runCrf({ iterations: 0 }, s);
    const ref = exact({ iterations: 0 });
    expectClose(got.probs, ref.probs, TOL.f32, 'probs');
    expect(Array.from(got.labels)).toEqual(Array.from(ref.labels));
  });

  // Weights small enough that Q stays soft (the approximation shows in the probabilities), and the
  // defaults (Q saturates). Stated tolerance: max |prob diff| <= 0.06, mean <= 0.008, labels >= 98.5%.
  const cases: [string, DenseCRFOptions, number][] = [
    [
      'w1 0.01, alpha 8, beta 30, w2 0.05, gamma 2',
      { bilateral: { weight: 0.01, sigmaXY: 8, sigmaRGB: 30 }, gaussian: { weight: 0.05, sigmaXY: 2 } },
      0,
    ],
    [
      'w1 0.1, alpha 5, beta 20, w2 0.1, gamma 1.5',
      { bilateral: { weight: 0.1, sigmaXY: 5, sigmaRGB: 20 }, gaussian: { weight: 0.1, sigmaXY: 1.5 } },
      0,
    ],
    [
      'w1 0.01, alpha 8, beta 30, w2 0.05, gamma 2 (noisier scene)',
      { bilateral: { weight: 0.01, sigmaXY: 8, sigmaRGB: 30 }, gaussian: { weight: 0.05, sigmaXY: 2 } },
      1,
    ],
    ['defaults, 10 iterations', { iterations: 10 }, 0],
  ];
  for (const [name, o, sc] of cases) {
    it(`${name}: within the stated tolerance`, async () => {
      const got = await runCrf(o, scenes[sc]);
      const { maxDiff, meanDiff, agreement } = compare(got, exact(o, scenes[sc]));
      console.log(
        `crf mean-field 24x24x4 ${name}: max |prob diff| ${maxDiff.toFixed(4)}, mean ${meanDiff.toFixed(4)}, label agreement ${(agreement * 100).toFixed(2)}%`,
      );
      expect(maxDiff).toBeLessThanOrEqual(0.06);
      expect(meanDiff).toBeLessThanOrEqual(0.008);
      expect(agreement).toBeGreaterThanOrEqual(0.985);
    });
  }

  it('logits input: unary -log softmax', async () => {
    const logits = s.probs.map((p) => Math.log(p) * 1.7 + 0.3);
    const o = cases[1][1];
    const got = await runCrf(o, { ...s, probs: logits }, true);
    const { maxDiff, agreement } = compare(got, exact(o, s, true, logits));
    expect(maxDiff).toBeLessThanOrEqual(0.06);
    expect(agreement).toBeGreaterThanOrEqual(0.985);
  });
});

describe('DenseCRF on a synthetic scene', () => {
  // blurred one-hot mask + uniform noise as unaries; [scene, label agreement with exact >=]
  const scenes: [string, ReturnType<typeof syntheticScene>, number][] = [
    ['64x64', syntheticScene(64, 64, 11, 8, 1.0, 100), 0.99],
    ['64x64 noisier', syntheticScene(64, 64, 11, 8, 1.5, 140), 0.98],
  ];
  for (const [name, s, agreeMin] of scenes) {
    it(`${name}: raises mean IoU over blurred, noisy unaries (defaults)`, async () => {
      const before = meanIoU(argmaxPixels(s.probs, s.C, s.H * s.W), s.truth, s.C);
      const got = await runCrf({}, s);
      const after = meanIoU(got.labels, s.truth, s.C);
      const ref = denseCrf(s.probs, s.img, s.H, s.W, s.C, DEFAULT_CRF);
      const exactAfter = meanIoU(ref.labels, s.truth, s.C);
      const { agreement } = compare(got, ref);
      console.log(
        `crf scene ${name}: mean IoU before ${before.toFixed(4)}, after ${after.toFixed(4)} (exact mean-field ${exactAfter.toFixed(4)}; labels agree ${(agreement * 100).toFixed(2)}%)`,
      );
      expect(after).toBeGreaterThan(before + 0.2);
      expect(Math.abs(after - exactAfter)).toBeLessThan(0.02);
      expect(agreement).toBeGreaterThanOrEqual(agreeMin);
    });
  }
});

describe('DenseCRF inputs', () => {
  const s = syntheticScene(20, 28, 4, 3, 0.8, 60);
  const N = s.H * s.W;

  it('host RGBA bytes, an int32 image tensor and chunked classes give the same result', async () => {
    const rt = await gpu();
    const bytes = new Uint8ClampedArray(N * 4);
    const rounded = s.img.map(Math.round);
    for (let i = 0; i < N; i++) for (let k = 0; k < 3; k++) bytes[i * 4 + k] = rounded[k * N + i];
    const base = await runCrf({}, { ...s, img: rounded });
    const p = rt.upload(s.probs, [1, s.C, s.H, s.W]);
    const imI = rt.upload(rounded, [1, 3, s.H, s.W], 'i32');
    const crf = new DenseCRF(rt);
    const a = crf.run(p, { data: bytes, width: s.W, height: s.H });
    const b = crf.run(p, imI);
    const chunked = new DenseCRF(rt, { maxGridBytes: crf.gridShape(s.H, s.W).cells * 4 * 2 }).run(p, imI); // 2 classes per grid pass
    const outs = await readAll([a.probs, a.labels, b.probs, b.labels, chunked.probs, chunked.labels, p, imI]);
    for (let k = 0; k < 3; k++) {
      expect(Array.from(outs[2 * k])).toEqual(Array.from(base.probs));
      expect(Array.from(outs[2 * k + 1])).toEqual(Array.from(base.labels));
    }
  });

  it('refines a Session output (logits) on the GPU', async () => {
    const rt = await gpu();
    const g = new GraphBuilder('crf-logits');
    const x = g.input('x', [1, s.C, s.H, s.W]);
    g.output(g.op('Mul', [x, g.constant([2], [1])]), 'y');
    const session = await Session.create(g.build(), { device: rt });
    const logits = s.probs.map((v) => Math.log(v));
    const out = await session.run({ x: { data: logits, dims: [1, s.C, s.H, s.W] } });
    const im = rt.upload(s.img, [1, 3, s.H, s.W]);
    const o = { bilateral: { weight: 0.1, sigmaXY: 5, sigmaRGB: 20 }, gaussian: { weight: 0.1, sigmaXY: 1.5 } };
    const r = new DenseCRF(rt, o).refine(out.y, im);
    const [q, l] = await readAll([r.probs, r.labels, im]);
    const ref = denseCrf(
      logits.map((v) => 2 * v),
      s.img,
      s.H,
      s.W,
      s.C,
      params(o),
      true,
    );
    const { maxDiff, agreement } = compare({ probs: q as Float32Array, labels: l as Int32Array }, ref);
    expect(maxDiff).toBeLessThanOrEqual(0.06);
    expect(agreement).toBeGreaterThanOrEqual(0.985);
    out.y.dispose();
    session.dispose();
  });

  it('refuses bad shapes and options', async () => {
    const rt = await gpu();
    const p = rt.upload(s.probs, [1, s.C, s.H, s.W]);
    const im = rt.upload(s.img, [1, 3, s.H, s.W]);
    const crf = new DenseCRF(rt);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof WgsegError ? `${e.code}: ${e.message}` : String(e);
      }
      return 'no error';
    };
    expect(code(() => crf.run({ ...p, shape: [2, s.C, s.H / 2, s.W] }, im))).toMatch(
      /^BAD_SHAPE: DenseCRF: scores must be float \[1,C,H,W\]/,
    );
    expect(code(() => crf.run(p, { ...im, shape: [1, 3, s.W, s.H] }))).toMatch(
      /^BAD_SHAPE: DenseCRF: image must be \[1,3,20,28\], got \[1,3,28,20\]/,
    );
    expect(code(() => crf.run(p, { data: new Uint8Array(10), width: s.W, height: s.H }))).toMatch(
      /^BAD_SHAPE: DenseCRF: image 28x20x4/,
    );
    expect(code(() => new DenseCRF(rt, { iterations: -1 }))).toMatch(/^BAD_ATTRIBUTE: DenseCRF: iterations -1/);
    expect(code(() => new DenseCRF(rt, { bilateral: { sigmaRGB: 0 } }))).toMatch(
      /^BAD_ATTRIBUTE: DenseCRF: bilateral.sigmaRGB 0/,
    );
    expect(code(() => new DenseCRF(rt, { maxGridBytes: 100 }).run(p, im))).toMatch(
      /^BAD_SHAPE: DenseCRF: bilateral grid of .* cells exceeds 100 bytes/,
    );
    rt.release(p, im);
    rt.submit();
  });
});
