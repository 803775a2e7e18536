// `wgseg segment`: in-process through main(argv, io), and once as `npx wgseg` (the built CLI finding
// the shipped models from dist/). The numbers are checked against independent references: the
// selfie models' float64 reference masks (test/fixtures/selfie, tools/tflite_ref.py, the same drawn
// scene at the model's own size, so neither resize changes a value), pushed through the composite's
// formulas written here from the shader's comment (smoothstep(0.3, 0.7), the gradient, the
// 48-tap golden-angle disc blur); and a tiny ONNX mask model (1x1 conv + sigmoid, NCHW) whose
// image is twice the model's size, computed here in float64 end to end.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { SHIPPED_MODELS, shippedModelPath } from '../../src/cli/segment';
import { readNpy } from '../../src/import/npy';
import { selfieScene } from '../models/selfie-scene';
import { ensureCliBuilt, npxWgseg, ROOT } from '../helpers/npx';
import { OnnxBuilder } from '../helpers/onnx-build';
import { rng } from '../helpers/random';
import { bilinearRgba8 } from '../reference/texture';

const dir = mkdtempSync(join(tmpdir(), 'wgseg-segment-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string) => join(dir, name);
const PKG = join(ROOT, 'node_modules/@mediapipe/selfie_segmentation');
const FIX = join(ROOT, 'test/fixtures/selfie');

async function wgseg(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [],
    err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), debug: false });
  return { code, out, err };
}

/** The error contract: the exit code, exactly one stderr line starting `wgseg:`, no stack. */
function expectOneError(r: { code: number; err: string[] }, code: number, ...contains: (string | RegExp)[]): void {
  expect(r.err, 'stderr lines').toHaveLength(1);
  expect(r.code, r.err[0]).toBe(code);
  expect(r.err[0]).toMatch(/^wgseg: /);
  for (const c of contains) typeof c === 'string' ? expect(r.err[0]).toContain(c) : expect(r.err[0]).toMatch(c);
}

/** RGB (HWC) -> RGBA8 with opaque alpha. */
function rgba(rgb: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) out.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
  return out;
}

function writePng(path: string, data: Uint8Array, width: number, height: number): void {
  const png = new PNG({ width, height });
  png.data = Buffer.from(data);
  writeFileSync(path, PNG.sync.write(png));
}

/** A PNG file as RGBA8 (pngjs expands grey to RGBA), with its colour type. */
function readPng(path: string): { data: Uint8Array; width: number; height: number; colorType: number } {
  const bytes = readFileSync(path);
  const png = PNG.sync.read(bytes);
  return { data: new Uint8Array(png.data), width: png.width, height: png.height, colorType: bytes[25] };
}

const smoothstep = (lo: number, hi: number, x: number) => {
  const t = Math.min(1, Math.max(0, (x - lo) / (hi - lo)));
  return t * t * (3 - 2 * t);
};

/** Largest |got - want| over channel `c` of every pixel (got in 0..255, want in 0..1). */
function worst(got: Uint8Array, want: (i: number, c: number) => number, channels: number[]): number {
  let w = 0;
  for (let i = 0; i < got.length / 4; i++)
    for (const c of channels) w = Math.max(w, Math.abs(got[4 * i + c] / 255 - want(i, c)));
  return w;
}

describe('wgseg segment with the shipped selfie models', () => {
  // the scene at the model's input size: preprocess and the composite's mask lookup both land on
  // texel centres, so the softened reference mask is the expected output pixel for pixel
  const S = 256;
  const scene = selfieScene(S, S);
  const image = rgba(scene.rgb, S * S);
  const ref = readNpy(new Uint8Array(readFileSync(join(FIX, 'selfie_segmentation.mask.npy')))).data as Float32Array;
  const m = (i: number) => smoothstep(0.3, 0.7, ref[i]);
  beforeAll(() => {
    writePng(tmp('scene.png'), image, S, S);
    writeFileSync(tmp('scene.jpg'), jpeg.encode({ data: Buffer.from(image), width: S, height: S }, 95).data);
  });

  it('ships the files of @mediapipe/selfie_segmentation unchanged, with their licence', () => {
    for (const [name, file] of Object.entries(SHIPPED_MODELS))
      expect(readFileSync(shippedModelPath(name)!).equals(readFileSync(join(PKG, file))), file).toBe(true);
    expect(readFileSync(join(ROOT, 'models/selfie/LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('models/selfie');
  });

  it('mask (PNG in): grey PNG of the image size = smoothstep(0.3, 0.7) of the reference mask', async () => {
    const r = await wgseg('segment', tmp('scene.png'), '--out', tmp('mask.png'));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^adapter: \S/);
    expect(r.out[1]).toBe('model: selfie_segmentation.tflite (256×256), input input_1 -> mask activation_10 256x256');
    expect(r.out[2]).toMatch(
      /^\S+scene\.png \(256x256\) -> mask -> \S+mask\.png; ms: load [\d.]+, preprocess [\d.]+, model [\d.]+, composite [\d.]+ /,
    );
    const got = readPng(tmp('mask.png'));
    expect([got.width, got.height, got.colorType]).toEqual([S, S, 0]);
    const w = worst(got.data, (i) => m(i), [0, 1, 2]);
    console.log(`segment mask vs the f64 reference mask, softened: max |diff| ${(w * 255).toFixed(2)}/255`);
    expect(w).toBeLessThan(2.5 / 255);
  });

  it('a status line while it works, where the io has one (a terminal), cleared at the end', async () => {
    const status: string[] = [],
      out: string[] = [];
    const code = await main(['segment', tmp('scene.png'), '--out', tmp('mask-tty.png')], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      status: (t) => status.push(t),
    });
    expect(code, out.join('\n')).toBe(0);
    expect(status[0]).toMatch(/^wgseg: loading selfie \d+\.\d s$/);
    expect(status).toContainEqual(expect.stringMatching(/^wgseg: segmenting .* \d+\.\d s$/));
    expect(status.at(-1)).toBe('');
  });

  it('cutout: the image as it is with alpha = the softened reference mask', async () => {
    const r = await wgseg('segment', tmp('scene.png'), '--mode', 'cutout', '--out', tmp('cutout.png'));
    expect(r.err).toEqual([]);
    const got = readPng(tmp('cutout.png'));
    expect([got.width, got.height, got.colorType]).toEqual([S, S, 6]);
    expect(worst(got.data, (i, c) => image[4 * i + c] / 255, [0, 1, 2])).toBeLessThan(0.6 / 255);
    expect(worst(got.data, (i) => m(i), [3])).toBeLessThan(2.5 / 255);
  });

  it('replace and blur: mix(background, image, mask) with the default gradient and the disc blur', async () => {
    const gradient = (i: number, c: number) => {
      const v = (Math.floor(i / S) + 0.5) / S;
      return [0.15, 0.35, 0.6][c] * (1 - v) + [0.9, 0.6, 0.4][c] * v;
    };
    const blurred = (i: number, c: number) => {
      const u = ((i % S) + 0.5) / S,
        v = (Math.floor(i / S) + 0.5) / S;
      let acc = 0;
      for (let k = 0; k < 48; k++) {
        const rad = Math.sqrt((k + 0.5) / 48) * 0.03,
          a = k * 2.39996323;
        acc += bilinearRgba8(image, S, S, u + Math.cos(a) * rad, v + Math.sin(a) * rad, c);
      }
      return acc / 48;
    };
    for (const [mode, bg] of [
      ['replace', gradient],
      ['blur', blurred],
    ] as const) {
      const r = await wgseg('segment', tmp('scene.png'), '--mode', mode, '--out', tmp(`${mode}.png`));
      expect(r.err).toEqual([]);
      const got = readPng(tmp(`${mode}.png`));
      const want = (i: number, c: number) => bg(i, c) + (image[4 * i + c] / 255 - bg(i, c)) * m(i);
      const w = worst(got.data, want, [0, 1, 2]);
      console.log(`segment ${mode} vs the f64 composite: max |diff| ${(w * 255).toFixed(2)}/255`);
      expect(w, mode).toBeLessThan(3 / 255);
      expect(worst(got.data, () => 1, [3])).toBe(0); // opaque
    }
  });

  it('JPEG in: the same person (IoU > 0.97 with the reference at 0.5), default --out in the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await wgseg('segment', tmp('scene.jpg'));
      expect(r.err).toEqual([]);
      expect(r.out[2]).toContain('-> mask -> scene.mask.png;');
    } finally {
      process.chdir(cwd);
    }
    const got = readPng(tmp('scene.mask.png'));
    let inter = 0,
      union = 0;
    for (let i = 0; i < S * S; i++) {
      const a = got.data[4 * i] > 127,
        b = ref[i] > 0.5;
      inter += +(a && b);
      union += +(a || b);
    }
    expect(inter / union).toBeGreaterThan(0.97);
  });

  it('--model selfie-landscape and --model <file.tflite> (a user TFLite model)', async () => {
    const [h, w] = [144, 256];
    const land = selfieScene(h, w);
    writePng(tmp('land.png'), rgba(land.rgb, h * w), w, h);
    const want = readNpy(new Uint8Array(readFileSync(join(FIX, 'selfie_segmentation_landscape.mask.npy'))))
      .data as Float32Array;
    for (const model of ['selfie-landscape', join(PKG, 'selfie_segmentation_landscape.tflite')]) {
      const r = await wgseg('segment', tmp('land.png'), '--model', model, '--out', tmp('land-mask.png'));
      expect(r.err).toEqual([]);
      expect(r.out[1]).toMatch(/ \(256×144\), input input_1 -> mask segment_back 256x144$/);
      const got = readPng(tmp('land-mask.png'));
      expect([got.width, got.height]).toEqual([w, h]);
      expect(worst(got.data, (i) => smoothstep(0.3, 0.7, want[i]), [0])).toBeLessThan(2.5 / 255);
    }
  });
});

describe('wgseg segment with a user ONNX mask model', () => {
  // 1x1 conv + sigmoid on NCHW [1,3,6,8]; the image is 16x12, so the input is each 2x2 block's mean
  // (samples at texel corners: exact in the sampler's filter weights) and the mask is upsampled back
  const [MW, MH, IW, IH] = [8, 6, 16, 12];
  const W = [2.5, -3, 1.5],
    B = -0.5;
  const r = rng(11);
  const image = Uint8Array.from({ length: IW * IH * 4 }, (_, i) => (i % 4 === 3 ? 255 : Math.floor(r.next() * 256)));

  function maskRef(mw = MW, mh = MH): Float64Array {
    const mask = new Float64Array(mw * mh);
    for (let y = 0; y < mh; y++)
      for (let x = 0; x < mw; x++) {
        let z = B;
        for (let c = 0; c < 3; c++) z += W[c] * bilinearRgba8(image, IW, IH, (x + 0.5) / mw, (y + 0.5) / mh, c);
        mask[y * mw + x] = 1 / (1 + Math.exp(-z));
      }
    return mask;
  }

  /** The mask at output pixel (x, y): bilinear, edge-clamped, then softened. */
  function outRef(mask: Float64Array, x: number, y: number, mw = MW, mh = MH): number {
    const at = (i: number, j: number) => mask[Math.min(mh - 1, Math.max(0, j)) * mw + Math.min(mw - 1, Math.max(0, i))];
    const px = ((x + 0.5) / IW) * mw - 0.5,
      py = ((y + 0.5) / IH) * mh - 0.5;
    const fx = Math.floor(px),
      fy = Math.floor(py),
      tx = px - fx,
      ty = py - fy;
    const v =
      (at(fx, fy) * (1 - tx) + at(fx + 1, fy) * tx) * (1 - ty) +
      (at(fx, fy + 1) * (1 - tx) + at(fx + 1, fy + 1) * tx) * ty;
    return smoothstep(0.3, 0.7, v);
  }

  beforeAll(() => {
    writePng(tmp('small.png'), image, IW, IH);
    const b = new OnnxBuilder({ opset: 17 });
    const conv = b.node('Conv', [
      b.input('image', [1, 3, MH, MW]),
      b.init('w', W, [1, 3, 1, 1]),
      b.init('b', [B], [1]),
    ]);
    b.output(b.node('Sigmoid', [conv]));
    writeFileSync(tmp('mask.onnx'), b.bytes());
    // the same with dynamic_axes: [N, 3, H, W]
    const d = new OnnxBuilder({ opset: 17 });
    const dconv = d.node('Conv', [
      d.input('image', ['N', 3, 'H', 'W']),
      d.init('w', W, [1, 3, 1, 1]),
      d.init('b', [B], [1]),
    ]);
    d.output(d.node('Sigmoid', [dconv]));
    writeFileSync(tmp('dynamic.onnx'), d.bytes());
    // two inputs; a three-channel output
    const two = new OnnxBuilder({ opset: 17 });
    two.output(two.node('Add', [two.input('a', [1, 3, 8, 8]), two.input('b', [1, 3, 8, 8])]));
    writeFileSync(tmp('two-inputs.onnx'), two.bytes());
    const rgb = new OnnxBuilder({ opset: 17 });
    rgb.output(rgb.node('Relu', [rgb.input('x', [1, 3, 8, 8])]));
    writeFileSync(tmp('rgb-out.onnx'), rgb.bytes());
  });

  it('mask = the float64 conv + sigmoid of the resized image, upsampled and softened', async () => {
    const res = await wgseg('segment', tmp('small.png'), '--model', tmp('mask.onnx'), '--out', tmp('small-mask.png'));
    expect(res.err).toEqual([]);
    expect(res.out[1]).toMatch(/mask\.onnx \(8×6\), input image -> mask \S+ 8x6$/);
    const got = readPng(tmp('small-mask.png'));
    expect([got.width, got.height]).toEqual([IW, IH]);
    const mask = maskRef();
    const want = (i: number) => outRef(mask, i % IW, Math.floor(i / IW));
    let lo = 1,
      hi = 0;
    for (let i = 0; i < IW * IH; i++) (lo = Math.min(lo, want(i))), (hi = Math.max(hi, want(i)));
    expect(lo, 'the case spans the mask range').toBeLessThan(0.05);
    expect(hi, 'the case spans the mask range').toBeGreaterThan(0.95);
    // the sampler filters in 8 bits (lavapipe rounds each 2x2 mean to 1/255): 0.5/255 per input channel, times
    // sum |W| = 7 and the steepest slope of smoothstep(sigmoid) (0.94), plus the output's rounding
    const w = worst(got.data, want, [0]);
    console.log(`segment with a user ONNX model vs the f64 chain: max |diff| ${(w * 255).toFixed(2)}/255`);
    expect(w).toBeLessThan(4 / 255);
  });

  it('a model with symbolic batch/height/width runs at 1x3x256x256', async () => {
    const res = await wgseg('segment', tmp('small.png'), '--model', tmp('dynamic.onnx'), '--out', tmp('dyn-mask.png'));
    expect(res.err).toEqual([]);
    expect(res.out[1]).toMatch(/dynamic\.onnx \(256×256\), input image -> mask \S+ 256x256$/);
    const got = readPng(tmp('dyn-mask.png'));
    expect([got.width, got.height]).toEqual([IW, IH]);
    const mask = maskRef(256, 256);
    const w = worst(got.data, (i) => outRef(mask, i % IW, Math.floor(i / IW), 256, 256), [0]);
    console.log(`segment with a dynamic-size ONNX model vs the f64 chain: max |diff| ${(w * 255).toFixed(2)}/255`);
    expect(w).toBeLessThan(4 / 255);
  });

  it('bad input: one wgseg: line, exit 1 (2 for usage)', async () => {
    writeFileSync(tmp('notes.png'), 'not an image at all');
    const png = tmp('small.png');
    expectOneError(
      await wgseg('segment', tmp('missing.png')),
      1,
      'missing.png',
      'cannot read the image',
      'no such file',
    );
    expectOneError(await wgseg('segment', tmp('notes.png')), 1, 'notes.png: not a PNG or JPEG file');
    expectOneError(await wgseg('segment', png, '--model', tmp('no.onnx')), 1, 'no.onnx', 'no such file');
    expectOneError(
      await wgseg('segment', png, '--model', tmp('two-inputs.onnx')),
      1,
      'two-inputs.onnx: has 2 inputs (a, b)',
    );
    expectOneError(await wgseg('segment', png, '--model', tmp('rgb-out.onnx')), 1, 'rgb-out.onnx', 'one-channel mask');
    expectOneError(await wgseg('segment', png, '--model', png), 1, 'small.png');
    expectOneError(await wgseg('segment', png, '--out', join(png, 'x.png')), 1, 'cannot write');
    expectOneError(
      await wgseg('segment', png, '--mode', 'sepia'),
      2,
      '--mode must be one of mask, cutout, blur, replace',
    );
    expectOneError(await wgseg('segment'), 2, 'segment needs an image file');
    expectOneError(await wgseg('segment', png, png), 2, 'segment takes one image file');
    expectOneError(await wgseg('segment', png, '--out'), 2, '--out needs a value');
  });
});

describe('npx wgseg segment (child process, the built CLI)', () => {
  beforeAll(ensureCliBuilt);
  it('finds the shipped model from dist/ and writes the mask', () => {
    const r = npxWgseg(['segment', tmp('scene.png'), '--mode', 'mask', '--out', tmp('npx-mask.png')]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(3);
    expect(readFileSync(tmp('npx-mask.png')).equals(readFileSync(tmp('mask.png')))).toBe(true);
  });
});
