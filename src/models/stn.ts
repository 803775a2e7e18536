import { WgsegError } from '../core/errors';
import { GraphBuilder } from '../graph/builder';
import { conv2d, linear, maxPool, relu } from './layers';
import { Model } from './model';

/**
 * Spatial Transformer Network (Jaderberg et al. 2015) as in the PyTorch STN tutorial; the PyTorch
 * module is tools/refs/stn.py (`Net`), whose state_dict names these parameters exactly:
 * localization (conv7 8, pool, relu, conv5 10, pool, relu) -> fc_loc (linear 32, relu, linear 6)
 * -> theta [N,2,3] -> affine grid -> bilinear sampling (F.affine_grid / F.grid_sample defaults:
 * align_corners false, zero padding). fc_loc.2 starts at the identity transform.
 */

/** Spatial size after the localization net (conv7, pool2, conv5, pool2, floors). */
export const locSize = (s: number) => Math.floor((Math.floor((s - 6) / 2) - 4) / 2);
/** Spatial size after the tutorial classifier (conv5, pool2, conv5, pool2, floors). */
export const cnnSize = (s: number) => Math.floor((Math.floor((s - 4) / 2) - 4) / 2);

/** fc_loc.2's initial value: weight 0, bias = the identity transform. */
export const IDENTITY_THETA = [1, 0, 0, 0, 1, 0];

export interface TransformerOptions {
  channels: number;
  height: number;
  width: number;
  /** parameter name prefix, e.g. 'stn.' when the transformer is a submodule (default '') */
  prefix?: string;
}

/**
 * The spatial transformer, composable in front of any network built on `b`: x [N,C,H,W] ->
 * { output: x resampled by theta (same shape), theta: [N,2,3] }. Declares
 * `<prefix>localization.{0,3}.*` and `<prefix>fc_loc.{0,2}.*`.
 */
export function spatialTransformer(
  b: GraphBuilder,
  x: string,
  o: TransformerOptions,
): { output: string; theta: string } {
  const { channels, height, width, prefix = '' } = o;
  const lh = locSize(height),
    lw = locSize(width);
  if (lh < 1 || lw < 1)
    throw new WgsegError(
      'BAD_SHAPE',
      `${b.source}: spatial transformer needs an input of at least 16x16, got ${height}x${width}`,
    );
  const p = (n: string) => `${prefix}${n}`;

  let xs = relu(b, maxPool(b, conv2d(b, p('localization.0'), x, channels, 8, 7), 2));
  xs = relu(b, maxPool(b, conv2d(b, p('localization.3'), xs, 8, 10, 5), 2));
  xs = b.op('Reshape', [xs, b.ints([-1, 10 * lh * lw])]); // xs.view(-1, 10 * 3 * 3)
  const h = relu(b, linear(b, p('fc_loc.0'), xs, 10 * lh * lw, 32));
  const w2 = b.param(p('fc_loc.2.weight'), [6, 32], new Float32Array(6 * 32));
  const b2 = b.param(p('fc_loc.2.bias'), [6], Float32Array.from(IDENTITY_THETA));
  const theta = b.op('Reshape', [b.op('Gemm', [h, w2, b2], { transB: 1 }), b.ints([-1, 2, 3])]);

  // F.affine_grid(theta, x.size()) then F.grid_sample(x, grid): the size is folded on the host
  const grid = b.op('AffineGrid', [theta, b.op('Shape', [x])], { align_corners: 0 });
  const output = b.op('GridSample', [x, grid], { mode: 'linear', padding_mode: 'zeros', align_corners: 0 });
  return { output, theta };
}

export interface StnOptions {
  /** square input size (28 = MNIST; 42 or 60 for the distorted canvases; default 28) */
  size?: number;
  channels?: number;
  classes?: number;
  /** false: the same CNN without the transformer (the paper's baseline; default true) */
  stn?: boolean;
  /** batch size (default: symbolic, bound on the first run) */
  batch?: number;
}

/**
 * The tutorial's STN classifier: transformer, then conv1 (5x5, 10) + pool + relu, conv2 (5x5, 20)
 * + pool + relu, fc1 (50) + relu, fc2, log_softmax. Outputs `log_probs` [N, classes], and with
 * the transformer `rectified` [N,C,size,size] and `theta` [N,2,3].
 */
export function stnClassifier(o: StnOptions = {}): Model {
  const { size = 28, channels = 1, classes = 10, stn = true } = o;
  const s = cnnSize(size);
  if (s < 1) throw new WgsegError('BAD_SHAPE', `stn: the classifier needs an input of at least 16x16, got ${size}`);
  const b = new GraphBuilder(stn ? `stn${size}` : `cnn${size}`);
  let x = b.input('input', [o.batch ?? 'batch', channels, size, size]);
  if (stn) {
    const t = spatialTransformer(b, x, { channels, height: size, width: size });
    x = b.output(t.output, 'rectified');
    b.output(t.theta, 'theta');
  }
  x = relu(b, maxPool(b, conv2d(b, 'conv1', x, channels, 10, 5), 2));
  x = relu(b, maxPool(b, conv2d(b, 'conv2', x, 10, 20, 5), 2)); // conv2_drop: identity in eval
  x = b.op('Reshape', [x, b.ints([-1, 20 * s * s])]);
  x = relu(b, linear(b, 'fc1', x, 20 * s * s, 50)); // F.dropout: identity in eval
  b.output(b.op('LogSoftmax', [linear(b, 'fc2', x, 50, classes)], { axis: 1 }), 'log_probs');
  return new Model(b.build(), b.params);
}

/**
 * The transformer alone, as a model: input [N,C,H,W] -> `rectified` (same shape) and `theta`.
 * Without weights for fc_loc.2 (load with `{ partial: true }`) it is the identity transform.
 */
export function spatialTransformerModel(o: TransformerOptions & { batch?: number }): Model {
  const b = new GraphBuilder('spatial-transformer');
  const x = b.input('input', [o.batch ?? 'batch', o.channels, o.height, o.width]);
  const t = spatialTransformer(b, x, o);
  b.output(t.output, 'rectified');
  b.output(t.theta, 'theta');
  return new Model(b.build(), b.params);
}
