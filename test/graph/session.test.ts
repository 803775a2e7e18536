import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { expectNetClose, ortRun } from '../helpers/ort';
import { rng } from '../helpers/random';
import { GraphBuilder } from './build';

/** Conv -> BatchNormalization -> Relu -> Conv (+ skip Add) -> Sigmoid, with a PyTorch-style Reshape chain. */
function convNet(seed = 1) {
  const r = rng(seed);
  const b = new OnnxBuilder({ opset: 17 });
  const x = b.input('x', [1, 3, 16, 16]);
  const w1 = b.init('w1', r.array(8 * 3 * 9), [8, 3, 3, 3]);
  const b1 = b.init('b1', r.array(8), [8]);
  const c1 = b.node('Conv', [x, w1, b1], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
  const bn = b.node(
    'BatchNormalization',
    [
      c1,
      b.init('s', r.array(8, 0.5, 1.5), [8]),
      b.init('bb', r.array(8), [8]),
      b.init('m', r.array(8), [8]),
      b.init('v', r.array(8, 0.5, 2), [8]),
    ],
    { epsilon: 1e-5 },
  );
  const a1 = b.node('Relu', [bn]);
  const w2 = b.init('w2', r.array(8 * 8 * 9), [8, 8, 3, 3]);
  const c2 = b.node('Conv', [a1, w2, ''], { pads: [1, 1, 1, 1] });
  const sum = b.node('Add', [c2, a1]);
  const y = b.node('Sigmoid', [sum]);
  b.output(y);
  return { bytes: b.bytes(), input: Float32Array.from(r.array(3 * 16 * 16)) };
}

describe('Session (GPU)', () => {
  it('runs a Conv+BN+Relu+skip network like onnxruntime, one submit per run, fused', async () => {
    const rt = await gpu();
    const { bytes, input } = convNet();
    const ref = await ortRun(bytes, { x: { data: input, dims: [1, 3, 16, 16] } });
    const s = await Session.create(bytes, { device: rt, source: 'conv-net.onnx' });
    expect(s.inputs).toEqual([{ name: 'x', shape: [1, 3, 16, 16], type: 'float32' }]);
    expect(s.optimizedGraph!.nodes.map((n) => n.op)).toEqual(['FusedConv', 'FusedConv']);
    const copy = input.slice();
    const before = rt.submits;
    const out = await s.run({ x: { data: input, dims: [1, 3, 16, 16] } });
    expect(rt.submits - before).toBe(1);
    expect(input).toEqual(copy);
    const name = Object.keys(ref)[0];
    expect(out[name].shape).toEqual([1, 8, 16, 16]);
    expectNetClose(await out[name].read(), ref[name].data, 'conv-net');
    // second run on the same plan, unfused session agrees
    const plain = await Session.create(bytes, { device: rt, fuse: false });
    expect(plain.optimizedGraph!.nodes.map((n) => n.op)).toEqual([
      'Conv',
      'BatchNormalization',
      'Relu',
      'Conv',
      'Add',
      'Sigmoid',
    ]);
    const out2 = await plain.run({ x: { data: input, dims: [1, 3, 16, 16] } });
    expectNetClose(await out2[name].read(), ref[name].data, 'conv-net unfused');
    expect(s.plannedPeakBytes!).toBeLessThan(plain.plannedSumBytes!);
    out[name].dispose();
    out2[name].dispose();
    s.dispose();
    plain.dispose();
  });

  it('names unknown and missing inputs', async () => {
    const rt = await gpu();
    const s = await Session.create(convNet().bytes, { device: rt, source: 'm.onnx' });
    await expect(s.run({ y: { data: new Float32Array(768), dims: [1, 3, 16, 16] } })).rejects.toThrow(
      /m.onnx: unknown input "y"; expected inputs: x/,
    );
    await expect(s.run({})).rejects.toThrow(/missing input "x"/);
    await expect(s.run({ x: { data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] } })).rejects.toThrow(
      /input x: expected dims \[1,3,16,16\], given \[1,3,32,32\]/,
    );
    await expect(s.run({ x: { data: new Int32Array(768), dims: [1, 3, 16, 16] } })).rejects.toThrow(WgsegError);
    s.dispose();
  });

  it('returns graph outputs that are inputs or constants; big constant reshapes fold', async () => {
    const rt = await gpu();
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    const shape = b.node('Shape', [x]);
    const big = b.const(
      'big',
      [300, 300],
      Array.from({ length: 90000 }, (_, i) => i % 7),
      'float32',
    );
    const flat = b.node('Reshape', [big, b.const('s', [1], [-1])]);
    const first = b.node('Slice', [flat, b.const('st', [1], [0]), b.const('en', [1], [6])]);
    const y = b.node('Add', [x, b.node('Reshape', [first, b.const('s2', [2], [2, 3])])]);
    b.output(x).output(shape).output(y);
    const s = await Session.create(b.g, { device: rt });
    expect(s.optimizedGraph!.nodes.map((n) => n.op)).toEqual(['Add']);
    const input = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const out = await s.run({ x: { data: input, dims: [2, 3] } });
    expect(Array.from(await out.x.read())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out[shape].type).toBe('int64');
    expect(Array.from(await out[shape].read())).toEqual([2, 3]);
    expect(Array.from(await out[y].read())).toEqual([1, 3, 5, 7, 9, 11]);
    for (const t of Object.values(out)) t.dispose();
    s.dispose();
  });

  it('fails early naming unsupported ops and their nodes', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    b.output(b.node('Unique', [b.node('Relu', [b.node('NonZero', [x])])]));
    await expect(Session.create(b.g, { device: await gpu() })).rejects.toThrow(
      /test.onnx: unsupported ops: NonZero \(node nonzero_0\), Unique \(node unique_2\)/,
    );
  });
});
