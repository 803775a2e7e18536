import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/index';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { rng } from '../helpers/random';

/**
 * QLinearAdd / QLinearMul (com.microsoft): quantized inputs with per-tensor scales and zero points,
 * numpy broadcasting, saturation to the output type. References: onnxruntime-web (wasm, its MLAS
 * kernels) on the same bytes, and the contrib spec's formula in f64 (y = saturate(round((A_s*(a -
 * A_zp) op B_s*(b - B_zp)) / C_s) + C_zp)). Stated tolerance: every output within one quantization
 * step of both, and at least 99% equal to onnxruntime's (f32 evaluation orders differ at exact ties).
 */
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

type Q = 'uint8' | 'int8';
const RANGE: Record<Q, [number, number]> = { uint8: [0, 255], int8: [-128, 127] };

function model(op: 'QLinearAdd' | 'QLinearMul', type: Q, aDims: number[], bDims: number[], q: number[]): Uint8Array {
  const b = new OnnxBuilder({ opset: 17, domains: { 'com.microsoft': 1 } });
  const [as, az, bs, bz, cs, cz] = q;
  const A = b.input('a', aDims, type),
    B = b.input('b', bDims, type);
  const y = b.node(
    op,
    [
      A,
      b.init('as', [as], [], 'float32'),
      b.init('az', [az], [], type),
      B,
      b.init('bs', [bs], [], 'float32'),
      b.init('bz', [bz], [], type),
      b.init('cs', [cs], [], 'float32'),
      b.init('cz', [cz], [], type),
    ],
    {},
    { domain: 'com.microsoft' },
  );
  b.output(y, type);
  return b.bytes();
}

function reference(
  op: string,
  a: number[],
  ad: number[],
  b: number[],
  bd: number[],
  out: number[],
  q: number[],
  type: Q,
): number[] {
  const [as, az, bs, bz, cs, cz] = q;
  const [lo, hi] = RANGE[type];
  const at = (xs: number[], dims: number[], idx: number[]) => {
    let o = 0;
    const off = idx.length - dims.length;
    dims.forEach((d, k) => (o = o * d + (d === 1 ? 0 : idx[k + off])));
    return xs[o];
  };
  const n = out.reduce((p, d) => p * d, 1);
  return Array.from({ length: n }, (_, i) => {
    const idx: number[] = [];
    for (let r = i, k = out.length - 1; k >= 0; k--) (idx[k] = r % out[k]), (r = Math.floor(r / out[k]));
    const va = as * (at(a, ad, idx) - az),
      vb = bs * (at(b, bd, idx) - bz);
    const v = (op === 'QLinearAdd' ? va + vb : va * vb) / cs;
    const f = Math.floor(v);
    const r = v - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(v);
    return Math.min(hi, Math.max(lo, r + cz));
  });
}

const CASES: { type: Q; a: number[]; b: number[]; q: number[]; saturates?: true }[] = [
  { type: 'uint8', a: [2, 3, 4], b: [4], q: [0.1, 128, 0.2, 120, 0.15, 100] },
  { type: 'uint8', a: [2, 1, 5], b: [3, 1], q: [0.05, 10, 0.07, 200, 0.3, 0] },
  { type: 'int8', a: [4, 6], b: [4, 6], q: [0.02, -3, 0.04, 5, 0.05, 2] },
  // C_scale small against the inputs': most outputs saturate at both ends
  { type: 'int8', a: [3, 1], b: [1, 7], q: [0.5, 0, 0.25, -10, 0.02, -128], saturates: true },
];

describe('QLinearAdd / QLinearMul', () => {
  for (const op of ['QLinearAdd', 'QLinearMul'] as const)
    for (const c of CASES) {
      it(`${op} ${c.type} [${c.a}] x [${c.b}] (scales ${c.q[0]}, ${c.q[2]} -> ${c.q[4]})`, async () => {
        const r = rng(c.a.length * 31 + c.b.length);
        const [lo, hi] = RANGE[c.type];
        const rand = (dims: number[]) => Array.from({ length: dims.reduce((p, d) => p * d, 1) }, () => r.int(lo, hi));
        const a = rand(c.a),
          b = rand(c.b);
        const bytes = model(op, c.type, c.a, c.b, c.q);
        const T = c.type === 'uint8' ? Uint8Array : Int8Array;
        const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
        const res = await s.run({
          a: new ort.Tensor(c.type, T.from(a), c.a),
          b: new ort.Tensor(c.type, T.from(b), c.b),
        });
        await s.release();
        const want = res[Object.keys(res)[0]];
        const ref = reference(op, a, c.a, b, c.b, [...want.dims], c.q, c.type);
        const session = await Session.create(bytes, { device: await gpu(), source: `${op}.onnx` });
        try {
          const y = (
            await session.run({
              a: { data: Int32Array.from(a), dims: c.a },
              b: { data: Int32Array.from(b), dims: c.b },
            })
          )[session.outputs[0].name];
          expect(y.shape).toEqual([...want.dims]);
          expect(y.type).toBe(c.type);
          const got = Array.from(await y.read());
          const ortv = Array.from(want.data as ArrayLike<number>, Number);
          let same = 0;
          for (let i = 0; i < got.length; i++) {
            expect(Math.abs(got[i] - ortv[i]), `element ${i} vs onnxruntime`).toBeLessThanOrEqual(1);
            expect(Math.abs(got[i] - ref[i]), `element ${i} vs the f64 formula`).toBeLessThanOrEqual(1);
            same += +(got[i] === ortv[i]);
          }
          expect(same / got.length).toBeGreaterThanOrEqual(0.99);
          if (c.saturates) expect(got, 'saturation at both ends').toEqual(expect.arrayContaining([lo, hi]));
          else expect(new Set(got).size, 'the case spans several values').toBeGreaterThan(3);
        } finally {
          session.dispose();
        }
      });
    }

  it('refuses scales that are not constants or not per tensor', async () => {
    const b = new OnnxBuilder({ opset: 17, domains: { 'com.microsoft': 1 } });
    const A = b.input('a', [2, 3], 'uint8');
    const y = b.node(
      'QLinearAdd',
      [
        A,
        b.init('as', [0.1, 0.2], [2], 'float32'),
        b.init('az', [0], [], 'uint8'),
        A,
        b.init('bs', [0.1], [], 'float32'),
        b.init('bz', [0], [], 'uint8'),
        b.init('cs', [0.1], [], 'float32'),
        b.init('cz', [0], [], 'uint8'),
      ],
      {},
      { domain: 'com.microsoft' },
    );
    b.output(y, 'uint8');
    await expect(Session.create(b.bytes(), { device: await gpu(), source: 'q.onnx' })).rejects.toThrow(
      /QLinearAdd: A_scale must be a scalar \(per-tensor\), got 2 values/,
    );
  });
});
