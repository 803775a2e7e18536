import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { importOnnx } from '../../src/import/onnx';
import { malformedModels } from '../helpers/malformed-models';
import { OnnxBuilder, encodeModel, f, tensor } from '../helpers/onnx-build';
import { rng } from '../helpers/random';

const caught = (fn: () => unknown): WgsegError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof WgsegError) return e;
    throw new Error(`not a WgsegError: ${(e as Error).stack}`);
  }
  throw new Error('did not throw');
};

describe('importOnnx: malformed and unsupported files (no GPU)', () => {
  const cases = malformedModels();
  it('lists at least 20 distinct kinds, import-level and plan-level', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(cases.filter((c) => c.stage === 'import').length).toBeGreaterThanOrEqual(20);
    expect(cases.some((c) => c.stage === 'plan')).toBe(true);
  });
  for (const c of cases.filter((k) => k.stage === 'import')) {
    it(`${c.name}: ${c.code} naming the file and ${c.contains.join(', ')}`, () => {
      const e = caught(() => importOnnx(c.bytes, `${c.name}.onnx`));
      expect(e.code).toBe(c.code);
      expect(e.message.startsWith(`${c.name}.onnx: `)).toBe(true);
      for (const s of c.contains) expect(e.message).toContain(s);
      expect(e.message).not.toContain('\n');
    });
  }
  it('plan-level cases import cleanly (they fail later, in the graph layer)', () => {
    for (const c of cases.filter((k) => k.stage === 'plan'))
      expect(importOnnx(c.bytes, `${c.name}.onnx`).nodes.length, c.name).toBeGreaterThan(0);
  });
  it('every truncation of a valid model is a MALFORMED_FILE error, never a crash', () => {
    const b = new OnnxBuilder();
    const x = b.input('x', [1, 2, 4, 4]);
    b.output(b.node('Conv', [x, b.init('w', new Float32Array(18).fill(0.5), [1, 2, 3, 3])], { pads: [1, 1, 1, 1] }));
    const bytes = b.bytes();
    let errors = 0;
    for (let n = 1; n < bytes.length; n++) {
      try {
        importOnnx(bytes.slice(0, n), 't.onnx');
      } catch (e) {
        expect(e).toBeInstanceOf(WgsegError);
        expect((e as WgsegError).message.startsWith('t.onnx: ')).toBe(true);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(bytes.length / 2);
  });
  it('random byte corruption gives a graph or a WgsegError, never another exception', () => {
    const b = new OnnxBuilder();
    const x = b.input('x', ['N', 2, 4, 4]);
    const c = b.node('Conv', [x, b.init('w', new Float32Array(18).fill(0.5), [1, 2, 3, 3]), b.initInt64('k', [3])], {
      pads: [1, 1, 1, 1],
      alpha: 0.5,
    });
    b.output(b.node('Constant', [], { value: tensor([1, 2], [2]) }));
    b.output(b.node('Resize', [c, '', b.init('s', [1, 1, 2, 2], [4])], { mode: 'linear' }));
    const bytes = b.bytes();
    const r = rng(11);
    for (let trial = 0; trial < 2000; trial++) {
      const m = bytes.slice();
      for (let k = r.int(1, 3); k > 0; k--) m[r.int(0, m.length - 1)] = r.int(0, 255);
      try {
        importOnnx(m, 'fuzz.onnx');
      } catch (e) {
        if (!(e instanceof WgsegError)) throw new Error(`trial ${trial}: ${(e as Error).stack}`);
        expect(e.message.startsWith('fuzz.onnx: ')).toBe(true);
      }
    }
  });
});

describe('importOnnx: graph IR', () => {
  it('inputs, initializers (raw and typed, f32/f16/int64/int32), symbolic dims, attributes with __opset', () => {
    const b = new OnnxBuilder({ opset: 13 });
    const x = b.input('x', ['N', 3, '?', 8]);
    const w = b.init('w', [1, 2, 3, 4, 5, 6], [2, 3, 1, 1], 'float32', 'typed');
    const h = b.init('h', [0.5, -2], [2], 'float16');
    const s = b.initInt64('s', [1, -1, 2 ** 40]);
    const k = b.init('k', [7, -8], [2], 'int32');
    const c = b.node('Conv', [x, w, ''], { strides: [1, 1], auto_pad: 'VALID', alpha: f(2) }, { name: 'conv' });
    b.output(b.node('Add', [c, h], {}, { output: 'out' }));
    b.output(b.node('Reshape', [k, s], {}, { output: 'r' }), 'int32');
    const g = importOnnx(b.bytes(), 'm.onnx');
    expect(g.source).toBe('m.onnx');
    expect(g.inputs).toEqual(['x']);
    expect(g.outputs).toEqual(['out', 'r']);
    expect(g.values.get('x')).toEqual({ name: 'x', type: 'float32', shape: ['N', 3, '?', 8] });
    expect(g.values.get('w')).toMatchObject({ type: 'float32', shape: [2, 3, 1, 1] });
    expect(g.values.get('w')!.data).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6]));
    expect(g.values.get('h')).toMatchObject({ type: 'float16', shape: [2], data: Float32Array.from([0.5, -2]) });
    expect(g.values.get('s')).toMatchObject({ type: 'int64', shape: [3], data: Float64Array.from([1, -1, 2 ** 40]) });
    expect(g.values.get('k')).toMatchObject({ type: 'int32', data: Int32Array.from([7, -8]) });
    expect(g.nodes.map((n) => n.op)).toEqual(['Conv', 'Add', 'Reshape']);
    expect(g.nodes[0]).toEqual({
      op: 'Conv',
      name: 'conv',
      inputs: ['x', 'w', ''],
      outputs: [c],
      attrs: { __opset: 13, strides: [1, 1], auto_pad: 'VALID', alpha: 2 },
    });
    expect(g.nodes[1].name).toBe('add_1');
  });

  it('Constant nodes become host values and are removed; ConstantOfShape value goes to node.tensors', () => {
    const b = new OnnxBuilder({ opset: 11 });
    const x = b.input('x', [2, 3]);
    const c1 = b.node('Constant', [], { value: tensor([1, 2, 3, 4, 5, 6], [2, 3]) });
    const c2 = b.node('Constant', [], { value_float: 0.5 });
    const c3 = b.node('Constant', [], { value_ints: [2, 3] });
    const c4 = b.node('Constant', [], { value_int: 4 });
    const c5 = b.node('Constant', [], { value_floats: [0.25, 1.5] });
    const c6 = b.node('Constant', [], { value: tensor([3], [1], 'int64') });
    const a = b.node('Add', [b.node('Mul', [x, c1]), c2]);
    const z = b.node('ConstantOfShape', [c3], { value: tensor([1.5], [1]) }, { name: 'cos' });
    b.output(b.node('Add', [a, z]));
    b.output(c4, 'int64');
    b.output(b.node('Expand', [c5, c6]));
    const g = importOnnx(b.bytes(), 'c.onnx');
    expect(g.nodes.map((n) => n.op)).toEqual(['Mul', 'Add', 'ConstantOfShape', 'Add', 'Expand']);
    expect(g.values.get(c1)).toEqual({
      name: c1,
      type: 'float32',
      shape: [2, 3],
      data: Float32Array.from([1, 2, 3, 4, 5, 6]),
    });
    expect(g.values.get(c2)).toEqual({ name: c2, type: 'float32', shape: [], data: Float32Array.of(0.5) });
    expect(g.values.get(c3)).toEqual({ name: c3, type: 'int64', shape: [2], data: Float64Array.of(2, 3) });
    expect(g.values.get(c4)).toEqual({ name: c4, type: 'int64', shape: [], data: Float64Array.of(4) });
    expect(g.values.get(c5)).toEqual({ name: c5, type: 'float32', shape: [2], data: Float32Array.of(0.25, 1.5) });
    expect(g.values.get(c6)).toEqual({ name: c6, type: 'int64', shape: [1], data: Float64Array.of(3) });
    const cos = g.nodes.find((n) => n.name === 'cos')!;
    expect(cos.attrs).toEqual({ __opset: 11 });
    expect(cos.tensors).toEqual({ value: { type: 'float32', shape: [1], data: Float32Array.of(1.5) } });
  });

  it('sorts out-of-order nodes topologically, keeping the file order where it is valid', () => {
    const b = new OnnxBuilder();
    const x = b.input('x', [4]);
    b.node('Relu', ['b'], {}, { output: 'c', name: 'third' });
    b.node('Neg', [x], {}, { output: 'a', name: 'first' });
    b.node('Abs', [x], {}, { output: 'u', name: 'unrelated' });
    b.node('Exp', ['a'], {}, { output: 'b', name: 'second' });
    b.output('c');
    b.output('u');
    const g = importOnnx(b.bytes(), 's.onnx');
    expect(g.nodes.map((n) => n.name)).toEqual(['first', 'second', 'third', 'unrelated']);
    const sorted = new OnnxBuilder();
    sorted.input('x', [4]);
    for (const [op, i, o] of [
      ['Neg', 'x', 'a'],
      ['Abs', 'x', 'u'],
      ['Exp', 'a', 'b'],
      ['Relu', 'b', 'c'],
    ])
      sorted.node(op, [i], {}, { output: o, name: o });
    sorted.output('c');
    expect(importOnnx(sorted.bytes(), 's.onnx').nodes.map((n) => n.name)).toEqual(['a', 'u', 'b', 'c']);
  });

  it('float raw_data read from an unaligned Node Buffer view is copied, not aliased', () => {
    const b = new OnnxBuilder();
    const x = b.input('x', [3]);
    b.output(b.node('Add', [x, b.init('w', [1.5, -2, 3.25], [3])]));
    const bytes = b.bytes();
    const pool = Buffer.alloc(bytes.length + 7, 0xee);
    pool.set(bytes, 3);
    const g = importOnnx(pool.subarray(3, 3 + bytes.length), 'buf.onnx');
    const w = g.values.get('w')!.data!;
    expect(w).toEqual(Float32Array.from([1.5, -2, 3.25]));
    expect(w.buffer.byteLength).toBe(12);
  });

  it('IR 3 files listing initializers as inputs: those are not graph inputs; opsets 9, 10, 11, 21 and 25 are accepted', () => {
    for (const opset of [9, 10, 11, 21, 25]) {
      const b = new OnnxBuilder({ opset, irVersion: 3 });
      const x = b.input('x', [1, 2]);
      b.input('w', [1, 2]);
      b.output(b.node('Add', [x, b.init('w', [1, 2], [1, 2])]));
      const g = importOnnx(b.bytes(), 'ir3.onnx');
      expect(g.inputs).toEqual(['x']);
      expect(g.nodes[0].attrs.__opset).toBe(opset);
    }
  });

  it('opset 9/10: ops read the same as at 11 (or in their old form) import with __opset; others ask for a re-export', () => {
    // PP-OCR style opset-9 graph: Clip-6 bounds and Slice-1 ranges as attributes, Upsample-9 scales as an input
    const b = new OnnxBuilder({ opset: 9 });
    const x = b.input('x', [1, 2, 4, 4]);
    const c = b.node('Clip', [x], { min: f(0), max: f(6) });
    const s = b.node('Slice', [c], { starts: [1], ends: [3], axes: [2] });
    b.output(b.node('Upsample', [s, b.init('scales', [1, 1, 2, 2], [4])], { mode: 'nearest' }));
    const g = importOnnx(b.bytes(), 'old.onnx');
    expect(g.nodes.map((n) => [n.op, n.attrs.__opset])).toEqual([
      ['Clip', 9],
      ['Slice', 9],
      ['Upsample', 9],
    ]);
    expect(g.nodes[0].attrs).toMatchObject({ min: 0, max: 6 });
    const reject = (opset: number, op: string, inputs: (b: OnnxBuilder, x: string) => string[], attrs = {}) => {
      const m = new OnnxBuilder({ opset });
      const y = m.input('x', [1, 2, 4, 4]);
      m.output(m.node(op, inputs(m, y), attrs, { name: 'old_node' }));
      return caught(() => importOnnx(m.bytes(), 'old.onnx'));
    };
    const e = reject(10, 'Resize', (m, y) => [y, m.init('scales', [1, 1, 2, 2], [4])]);
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toMatch(
      /^old\.onnx: node old_node \(Resize\): op Resize at opset 10: .*re-export with opset >= 11/,
    );
    expect(reject(9, 'Mod', (_m, y) => [y, y]).message).toMatch(/op Mod at opset 9: .*re-export with opset >= 11/);
    expect(
      importOnnx(
        (() => {
          const m = new OnnxBuilder({ opset: 10 });
          const y = m.input('x', [2]);
          m.output(m.node('Mod', [y, y], { fmod: 1 }));
          return m.bytes();
        })(),
        'mod.onnx',
      ).nodes[0].attrs.__opset,
    ).toBe(10);
    expect(reject(10, 'Round', (_m, y) => [y]).message).toMatch(/op Round at opset 10/);
    // issue 15's ops: Erf/Split/MaxUnpool from 9, TopK from 10 (K input); CumSum, Einsum, LayerNorm are 11+ only
    const old = new OnnxBuilder({ opset: 9 });
    const ox = old.input('x', [1, 4, 4, 4]);
    const [s1] = old.node('Split', [old.node('Erf', [ox])], { axis: 1, split: [2, 2] }, { outputs: 2 });
    old.output(s1);
    expect(importOnnx(old.bytes(), 'old9.onnx').nodes.map((n) => [n.op, n.attrs.__opset, n.attrs.__outputs])).toEqual([
      ['Erf', 9, undefined],
      ['Split', 9, 2],
    ]);
    expect(reject(10, 'CumSum', (m, y) => [y, m.initInt64('ax', [1], [])]).message).toMatch(/op CumSum at opset 10/);
    expect(reject(9, 'TopK', (m, y) => [y, m.initInt64('k', [1])]).message).toMatch(/op TopK at opset 9/);
    const sw = new OnnxBuilder({ opset: 24 });
    sw.output(sw.node('Swish', [sw.input('x', [2])], { alpha: f(0.5) }));
    expect(importOnnx(sw.bytes(), 'swish.onnx').nodes[0].attrs).toMatchObject({ alpha: 0.5, __opset: 24 });
  });

  it('a graph output may be a graph input or an initializer; an unnamed ("") optional output is allowed', () => {
    const b = new OnnxBuilder();
    const x = b.input('x', [3]);
    const [y] = b.node('Dropout', [x], {}, { outputs: ['y', ''] });
    b.output(y);
    b.output(x);
    b.output(b.init('k', [1], [1]));
    const g = importOnnx(b.bytes(), 'o.onnx');
    expect(g.outputs).toEqual(['y', 'x', 'k']);
    expect(g.nodes[0].outputs).toEqual(['y', '']);
  });

  it('a node input defined by a Constant or initializer with the same name as a node output is a duplicate', () => {
    const m = new OnnxBuilder();
    const x = m.input('x', [1]);
    m.init('y', [1], [1]);
    m.output(m.node('Relu', [x], {}, { output: 'y', name: 'r' }));
    const e = caught(() => importOnnx(encodeModel(m.model()), 'd.onnx'));
    expect(e.code).toBe('MALFORMED_FILE');
    expect(e.message).toMatch(/^d\.onnx: value "y" is defined twice: by initializer "y" and by node r \(Relu\)/);
  });
});
