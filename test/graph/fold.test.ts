import { describe, expect, it } from 'vitest';
import { foldNode } from '../../src/graph/fold';
import type { HostTensor } from '../../src/core/op';
import type { Node } from '../../src/graph/ir';
import { resolve } from '../../src/graph/shapes';
import type { Attrs } from '../../src/core/attrs';
import { GraphBuilder } from './build';

const t = (shape: number[], data: number[], type: HostTensor['type'] = 'int64'): HostTensor => ({
  type,
  shape,
  data: type.startsWith('float') ? Float32Array.from(data) : Float64Array.from(data),
});
const fold = (op: string, inputs: (HostTensor | undefined)[], attrs: Attrs = {}, tensors?: Node['tensors']) => {
  const r = foldNode({ op, name: op, inputs: [], outputs: [], attrs, tensors }, inputs);
  return { shape: r.shape, data: Array.from(r.data), type: r.type };
};
const INT64_MAX = 9223372036854775807;

describe('host folding of single ops (no GPU)', () => {
  it('matches hand-computed results', () => {
    const x = t([2, 3], [0, 1, 2, 3, 4, 5], 'float32');
    expect(fold('Shape', [x])).toEqual({ shape: [2], data: [2, 3], type: 'int64' });
    expect(fold('Shape', [x], { start: -1 })).toEqual({ shape: [1], data: [3], type: 'int64' });
    expect(fold('Gather', [x, t([2], [-1, 0])], { axis: 1 })).toEqual({
      shape: [2, 2],
      data: [2, 0, 5, 3],
      type: 'float32',
    });
    expect(fold('Gather', [t([4], [1, 3, 5, 7]), t([], [2])])).toEqual({ shape: [], data: [5], type: 'int64' });
    expect(fold('Slice', [x, t([1], [1]), t([1], [INT64_MAX]), t([1], [1])]).data).toEqual([1, 2, 4, 5]);
    expect(
      fold('Slice', [t([5], [0, 1, 2, 3, 4]), t([1], [-1]), t([1], [-INT64_MAX]), t([1], [0]), t([1], [-2])]).data,
    ).toEqual([4, 2, 0]);
    expect(fold('Concat', [t([1], [1]), t([2], [-1, 7])], { axis: 0 }).data).toEqual([1, -1, 7]);
    expect(fold('Concat', [x, t([2, 1], [9, 8], 'float32')], { axis: 1 }).data).toEqual([0, 1, 2, 9, 3, 4, 5, 8]);
    expect(fold('Cast', [t([3], [-1.7, 2.5, 3.9], 'float32')], { to: 7 })).toEqual({
      shape: [3],
      data: [-1, 2, 3],
      type: 'int64',
    });
    expect(fold('Cast', [t([2], [0, 3])], { to: 1 }).type).toBe('float32');
    expect(fold('Range', [t([], [1]), t([], [10]), t([], [3])]).data).toEqual([1, 4, 7]);
    expect(
      fold('ConstantOfShape', [t([2], [2, 2])], {}, { value: { type: 'int64', shape: [1], data: Float64Array.of(5) } }),
    ).toEqual({ shape: [2, 2], data: [5, 5, 5, 5], type: 'int64' });
    expect(fold('Expand', [t([2, 1], [1, 2]), t([2], [2, 3])]).data).toEqual([1, 1, 1, 2, 2, 2]);
    expect(
      fold('Where', [{ type: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) }, t([3], [1, 2, 3]), t([], [0])]).data,
    ).toEqual([1, 0, 3]);
    expect(fold('Div', [t([2], [7, -7]), t([], [2])]).data).toEqual([3, -3]);
    expect(fold('Mul', [t([2], [1.5, 2], 'float32'), t([], [2], 'float32')]).data).toEqual([3, 4]);
    expect(fold('Equal', [t([3], [1, 2, 3]), t([1], [2])])).toEqual({ shape: [3], data: [0, 1, 0], type: 'bool' });
    expect(fold('Unsqueeze', [t([], [4]), t([1], [0])]).shape).toEqual([1]);
    expect(fold('Squeeze', [t([1, 2, 1], [4, 5])], { axes: [0] }).shape).toEqual([2, 1]);
    expect(fold('Reshape', [x, t([2], [0, -1])]).shape).toEqual([2, 3]);
    expect(fold('Transpose', [x], { perm: [1, 0] }).data).toEqual([0, 3, 1, 4, 2, 5]);
    expect(fold('Floor', [t([2], [-1.5, 1.5], 'float32')]).data).toEqual([-2, 1]);
  });

  it('ScatterND writes or reduces updates at the indices (ONNX reference examples)', () => {
    // ONNX's ScatterND example 1: data [1..8], indices [[4],[3],[1],[7]], updates [9,10,11,12]
    const data = t([8], [1, 2, 3, 4, 5, 6, 7, 8], 'float32');
    const idx = t([4, 1], [4, 3, 1, 7]);
    expect(fold('ScatterND', [data, idx, t([4], [9, 10, 11, 12], 'float32')]).data).toEqual([
      1, 11, 3, 10, 9, 6, 7, 12,
    ]);
    expect(fold('ScatterND', [data, idx, t([4], [9, 10, 11, 12], 'float32')], { reduction: 'add' }).data).toEqual([
      1, 13, 3, 14, 14, 6, 7, 20,
    ]);
    // slices: rows of a 3x2 matrix, negative index
    const m = t([3, 2], [0, 0, 0, 0, 0, 0], 'float32');
    expect(fold('ScatterND', [m, t([2, 1], [-1, 0]), t([2, 2], [1, 2, 3, 4], 'float32')]).data).toEqual([
      3, 4, 0, 0, 1, 2,
    ]);
    // the input is not mutated
    expect(Array.from(data.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => fold('ScatterND', [m, t([1, 1], [3]), t([1, 2], [1, 2], 'float32')])).toThrow(/index 3 out of range/);
    expect(() => fold('ScatterND', [m, t([1, 1], [0]), t([1, 3], [1, 2, 3], 'float32')])).toThrow(
      /updates shape \[1,3\] must be \[1,2\]/,
    );
  });
});

describe('resolve: binding, folding, inference (no GPU)', () => {
  /** x -> Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape(x): what torch.flatten(x, 1) exports. */
  function flattenChain() {
    const b = new GraphBuilder();
    const x = b.input('x', ['N', 3, 4, 4]);
    const s = b.node('Shape', [x]);
    const n = b.node('Gather', [s, b.const('zero', [], [0])], { axis: 0 });
    const u = b.node('Unsqueeze', [n, b.const('ax', [1], [0])]);
    const c = b.node('Concat', [u, b.const('m1', [1], [-1])], { axis: 0 });
    const r = b.node('Reshape', [x, c]);
    // Resize to 2x the input size, sizes computed from Shape -> Slice -> Mul -> Cast -> Concat
    const hw = b.node('Slice', [b.node('Shape', [x]), b.const('st', [1], [2]), b.const('en', [1], [4])]);
    const f = b.node('Cast', [hw], { to: 1 });
    const big = b.node('Cast', [b.node('Mul', [f, b.const('two', [], [2], 'float32')])], { to: 7 });
    const sizes = b.node(
      'Concat',
      [b.node('Slice', [b.node('Shape', [x]), b.const('s0', [1], [0]), b.const('e2', [1], [2])]), big],
      { axis: 0 },
    );
    const up = b.node('Resize', [x, '', '', sizes], { mode: 'nearest' });
    b.output(r).output(up);
    return b.g;
  }

  it('folds a PyTorch-style Shape/Gather/Unsqueeze/Concat chain into the Reshape target', () => {
    const g = flattenChain();
    const r = resolve(g, { x: [2, 3, 4, 4] });
    expect(r.graph.nodes.map((n) => n.op)).toEqual(['Reshape', 'Resize']);
    const reshape = r.graph.nodes[0];
    expect(Array.from(r.graph.values.get(reshape.inputs[1])!.data!)).toEqual([2, -1]);
    expect(r.graph.values.get(reshape.outputs[0])!.shape).toEqual([2, 48]);
    expect(Array.from(r.graph.values.get(r.graph.nodes[1].inputs[3])!.data!)).toEqual([2, 3, 8, 8]);
    expect(r.graph.values.get(r.graph.nodes[1].outputs[0])!.shape).toEqual([2, 3, 8, 8]);
    expect(r.gpu.get(reshape.outputs[0])).toBe('f32');
    // the importer's graph is left as it was
    expect(g.nodes.length).toBe(14);
    expect(g.values.get('x')!.shape).toEqual(['N', 3, 4, 4]);
  });

  it('binds symbols once across inputs and names bad shapes', () => {
    const b = new GraphBuilder();
    const a = b.input('a', ['N', 3]);
    const c = b.input('c', ['N', 3]);
    b.output(b.node('Add', [a, c]));
    expect(resolve(b.g, { a: [5, 3], c: [5, 3] }).graph.values.get('add_0')!.shape).toEqual([5, 3]);
    expect(() => resolve(b.g, { a: [5, 3], c: [6, 3] })).toThrow(/input c: dim N given as 6, but bound to 5/);
    expect(() => resolve(b.g, { a: [5, 4], c: [5, 4] })).toThrow(/input a: expected dims \[N,3\], given \[5,4\]/);
    expect(() => resolve(b.g, { a: [5, 3] })).toThrow(/input c has symbolic dims \[N,3\]/);
  });

  it('refuses a host input computed on the GPU, naming file, node and op', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    const s = b.node('Cast', [b.node('ArgMax', [x], { axis: 1, keepdims: 0 })], { to: 7 });
    b.output(b.node('Reshape', [x, s]));
    expect(() => resolve(b.g, {})).toThrow(
      /test.onnx: node reshape_2 \(Reshape\): input 1 \(cast_1\) is computed at run time, not supported/,
    );
  });

  it('runs Dropout as the identity and leaves its unread mask output unproduced', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    // torchvision's Swin: training_mode=true with ratio 0 (the identity too)
    const d = b.node('Dropout', [x, b.const('p', [], [0], 'float32'), b.const('tm', [], [1], 'bool')], {}, 2);
    b.output(b.node('Relu', [d]));
    const r = resolve(b.g, {});
    expect(r.graph.values.get(d)!.shape).toEqual([2, 3]);
    expect(r.graph.values.get(`${d}:1`)?.shape).toBeUndefined();
    expect(r.graph.nodes.find((n) => n.op === 'Dropout')?.outputs).toEqual([d, '']);
    const train = new GraphBuilder();
    const y = train.input('x', [2, 3]);
    train.output(
      train.node('Dropout', [y, train.const('p', [], [0.5], 'float32'), train.const('tm', [], [1], 'bool')]),
    );
    expect(() => resolve(train.g, {})).toThrow(/Dropout: training_mode=true with a non-zero ratio/);
    const mask = new GraphBuilder();
    const z = mask.input('x', [2, 3]);
    const dm = mask.node('Dropout', [z], {}, 2);
    mask.output(`${dm}:1`);
    expect(() => resolve(mask.g, {})).toThrow(/output 1 \(dropout_0:1\) is not produced/);
  });

  it('names the node in kernel shape errors', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 8, 8]);
    b.output(b.node('Conv', [x, b.const('w', [4, 2, 3, 3], new Array(72).fill(0), 'float32')]));
    expect(() => resolve(b.g, {})).toThrow(/test.onnx: node conv_0 \(Conv\): Conv: group 1 does not fit/);
  });
});
