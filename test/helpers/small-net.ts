// A small conv net as graph IR (no file format) with its float64 reference: the model the device
// loss, out-of-memory and soak tests (and the device-loss browser page) run again and again.
import type { Graph } from '../../src/graph/ir';
import { GraphBuilder } from '../graph/build';
import { convRef, fusedActivation } from '../reference/conv';
import { rng } from './random';

export const SMALL_NET_DIMS = [1, 2, 8, 8];

/** Conv 3x3 (2->4, pad 1, bias) -> Relu -> Conv 1x1 (4->2, bias) -> Sigmoid on [1,2,8,8]. */
export function smallNet(seed = 7): {
  graph: Graph;
  input: Float32Array;
  output: string;
  want: Float64Array;
  weights: Record<string, Float32Array>;
} {
  const r = rng(seed);
  const f32 = (n: number) => Float32Array.from(r.array(n));
  const weights = { w1: f32(4 * 2 * 9), b1: f32(4), w2: f32(2 * 4), b2: f32(2) };
  const input = f32(2 * 8 * 8);
  const b = new GraphBuilder();
  const x = b.input('x', SMALL_NET_DIMS);
  const c = (name: keyof typeof weights, shape: number[]) => b.const(name, shape, Array.from(weights[name]), 'float32');
  const c1 = b.node('Conv', [x, c('w1', [4, 2, 3, 3]), c('b1', [4])], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
  const c2 = b.node('Conv', [b.node('Relu', [c1]), c('w2', [2, 4, 1, 1]), c('b2', [2])], { kernel_shape: [1, 1] });
  const y = b.node('Sigmoid', [c2]);
  b.output(y);
  return { graph: b.g, input, output: y, want: smallNetRef(input, weights), weights };
}

/** float64 reference of smallNet from the operator definitions (test/reference/conv.ts). */
export function smallNetRef(x: ArrayLike<number>, w: Record<string, ArrayLike<number>>): Float64Array {
  const h = convRef({
    x,
    xShape: SMALL_NET_DIMS,
    w: w.w1,
    wShape: [4, 2, 3, 3],
    b: w.b1,
    pads: [1, 1, 1, 1],
    activation: fusedActivation('Relu'),
  });
  return convRef({
    x: h.data,
    xShape: h.shape,
    w: w.w2,
    wShape: [2, 4, 1, 1],
    b: w.b2,
    activation: fusedActivation('Sigmoid'),
  }).data;
}
