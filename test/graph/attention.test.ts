import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { expectNetClose, ortRun } from '../helpers/ort';
import { rng } from '../helpers/random';

/**
 * Attention as PyTorch exports it (ViT / SegFormer blocks at opset 17-18): qkv MatMul -> Reshape ->
 * Transpose -> Gather or Split into q, k, v -> MatMul(q, k^T) -> scale -> Softmax -> MatMul(., v)
 * -> Transpose -> Reshape -> projection, with and without SegFormer's spatial-reduction conv (+
 * LayerNorm) on k/v, and the Einsum form. Each runs in one submit (no host round trip) and matches
 * onnxruntime. Also SegNet's unpooling: MaxPool with Indices -> conv -> MaxUnpool.
 */

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function check(
  bytes: Uint8Array,
  feeds: Record<string, number[]>,
  seed: number,
  precision: 'f32' | 'f16' = 'f32',
) {
  const r = rng(seed);
  const inputs = Object.fromEntries(
    Object.entries(feeds).map(([k, dims]) => [k, { data: Float32Array.from(r.array(numel(dims), -2, 2)), dims }]),
  );
  const ref = await ortRun(bytes, inputs);
  const rt = await gpu();
  const s = await Session.create(bytes, { device: rt, precision });
  try {
    await (await s.run(inputs)).y.dispose(); // the first run records its commands
    const before = rt.submits;
    const out = await s.run(inputs);
    expect(rt.submits - before, 'submits per run').toBe(1);
    for (const [name, t] of Object.entries(out)) {
      expectNetClose(
        await t.read(),
        ref[name].data,
        name,
        precision === 'f16' ? { atol: 2e-2, rtol: 2e-2 } : undefined,
      );
      t.dispose();
    }
    return s.optimizedGraph!.nodes.map((n) => n.op);
  } finally {
    s.dispose();
  }
}

/** One multi-head self-attention block on x [B, N, C] (tokens of an H x W map when `sr` > 1). */
function attention(opts: {
  opset: number;
  heads: number;
  split: 'gather' | 'split' | 'einsum';
  sr?: number;
  hw?: number[];
}) {
  const { opset, heads, split, sr = 1, hw = [4, 5] } = opts;
  const r = rng(opset * 10 + heads + sr);
  const B = 2,
    N = hw[0] * hw[1],
    C = 8,
    d = C / heads;
  const b = new OnnxBuilder({ opset });
  const x = b.input('x', [B, N, C]);
  const w = (name: string, k: number, m: number) => b.init(name, r.array(k * m, -0.4, 0.4), [k, m]);
  const perm = (v: string, p: number[]) => b.node('Transpose', [v], { perm: p });
  const reshape = (v: string, shape: number[], name: string) => b.node('Reshape', [v, b.initInt64(name, shape)]);
  let q: string, k: string, v: string;
  if (sr === 1) {
    const qkv = b.node('Add', [b.node('MatMul', [x, w('wqkv', C, 3 * C)]), b.init('bqkv', r.array(3 * C), [3 * C])]);
    const t = perm(reshape(qkv, [B, N, 3, heads, d], 's_qkv'), [2, 0, 3, 1, 4]); // [3, B, heads, N, d]
    if (split === 'split') {
      const parts =
        opset >= 18
          ? b.node('Split', [t], { axis: 0, num_outputs: 3 }, { outputs: 3 })
          : b.node('Split', [t, b.initInt64('sizes', [1, 1, 1])], { axis: 0 }, { outputs: 3 });
      [q, k, v] = parts.map((p, i) => b.node('Squeeze', [p, b.initInt64(`sq${i}`, [0])]));
    } else [q, k, v] = [0, 1, 2].map((i) => b.node('Gather', [t, b.initInt64(`g${i}`, [i], [])], { axis: 0 }));
  } else {
    // SegFormer: q from x; k, v from a strided conv over the token map, LayerNorm, one kv MatMul
    q = perm(reshape(b.node('MatMul', [x, w('wq', C, C)]), [B, N, heads, d], 's_q'), [0, 2, 1, 3]);
    const map = reshape(perm(x, [0, 2, 1]), [B, C, hw[0], hw[1]], 's_map');
    const red = b.node(
      'Conv',
      [map, b.init('wsr', r.array(C * C * sr * sr, -0.3, 0.3), [C, C, sr, sr]), b.init('bsr', r.array(C), [C])],
      {
        kernel_shape: [sr, sr],
        strides: [sr, sr],
      },
    );
    const Nr = Math.floor(hw[0] / sr) * Math.floor(hw[1] / sr);
    const tokens = perm(reshape(red, [B, C, Nr], 's_red'), [0, 2, 1]);
    const ln = b.node(
      'LayerNormalization',
      [tokens, b.init('lng', r.array(C, 0.5, 1.5), [C]), b.init('lnb', r.array(C), [C])],
      {
        axis: -1,
      },
    );
    const kv = perm(reshape(b.node('MatMul', [ln, w('wkv', C, 2 * C)]), [B, Nr, 2, heads, d], 's_kv'), [2, 0, 3, 1, 4]);
    [k, v] = [0, 1].map((i) => b.node('Gather', [kv, b.initInt64(`g${i}`, [i], [])], { axis: 0 }));
  }
  const scale = b.init('scale', [1 / Math.sqrt(d)], []);
  const scores =
    split === 'einsum'
      ? b.node('Einsum', [q, k], { equation: 'bhid,bhjd->bhij' })
      : b.node('MatMul', [q, perm(k, [0, 1, 3, 2])]);
  const attn = b.node('Softmax', [b.node('Mul', [scores, scale])], { axis: -1 });
  const ctx =
    split === 'einsum' ? b.node('Einsum', [attn, v], { equation: 'bhij,bhjd->bhid' }) : b.node('MatMul', [attn, v]);
  const merged = reshape(perm(ctx, [0, 2, 1, 3]), [B, N, C], 's_out');
  b.output(
    b.node('Add', [b.node('MatMul', [merged, w('wo', C, C)]), b.init('bo', r.array(C), [C])], {}, { output: 'y' }),
  );
  return { bytes: b.bytes(), dims: [B, N, C] };
}

describe('attention as exported: one submit, equal to onnxruntime', () => {
  for (const [opset, heads, split] of [
    [17, 2, 'gather'],
    [13, 4, 'split'],
    [18, 1, 'split'],
    [17, 2, 'einsum'],
  ] as const) {
    it(`opset ${opset}, ${heads} head(s), q/k/v by ${split}`, async () => {
      const { bytes, dims } = attention({ opset, heads, split });
      const ops = await check(bytes, { x: dims }, opset);
      expect(ops).toContain(split === 'einsum' ? 'Einsum' : 'Softmax');
    });
  }

  it('SegFormer efficient self-attention: spatial-reduction conv (sr 2) + LayerNorm on k/v', async () => {
    const { bytes, dims } = attention({ opset: 17, heads: 2, split: 'gather', sr: 2, hw: [6, 4] });
    const ops = await check(bytes, { x: dims }, 5);
    expect(ops).toContain('LayerNormalization');
    expect(ops).toContain('Conv');
  });
});

describe('attention at precision f16 (where the adapter has shader-f16)', () => {
  it('SegFormer block and the Einsum form within f16 tolerance of onnxruntime', async () => {
    if (!(await gpu()).info.f16) return;
    const sr = attention({ opset: 17, heads: 2, split: 'gather', sr: 2, hw: [6, 4] });
    await check(sr.bytes, { x: sr.dims }, 5, 'f16');
    const es = attention({ opset: 17, heads: 2, split: 'einsum' });
    await check(es.bytes, { x: es.dims }, 6, 'f16');
  });
});

describe('SegNet unpooling', () => {
  it('MaxPool (Indices) -> conv -> MaxUnpool with output_shape of the odd input: one submit, equal to onnxruntime', async () => {
    const r = rng(8);
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('x', [1, 3, 9, 7]);
    const [p, idx] = b.node('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, { outputs: 2 });
    const c = b.node('Conv', [p, b.init('w', r.array(3 * 3 * 9, -0.5, 0.5), [3, 3, 3, 3])], { pads: [1, 1, 1, 1] });
    const up = b.node('MaxUnpool', [c, idx, b.node('Shape', [x])], { kernel_shape: [2, 2], strides: [2, 2] });
    b.output(b.node('Add', [up, x], {}, { output: 'y' }));
    const ops = await check(b.bytes(), { x: [1, 3, 9, 7] }, 9);
    expect(ops).toContain('MaxUnpool');
  });
});
