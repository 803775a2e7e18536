import { describe, expect, it } from 'vitest';
import { Session, Tensor } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { expectNetClose, ortRun } from '../helpers/ort';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';

const DIMS = [1, 4, 12, 12];

/** Pad -> Conv -> Add(skip) -> Clip(0, 6) ; Conv -> LeakyRelu ; Conv -> HardSigmoid ; Conv(no bias) -> Tanh; a dead branch. */
function model(seed = 3) {
  const r = rng(seed);
  const b = new OnnxBuilder({ opset: 17 });
  const x = b.input('x', DIMS);
  const w = (name: string, m: number, c: number, k: number) =>
    b.init(name, r.array(m * c * k * k, -0.5, 0.5), [m, c, k, k]);
  const bias = (name: string, m: number) => b.init(name, r.array(m), [m]);
  const padded = b.node('Pad', [x, b.initInt64('pads', [0, 0, 1, 1, 0, 0, 1, 0])], { mode: 'constant' });
  const c1 = b.node('Conv', [padded, w('w1', 4, 4, 3), bias('b1', 4)], { pads: [0, 0, 0, 1] });
  const skip = b.node('Add', [x, c1]);
  const a1 = b.node('Clip', [skip, b.init('lo', [0], []), b.init('hi', [6], [])]);
  const c2 = b.node('Conv', [a1, w('w2', 6, 4, 3), bias('b2', 6)], { pads: [1, 1, 1, 1], strides: [2, 2] });
  const a2 = b.node('LeakyRelu', [c2], { alpha: 0.2 });
  const c3 = b.node('Conv', [a2, w('w3', 6, 1, 3), bias('b3', 6)], { pads: [1, 1, 1, 1], group: 6 });
  const a3 = b.node('HardSigmoid', [c3], { alpha: 0.3, beta: 0.4 });
  const c4 = b.node('Conv', [a3, w('w4', 2, 6, 1), ''], {});
  const y = b.node('Tanh', [c4]);
  b.node('Relu', [x]); // dead: feeds no output
  b.output(y);
  return { bytes: b.bytes(), input: Float32Array.from(r.array(DIMS.reduce((a, v) => a * v, 1))) };
}

describe('fusion and executor features (GPU)', () => {
  it('folds Pad, Add and activations into FusedConv and matches onnxruntime', async () => {
    const rt = await gpu();
    const { bytes, input } = model();
    const ref = Object.values(await ortRun(bytes, { x: { data: input, dims: DIMS } }))[0];
    const s = await Session.create(bytes, { device: rt });
    const nodes = s.optimizedGraph!.nodes;
    expect(nodes.map((n) => n.op)).toEqual(['FusedConv', 'FusedConv', 'FusedConv', 'FusedConv']);
    expect(nodes.map((n) => n.attrs.activation)).toEqual(['Clip', 'LeakyRelu', 'HardSigmoid', 'Tanh']);
    expect(nodes[0].attrs.pads).toEqual([1, 1, 1, 1]);
    expect(nodes[0].inputs[3]).toBe('x');
    const out = Object.values(await s.run({ x: { data: input, dims: DIMS } }))[0];
    expect(out.shape).toEqual(ref.dims);
    expectNetClose(await out.read(), ref.data, 'fused');
    s.dispose();
  });

  it('takes Tensors and GPU buffers as inputs without changing them, one submit per run', async () => {
    const rt = await gpu();
    const { bytes, input } = model(4);
    const s = await Session.create(bytes, { device: rt });
    const a = Object.values(await s.run({ x: { data: input, dims: DIMS } }))[0];
    const x = rt.upload(input, DIMS);
    const before = rt.submits;
    const b = Object.values(await s.run({ x: { buffer: x.buffer, dims: DIMS, type: 'float32' } }))[0];
    expect(rt.submits - before).toBe(1);
    expectClose(await b.read(), await a.read(), TOL.exact, 'GPU buffer input');
    expectClose(await rt.read(x), input, TOL.exact, 'input buffer unchanged');
    const t = new Tensor(rt, x, 'float32');
    const c = Object.values(await s.run({ x: t }))[0];
    expectClose(await c.read(), await a.read(), TOL.exact, 'Tensor input');
    a.dispose(), b.dispose(), c.dispose();
    rt.release(x);
    s.dispose();
  });

  it('reports per-node times with profile: true', async () => {
    const rt = await gpu();
    const { bytes, input } = model(5);
    const s = await Session.create(bytes, { device: rt, profile: true });
    const out = Object.values(await s.run({ x: { data: input, dims: DIMS } }))[0];
    const p = s.lastProfile!;
    expect(p.map((n) => n.op)).toEqual(['FusedConv', 'FusedConv', 'FusedConv', 'FusedConv']);
    for (const n of p) expect(n.dispatches.length).toBeGreaterThan(0), expect(n.ms).toBeGreaterThanOrEqual(0);
    out.dispose();
    s.dispose();
  });

  it('runs under precision f16 within f16 tolerance', async () => {
    const rt = await gpu();
    if (!rt.info.f16) return;
    const { bytes, input } = model(6);
    const ref = Object.values(await ortRun(bytes, { x: { data: input, dims: DIMS } }))[0];
    const s = await Session.create(bytes, { device: rt, precision: 'f16' });
    const out = Object.values(await s.run({ x: { data: input, dims: DIMS } }))[0];
    const got = await out.read();
    expect(got).toBeInstanceOf(Float32Array);
    expectClose(got, ref.data, TOL.f16, 'f16');
    out.dispose();
    s.dispose();
  });

  it('plans symbolic dims on the first run and again for new sizes', async () => {
    const rt = await gpu();
    const r = rng(7);
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('x', ['N', 2, 'H', 'W']);
    // torch.flatten(x, 2) via Shape/Gather/Unsqueeze/Concat/Reshape, then Softmax
    const sh = b.node('Shape', [x]);
    const n = b.node('Unsqueeze', [
      b.node('Gather', [sh, b.initInt64('i0', [0], [])], { axis: 0 }),
      b.initInt64('ax', [0]),
    ]);
    const target = b.node('Concat', [n, b.initInt64('c', [2]), b.initInt64('m', [-1])], { axis: 0 });
    const y = b.node('Softmax', [b.node('Reshape', [x, target])], { axis: -1 });
    b.output(y);
    const bytes = b.bytes();
    const s = await Session.create(bytes, { device: rt });
    expect(s.plannedPeakBytes).toBeUndefined();
    for (const dims of [
      [1, 2, 3, 4],
      [2, 2, 5, 5],
    ]) {
      const data = Float32Array.from(r.array(dims.reduce((a, v) => a * v, 1)));
      const ref = Object.values(await ortRun(bytes, { x: { data, dims } }))[0];
      const out = Object.values(await s.run({ x: { data, dims } }))[0];
      expect(out.shape).toEqual(ref.dims);
      expectNetClose(await out.read(), ref.data, `dims ${dims}`);
      expect(s.optimizedGraph!.nodes.map((q) => q.op)).toEqual(['Reshape', 'Softmax']);
      out.dispose();
    }
    expect(s.outputs[0].shape).toEqual([2, 2, 25]);
    s.dispose();
  });
});
