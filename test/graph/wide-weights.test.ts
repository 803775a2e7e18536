import { describe, expect, it } from 'vitest';
import { Session } from '../../src/index';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { rng } from '../helpers/random';

/**
 * A Gemm/MatMul weight bigger than one GPU buffer (VGG's fc6: 392 MiB against lavapipe's 128 MiB
 * binding limit) runs as column parts concatenated (fusion-rules.ts splitWideWeights). Forced here
 * with maxBufferBytes: 8 KiB against 25.6 KB weights; every output against an f64 reference.
 */
const M = 3,
  K = 64,
  N = 100;

function reference(a: Float64Array, w: Float64Array, b: Float64Array | undefined, transB: boolean): number[] {
  return Array.from({ length: M * N }, (_, o) => {
    const r = Math.floor(o / N),
      c = o % N;
    let s = b ? b[c] : 0;
    for (let k = 0; k < K; k++) s += Math.fround(a[r * K + k]) * Math.fround(transB ? w[c * K + k] : w[k * N + c]);
    return s;
  });
}

/** 3x3 conv, pad 1, stride 1, bias: [1, C, H, W] x [Mo, C, 3, 3] in f64 */
function convReference(x: Float64Array, w: Float64Array, b: Float64Array, C: number, Mo: number, H: number): number[] {
  const out: number[] = [];
  for (let m = 0; m < Mo; m++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < H; j++) {
        let s = b[m];
        for (let c = 0; c < C; c++)
          for (let u = 0; u < 3; u++)
            for (let v = 0; v < 3; v++) {
              const yi = i + u - 1,
                xj = j + v - 1;
              if (yi >= 0 && yi < H && xj >= 0 && xj < H)
                s += Math.fround(x[(c * H + yi) * H + xj]) * Math.fround(w[((m * C + c) * 3 + u) * 3 + v]);
            }
        out.push(s);
      }
  return out;
}

describe('weights wider than a GPU buffer', () => {
  it('Conv 3x3 (+ Relu, fused): split by output channels, concatenated on axis 1', async () => {
    const r = rng(6);
    const C = 16,
      Mo = 40,
      H = 4;
    const x = r.array(C * H * H),
      w = r.array(Mo * C * 9),
      bias = r.array(Mo);
    const b = new OnnxBuilder();
    const X = b.input('x', [1, C, H, H]);
    const y = b.node(
      'Conv',
      [X, b.init('W', Float32Array.from(w), [Mo, C, 3, 3]), b.init('B', Float32Array.from(bias), [Mo])],
      {
        kernel_shape: [3, 3],
        pads: [1, 1, 1, 1],
      },
    );
    b.output(b.node('Relu', [y]));
    const s = await Session.create(b.bytes(), { device: await gpu(), maxBufferBytes: 8192, source: 'wide-conv.onnx' });
    try {
      const out = (await s.run({ x: { data: Float32Array.from(x), dims: [1, C, H, H] } }))[s.outputs[0].name];
      const ops = s.optimizedGraph!.nodes.map((n) => n.op);
      expect(ops).toEqual(['FusedConv', 'FusedConv', 'FusedConv', 'Concat']); // 23040 bytes / 8192 -> 3 parts
      const got = await out.read();
      const ref = convReference(x, w, bias, C, Mo, H).map((v) => Math.max(0, v));
      for (let i = 0; i < ref.length; i++) expect(got[i]).toBeCloseTo(ref[i], 4);
    } finally {
      s.dispose();
    }
  });

  for (const form of ['Gemm transB=1', 'Gemm transB=0', 'MatMul'] as const) {
    it(`${form}: split into parts under maxBufferBytes, same numbers`, async () => {
      const r = rng(5);
      const a = r.array(M * K),
        w = r.array(K * N),
        bias = form === 'MatMul' ? undefined : r.array(N);
      const transB = form === 'Gemm transB=1';
      const b = new OnnxBuilder();
      const x = b.input('a', [M, K]);
      const W = b.init('W', Float32Array.from(w), transB ? [N, K] : [K, N]);
      const y =
        form === 'MatMul'
          ? b.node('MatMul', [x, W])
          : b.node('Gemm', [x, W, b.init('B', Float32Array.from(bias!), [N])], { transB: transB ? 1 : 0 });
      b.output(y);
      const s = await Session.create(b.bytes(), { device: await gpu(), maxBufferBytes: 8192, source: 'wide.onnx' });
      try {
        const out = (await s.run({ a: { data: Float32Array.from(a), dims: [M, K] } }))[s.outputs[0].name];
        const ops = s.optimizedGraph!.nodes.map((n) => n.op);
        expect(ops.filter((op) => op === form.split(' ')[0]).length).toBe(4); // 25600 bytes / 8192 -> 4 parts
        expect(ops.at(-1)).toBe('Concat');
        expect(out.shape).toEqual([M, N]);
        const got = await out.read();
        const ref = reference(a, w, bias, transB);
        for (let i = 0; i < ref.length; i++) expect(got[i]).toBeCloseTo(ref[i], 4);
      } finally {
        s.dispose();
      }
    });
  }
});
