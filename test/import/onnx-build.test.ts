import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/import/onnx-proto';
import { convRef } from '../reference/conv';
import { OnnxBuilder, f, fs, graph, i, is, tensor } from '../helpers/onnx-build';
import { rng } from '../helpers/random';

ort.env.wasm.numThreads = 1;

describe('OnnxBuilder (test helper)', () => {
  it('round-trips through decodeModel: inputs, initializers, attribute types, outputs', () => {
    const b = new OnnxBuilder({ opset: 13, domains: { 'com.example': 1 } });
    const x = b.input('x', ['N', 3, '?', 4]);
    const w = b.init('w', [1, 2, 3, 4, 5, 6], [2, 3]);
    const wt = b.init('wt', [1.5, -2], [2], 'float32', 'typed');
    const h = b.init('h', [0.5, -1], [2], 'float16');
    const s = b.initInt64('s', [1, -1]);
    const y = b.node('Foo', [x, w, wt, h, s, ''], {
      a: 2,
      alpha: 1,
      b: 0.5,
      c: f(3),
      d: i(4),
      e: [1, 2],
      g: [0.5, 1],
      k: fs([1, 2]),
      l: is([]),
      m: 'abc',
      n: ['p', 'q'],
      value: tensor([7, 8], [2], 'int64'),
      sub: graph(new OnnxBuilder()),
    });
    const [u, v] = b.node('Split', [y], { axis: 1 }, { outputs: 2, name: 'split' });
    b.output(u);
    b.output(v, 'int64', [1, 'K']);
    const m = decodeModel(b.bytes());
    expect(m.opset).toBe(13);
    expect(m.opsets['com.example']).toBe(1);
    expect(m.graph.inputs).toEqual([{ name: 'x', dtype: 'float', shape: ['N', 3, '?', 4] }]);
    expect(m.graph.outputs[1]).toEqual({ name: v, dtype: 'int64', shape: [1, 'K'] });
    const inits = Object.fromEntries(m.graph.initializers.map((t) => [t.name, t]));
    expect(Array.from(inits.w.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(inits.w.dims).toEqual([2, 3]);
    expect(Array.from(inits.wt.data)).toEqual([1.5, -2]);
    expect(inits.h.dtype).toBe('float16');
    expect(Array.from(inits.h.data)).toEqual([0.5, -1]);
    expect(inits.s.dtype).toBe('int64');
    expect(Array.from(inits.s.data)).toEqual([1, -1]);
    const [foo, split] = m.graph.nodes;
    expect(foo.inputs).toEqual(['x', 'w', 'wt', 'h', 's', '']);
    const at = foo.attrs;
    expect([at.a, at.alpha, at.b, at.c, at.d]).toEqual([2, 1, 0.5, 3, 4]);
    expect([at.e, at.g, at.k, at.l, at.m, at.n]).toEqual([[1, 2], [0.5, 1], [1, 2], [], 'abc', ['p', 'q']]);
    expect(at.value).toMatchObject({ dtype: 'int64', dims: [2] });
    expect(at.sub).toMatchObject({ nodes: [] });
    expect(split).toMatchObject({ opType: 'Split', name: 'split', outputs: [u, v] });
  });

  it('a built Conv + Relu model runs in onnxruntime-web and matches the f64 reference', async () => {
    const r = rng(7);
    const xd = Float32Array.from(r.array(1 * 3 * 6 * 6));
    const wd = Float32Array.from(r.array(4 * 3 * 3 * 3));
    const bd = Float32Array.from(r.array(4));
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('x', ['N', 3, 6, 6]);
    const y = b.node('Conv', [x, b.init('w', wd, [4, 3, 3, 3]), b.init('b', bd, [4])], {
      pads: [1, 1, 1, 1],
      kernel_shape: [3, 3],
    });
    b.output(b.node('LeakyRelu', [y], { alpha: 0.125 }));
    const s = await ort.InferenceSession.create(b.bytes());
    const out = await s.run({ x: new ort.Tensor('float32', xd, [1, 3, 6, 6]) });
    const got = out[s.outputNames[0]];
    expect(got.dims).toEqual([1, 4, 6, 6]);
    const ref = convRef({
      x: xd,
      xShape: [1, 3, 6, 6],
      w: wd,
      wShape: [4, 3, 3, 3],
      b: bd,
      pads: [1, 1, 1, 1],
      activation: (v) => (v > 0 ? v : 0.125 * v),
    });
    const data = got.data as Float32Array;
    for (let k = 0; k < data.length; k++) {
      expect(Math.abs(data[k] - ref.data[k])).toBeLessThan(1e-5);
    }
    await s.release();
  });
});
