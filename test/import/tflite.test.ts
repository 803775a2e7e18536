import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { importTflite } from '../../src/import/tflite';
import { loadGraph, Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { expectClose, TOL } from '../helpers/tolerance';
import { buildTflite, f32, i32, type TOp, type TTensor } from './tflite-build';

/**
 * TFLite import: file errors name the file and operator; small files built here run on WebGPU
 * against plain f64 NHWC references written from the TFLite kernels' definitions (TF SAME padding,
 * depthwise channel order, MEAN without keep_dims, RESIZE_BILINEAR align_corners, int8 DEQUANTIZE,
 * constant broadcasting, CONCATENATION on the channel axis, fused RELU6).
 */

const SELFIE = join(
  import.meta.dirname,
  '..',
  '..',
  'node_modules',
  '@mediapipe',
  'selfie_segmentation',
  'selfie_segmentation.tflite',
);
const err = (f: () => unknown): WgsegError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WgsegError);
    return e as WgsegError;
  }
  throw new Error('no error');
};

describe('TFLite file errors', () => {
  const real = new Uint8Array(readFileSync(SELFIE));
  it('truncated file', () => {
    const e = err(() => importTflite(real.subarray(0, 5000), 'cut.tflite'));
    expect(e.code).toBe('MALFORMED_FILE');
    expect(e.message).toMatch(/^cut\.tflite: corrupt TFLite flatbuffer: .*outside the file|past the end/);
    expect(err(() => importTflite(real.subarray(0, 6), 'tiny.tflite')).message).toMatch(
      /^tiny\.tflite: file too short/,
    );
  });
  it('wrong file identifier', () => {
    const bad = real.slice(0, 64);
    bad.set([0x54, 0x46, 0x4c, 0x32], 4); // "TFL2"
    const e = err(() => importTflite(bad, 'old.tflite'));
    expect(e.code).toBe('MALFORMED_FILE');
    expect(e.message).toBe('old.tflite: not a TFLite v3 model (file identifier "TFL2", expected "TFL3")');
    // by extension, loadGraph sends it to the TFLite importer too
    expect(err(() => loadGraph(bad, 'm.tflite')).message).toMatch(/^m\.tflite: not a TFLite v3 model/);
  });
  it('unknown builtin and custom ops name the op and operator index', () => {
    const t: TTensor[] = [
      { shape: [1, 2, 2, 1], name: 'x' },
      { shape: [1, 2, 2, 1], name: 'y' },
      { shape: [1, 2, 2, 1], name: 'z' },
    ];
    const gelu = buildTflite({
      tensors: t,
      inputs: [0],
      outputs: [2],
      ops: [
        { op: 19, inputs: [0], outputs: [1] },
        { op: 150, inputs: [1], outputs: [2] },
      ],
    });
    let e = err(() => importTflite(gelu, 'gelu.tflite'));
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toBe(
      "gelu.tflite: operator #1 (builtin op 150): op builtin op 150 is not supported by wgseg's TFLite import",
    );
    const custom = buildTflite({
      tensors: t,
      inputs: [0],
      outputs: [1],
      ops: [{ op: 'MyOp', inputs: [0], outputs: [1] }],
    });
    e = err(() => importTflite(custom, 'c.tflite'));
    expect(e.message).toBe("c.tflite: operator #0 (MyOp): op MyOp is not supported by wgseg's TFLite import");
  });
  it('quantized activations, bad tensor index, non-constant weights', () => {
    const q = buildTflite({
      tensors: [
        { shape: [1, 2], type: 9, name: 'x' },
        { shape: [1, 2], type: 9, name: 'y' },
      ],
      inputs: [0],
      outputs: [1],
      ops: [{ op: 19, inputs: [0], outputs: [1] }],
    });
    expect(err(() => importTflite(q, 'q.tflite')).code).toBe('UNSUPPORTED_DTYPE');
    const idx = buildTflite({
      tensors: [
        { shape: [1, 2], name: 'x' },
        { shape: [1, 2], name: 'y' },
      ],
      inputs: [0],
      outputs: [1],
      ops: [{ op: 19, inputs: [7], outputs: [1] }],
    });
    expect(err(() => importTflite(idx, 'i.tflite')).message).toBe(
      'i.tflite: operator #0 (RELU): tensor index 7 is out of range (2 tensors)',
    );
    const dyn = buildTflite({
      tensors: [
        { shape: [1, 4, 4, 2], name: 'x' },
        { shape: [3, 1, 1, 2], name: 'w' },
        { shape: [1, 4, 4, 3], name: 'y' },
      ],
      inputs: [0, 1],
      outputs: [2],
      ops: [
        {
          op: 3,
          inputs: [0, 1, -1],
          outputs: [2],
          optionsType: 1,
          options: [
            [0, 'i8', 1],
            [1, 'i32', 1],
            [2, 'i32', 1],
          ],
        },
      ],
    });
    expect(err(() => importTflite(dyn, 'd.tflite')).message).toBe(
      'd.tflite: operator #0 (CONV_2D): filter "w" must be a constant',
    );
  });
});

// ---- f64 NHWC references ----
type T4 = { d: Float64Array; s: number[] };
const at = (t: T4, n: number, y: number, x: number, c: number) => t.d[((n * t.s[1] + y) * t.s[2] + x) * t.s[3] + c];
const samePad = (len: number, k: number, s: number) =>
  Math.floor(Math.max((Math.ceil(len / s) - 1) * s + k - len, 0) / 2);

/** Depthwise conv, TF SAME, filter [1, kh, kw, C*M]: output channel c*M + m reads input channel c. */
function depthwiseRef(x: T4, w: T4, bias: number[], stride: number, relu6: boolean): T4 {
  const [N, H, W, C] = x.s,
    [, kh, kw, CM] = w.s,
    M = CM / C;
  const oh = Math.ceil(H / stride),
    ow = Math.ceil(W / stride),
    pt = samePad(H, kh, stride),
    pl = samePad(W, kw, stride);
  const out = new Float64Array(N * oh * ow * CM);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < oh; y++)
      for (let x0 = 0; x0 < ow; x0++)
        for (let c = 0; c < C; c++)
          for (let m = 0; m < M; m++) {
            let acc = bias[c * M + m];
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * stride - pt + i,
                  ix = x0 * stride - pl + j;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                  acc += at(x, n, iy, ix, c) * w.d[(i * kw + j) * CM + c * M + m];
              }
            out[((n * oh + y) * ow + x0) * CM + c * M + m] = relu6 ? Math.min(6, Math.max(0, acc)) : acc;
          }
  return { d: out, s: [N, oh, ow, CM] };
}

/** TFLite ResizeBilinear with align_corners: source = dst * (in - 1) / (out - 1). */
function resizeAlignRef(x: T4, oh: number, ow: number): T4 {
  const [N, H, W, C] = x.s,
    out = new Float64Array(N * oh * ow * C);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < oh; y++)
      for (let x0 = 0; x0 < ow; x0++)
        for (let c = 0; c < C; c++) {
          const sy = (y * (H - 1)) / (oh - 1),
            sx = (x0 * (W - 1)) / (ow - 1);
          const y0 = Math.floor(sy),
            x1 = Math.floor(sx),
            y1 = Math.min(y0 + 1, H - 1),
            x2 = Math.min(x1 + 1, W - 1),
            dy = sy - y0,
            dx = sx - x1;
          out[((n * oh + y) * ow + x0) * C + c] =
            (at(x, n, y0, x1, c) * (1 - dx) + at(x, n, y0, x2, c) * dx) * (1 - dy) +
            (at(x, n, y1, x1, c) * (1 - dx) + at(x, n, y1, x2, c) * dx) * dy;
        }
  return { d: out, s: [N, oh, ow, C] };
}

async function run(model: Uint8Array, feeds: Record<string, T4>): Promise<Record<string, Float32Array>> {
  const s = await Session.create(model, { device: await gpu(), source: 'built.tflite' });
  try {
    const out = await s.run(
      Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { data: Float32Array.from(v.d), dims: v.s }])),
    );
    const res: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(out)) (res[k] = (await t.read()) as Float32Array), t.dispose();
    return res;
  } finally {
    s.dispose();
  }
}

describe('TFLite ops vs f64 NHWC references', () => {
  const r = rng(5);
  const rand = (s: number[]): T4 => ({ d: r.array(s.reduce((a, b) => a * b, 1)), s });

  it('DEPTHWISE_CONV_2D, multiplier 2, stride 2 SAME on an even size (pads 0/1), fused RELU6, int8 per-channel DEQUANTIZE bias', async () => {
    const x = rand([1, 6, 8, 3]),
      w = rand([1, 3, 3, 6]);
    const q = [5, -7, 100, -128, 127, 3],
      scale = [0.01, 0.02, 0.01, 0.005, 0.01, 0.1],
      zp = [0, 1, -2, 0, 3, 0];
    const bias = q.map((v, i) => scale[i] * (v - zp[i]));
    const ops: TOp[] = [
      { op: 6, inputs: [2], outputs: [3] },
      {
        op: 4,
        inputs: [0, 1, 3],
        outputs: [4],
        optionsType: 2,
        options: [
          [0, 'i8', 0],
          [1, 'i32', 2],
          [2, 'i32', 2],
          [3, 'i32', 2],
          [4, 'i8', 3],
        ],
      },
    ];
    const tensors: TTensor[] = [
      { shape: x.s, name: 'x' },
      { shape: w.s, name: 'w', data: f32(w.d) },
      {
        shape: [6],
        type: 9,
        name: 'bq',
        data: new Uint8Array(Int8Array.from(q).buffer),
        quant: { scale, zeroPoint: zp, axis: 0 },
      },
      { shape: [6], name: 'b' },
      { shape: [1, 3, 4, 6], name: 'y' },
    ];
    const got = await run(buildTflite({ tensors, inputs: [0], outputs: [4], ops }), { x });
    expectClose(got.y, depthwiseRef(x, w, bias, 2, true).d, TOL.f32Reduce, 'depthwise');
  });

  it('ADD of a [C] constant, CONCATENATION on axis -1, MEAN over H,W without keep_dims', async () => {
    const x = rand([2, 3, 4, 2]),
      c = [0.5, -1.5];
    const tensors: TTensor[] = [
      { shape: x.s, name: 'x' },
      { shape: [2], name: 'c', data: f32(c) },
      { shape: x.s, name: 'xc' },
      { shape: [2, 3, 4, 4], name: 'cat' },
      { shape: [2], type: 2, name: 'axes', data: i32([1, 2]) },
      { shape: [2, 4], name: 'mean' },
    ];
    const ops: TOp[] = [
      { op: 0, inputs: [0, 1], outputs: [2], optionsType: 11, options: [[0, 'i8', 0]] },
      {
        op: 2,
        inputs: [0, 2],
        outputs: [3],
        optionsType: 10,
        options: [
          [0, 'i32', -1],
          [1, 'i8', 0],
        ],
      },
      { op: 40, inputs: [3, 4], outputs: [5], optionsType: 27, options: [[0, 'bool', false]] },
    ];
    const got = await run(buildTflite({ tensors, inputs: [0], outputs: [3, 5], ops }), { x });
    const cat = new Float64Array(2 * 3 * 4 * 4),
      mean = new Float64Array(8);
    for (let p = 0; p < 2 * 3 * 4; p++)
      for (let k = 0; k < 4; k++) {
        const v = k < 2 ? x.d[p * 2 + k] : x.d[p * 2 + k - 2] + c[k - 2];
        cat[p * 4 + k] = v;
        mean[Math.floor(p / 12) * 4 + k] += v / 12;
      }
    expectClose(got.cat, cat, TOL.f32, 'concat');
    expectClose(got.mean, mean, TOL.f32Reduce, 'mean');
  });

  it('RESIZE_BILINEAR align_corners', async () => {
    const x = rand([1, 3, 5, 2]);
    const tensors: TTensor[] = [
      { shape: x.s, name: 'x' },
      { shape: [2], type: 2, name: 'size', data: i32([7, 9]) },
      { shape: [1, 7, 9, 2], name: 'y' },
    ];
    const ops: TOp[] = [
      {
        op: 23,
        inputs: [0, 1],
        outputs: [2],
        optionsType: 15,
        options: [
          [2, 'bool', true],
          [3, 'bool', false],
        ],
      },
    ];
    const got = await run(buildTflite({ tensors, inputs: [0], outputs: [2], ops }), { x });
    expectClose(got.y, resizeAlignRef(x, 7, 9).d, TOL.f32, 'resize');
  });
});
