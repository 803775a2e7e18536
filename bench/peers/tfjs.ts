// TFJS (tfjs-core + tfjs-backend-webgpu) as a peer: the ONNX model's weights rebuilt as TFJS ops in
// NHWC, for the ops the benchmark's TFJS rows use (Conv, ConvTranspose, Resize, BatchNormalization,
// Relu, MaxPool, Concat, Add). Inputs go in NCHW and the output comes back NCHW (transposed on the
// GPU), like the other engines. No node: imports.
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { importOnnx } from '../../src/internal';
import type { Graph, Node } from '../../src/index';
import type { Loaded, Prepared } from './models';

// tfjs-backend-webgpu registers its kernels under the name 'webgpu': our backend takes that name
const BACKEND = 'webgpu';
let ready: Promise<void> | null = null;

/** Register TFJS's WebGPU backend on our device (same adapter as wgseg and onnxruntime) and select it. */
export function initTfjs(device: GPUDevice): Promise<void> {
  return (ready ??= (async () => {
    if (tf.findBackendFactory(BACKEND)) tf.removeBackend(BACKEND);
    tf.registerBackend(BACKEND, () => new WebGPUBackend(device), 10);
    if (!(await tf.setBackend(BACKEND))) throw new Error('TFJS: the WebGPU backend did not start');
    await tf.ready();
  })());
}

type T4 = tf.Tensor4D;
type Op = (node: Node, ins: (tf.Tensor | undefined)[], g: Graph) => tf.Tensor;

const ints = (v: unknown, d: number[]) => (Array.isArray(v) ? (v as number[]) : d);

/** OIHW -> HWIO (conv) or [Cin, Cout, k, k] -> [k, k, Cout, Cin] (conv transpose), on the host. */
function hwio(data: Float32Array, [a, b, kh, kw]: number[]): tf.Tensor4D {
  const out = new Float32Array(data.length);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) {
          const src = ((i * b + j) * kh + y) * kw + x;
          // conv: [y, x, in=j, out=i]; conv transpose: [y, x, out=j, in=i]
          out[((y * kw + x) * b + j) * a + i] = data[src];
        }
  return tf.tensor4d(out, [kh, kw, b, a]);
}

/** Weights that TFJS needs in another layout, made once at prepare time. */
function weights(g: Graph): Map<string, tf.Tensor> {
  const w = new Map<string, tf.Tensor>();
  for (const n of g.nodes) {
    const v = g.values.get(n.inputs[1]);
    if ((n.op === 'Conv' || n.op === 'ConvTranspose') && v?.data) {
      w.set(n.inputs[1], hwio(v.data as Float32Array, v.shape as number[]));
    }
  }
  for (const [name, v] of g.values)
    if (v.data && !w.has(name) && v.type === 'float32')
      w.set(name, tf.tensor(v.data as Float32Array, v.shape as number[]));
  return w;
}

const OPS: Record<string, Op> = {
  Conv(n, [x, w, b]) {
    if (((n.attrs.group as number) ?? 1) !== 1) throw new Error('TFJS adapter: grouped Conv');
    const [pt, pl, pb, pr] = ints(n.attrs.pads, [0, 0, 0, 0]);
    const s = ints(n.attrs.strides, [1, 1]) as [number, number],
      d = ints(n.attrs.dilations, [1, 1]) as [number, number];
    const y = tf.conv2d(
      x as T4,
      w as T4,
      s,
      [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ],
      'NHWC',
      d,
    );
    return b ? tf.add(y, b) : y;
  },
  ConvTranspose(n, [x, w, b]) {
    const [k] = ints(n.attrs.kernel_shape, []),
      [s] = ints(n.attrs.strides, [1, 1]);
    const [p, ...rest] = ints(n.attrs.pads, [0, 0, 0, 0]);
    if (rest.some((q) => q !== p) || (p !== 0 && 2 * p !== k - s))
      throw new Error(`TFJS adapter: ConvTranspose pads ${n.attrs.pads} are neither 'valid' nor 'same'`);
    const [N, H, W] = x!.shape,
      M = w!.shape[2];
    const oh = (H - 1) * s + k - 2 * p,
      ow = (W - 1) * s + k - 2 * p;
    const y = tf.conv2dTranspose(
      x as T4,
      w as T4,
      [N, oh, ow, M] as [number, number, number, number],
      s,
      p === 0 ? 'valid' : 'same',
    );
    return b ? tf.add(y, b) : y;
  },
  Resize: (n, [x], g) => resize(g, n, x!),
  BatchNormalization(n, [x, scale, bias, mean, variance]) {
    return tf.batchNorm(x!, mean!, variance!, bias!, scale!, (n.attrs.epsilon as number) ?? 1e-5);
  },
  Relu: (_, [x]) => tf.relu(x!),
  Add: (_, [a, b]) => tf.add(a!, b!),
  MaxPool(n, [x]) {
    const k = ints(n.attrs.kernel_shape, []) as [number, number],
      s = ints(n.attrs.strides, [1, 1]) as [number, number];
    if (ints(n.attrs.pads, [0, 0, 0, 0]).some((p) => p !== 0)) throw new Error('TFJS adapter: padded MaxPool');
    return tf.maxPool(x as T4, k, s, 'valid');
  },
  Concat(n, ins) {
    if (n.attrs.axis !== 1) throw new Error('TFJS adapter: Concat off the channel axis');
    return tf.concat(ins as tf.Tensor[], 3);
  },
};

/** Resize (linear, half-pixel) with constant scales or sizes: tf.image.resizeBilinear with half-pixel centres. */
function resize(g: Graph, n: Node, x: tf.Tensor): tf.Tensor {
  const mode = n.attrs.coordinate_transformation_mode ?? 'half_pixel';
  if (n.attrs.mode !== 'linear' || (mode !== 'half_pixel' && mode !== 'pytorch_half_pixel'))
    throw new Error('TFJS adapter: Resize other than linear half-pixel');
  const [, H, W] = x.shape;
  const scales = g.values.get(n.inputs[2])?.data,
    sizes = g.values.get(n.inputs[3])?.data;
  const [oh, ow] = sizes?.length
    ? [sizes[2], sizes[3]]
    : scales?.length
      ? [Math.floor(H * scales[2]), Math.floor(W * scales[3])]
      : [0, 0];
  if (!oh) throw new Error('TFJS adapter: Resize sizes are not constants');
  return tf.image.resizeBilinear(x as T4, [oh, ow], false, true);
}

/** Build the model's weights in TFJS and a run() that executes its nodes eagerly inside tf.tidy. */
export function tfjsPrepare(l: Loaded): Prepared {
  const g = importOnnx(l.onnx!, l.output);
  for (const n of g.nodes) if (!OPS[n.op]) throw new Error(`TFJS adapter: no ${n.op}`);
  const w = weights(g);
  const inputs = Object.fromEntries(Object.entries(l.feeds).map(([k, f]) => [k, tf.tensor(f.data, f.dims)]));
  const forward = () =>
    tf.tidy(() => {
      const live = new Map<string, tf.Tensor>(w);
      for (const [k, t] of Object.entries(inputs)) live.set(k, t.rank === 4 ? tf.transpose(t, [0, 2, 3, 1]) : t);
      for (const n of g.nodes) {
        const ins = n.inputs.map((i) => (i ? live.get(i) : undefined));
        live.set(n.outputs[0], OPS[n.op](n, ins, g));
      }
      return tf.transpose(live.get(l.output)!, [0, 3, 1, 2]);
    });
  return {
    async run() {
      const y = forward();
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {
      for (const t of [...w.values(), ...Object.values(inputs)]) t.dispose();
    },
  };
}
