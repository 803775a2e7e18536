import type { GraphBuilder } from '../graph/builder';

/**
 * PyTorch-named layers on the graph builder: each declares its parameters under `prefix` exactly
 * as the torch module's state_dict names them (`<prefix>.weight`, `<prefix>.bias`,
 * `<prefix>.running_mean`...), and appends the ONNX ops that compute it. NCHW throughout.
 */

export interface ConvOpts {
  stride?: number;
  pad?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

/** nn.Conv2d(cin, cout, k, stride, padding, dilation, groups, bias) */
export function conv2d(
  b: GraphBuilder,
  prefix: string,
  x: string,
  cin: number,
  cout: number,
  k: number,
  o: ConvOpts = {},
): string {
  const { stride = 1, pad = 0, dilation = 1, groups = 1, bias = true } = o;
  const w = b.param(`${prefix}.weight`, [cout, cin / groups, k, k]);
  const bb = bias ? b.param(`${prefix}.bias`, [cout]) : undefined;
  return b.op('Conv', [x, w, bb], {
    kernel_shape: [k, k],
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
    dilations: [dilation, dilation],
    group: groups,
  });
}

/** nn.ConvTranspose2d(cin, cout, k, stride, padding, output_padding, bias); `init` fills the weight when none is loaded. */
export function convTranspose2d(
  b: GraphBuilder,
  prefix: string,
  x: string,
  cin: number,
  cout: number,
  k: number,
  o: { stride?: number; pad?: number; outputPadding?: number; bias?: boolean; init?: Float32Array } = {},
): string {
  const { stride = 1, pad = 0, outputPadding = 0, bias = true } = o;
  const w = b.param(`${prefix}.weight`, [cin, cout, k, k], o.init);
  const bb = bias ? b.param(`${prefix}.bias`, [cout]) : undefined;
  return b.op('ConvTranspose', [x, w, bb], {
    kernel_shape: [k, k],
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
    output_padding: [outputPadding, outputPadding],
  });
}

/** nn.BatchNorm2d(c) in eval mode; `unused` collects `<prefix>.num_batches_tracked`. */
export function batchNorm(
  b: GraphBuilder,
  prefix: string,
  x: string,
  c: number,
  unused: Set<string>,
  eps = 1e-5,
): string {
  const ps = ['weight', 'bias', 'running_mean', 'running_var'].map((n) => b.param(`${prefix}.${n}`, [c]));
  unused.add(`${prefix}.num_batches_tracked`);
  return b.op('BatchNormalization', [x, ...ps], { epsilon: eps });
}

/** nn.Linear(cin, cout): x [N, cin] -> [N, cout] */
export function linear(b: GraphBuilder, prefix: string, x: string, cin: number, cout: number, bias = true): string {
  const w = b.param(`${prefix}.weight`, [cout, cin]);
  const bb = bias ? b.param(`${prefix}.bias`, [cout]) : undefined;
  return b.op('Gemm', [x, w, bb], { transB: 1 });
}

export const relu = (b: GraphBuilder, x: string) => b.op('Relu', [x]);

export function maxPool(b: GraphBuilder, x: string, k: number, stride = k, pad = 0, ceil = false): string {
  return b.op('MaxPool', [x], {
    kernel_shape: [k, k],
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
    ceil_mode: ceil ? 1 : 0,
    __outputs: 1,
  });
}

/** F.interpolate(x, size, mode='bilinear', align_corners) */
export function resizeBilinear(
  b: GraphBuilder,
  x: string,
  n: number,
  c: number,
  h: number,
  w: number,
  alignCorners = false,
): string {
  return b.op('Resize', [x, '', '', b.ints([n, c, h, w], 'sizes')], {
    mode: 'linear',
    coordinate_transformation_mode: alignCorners ? 'align_corners' : 'half_pixel',
  });
}

/** x[:, :, top:top+h, left:left+w] (FCN's crop) */
export function crop(b: GraphBuilder, x: string, top: number, left: number, h: number, w: number): string {
  return b.op('Slice', [x, b.ints([top, left]), b.ints([top + h, left + w]), b.ints([2, 3])]);
}

/** Bilinear upsampling filter for a ConvTranspose weight [c, c, k, k] (diagonal: channel i -> i), as FCN initialises it. */
export function bilinearKernel(c: number, k: number): Float32Array {
  const f = Math.ceil(k / 2),
    center = k % 2 === 1 ? f - 1 : f - 0.5;
  const w = new Float32Array(c * c * k * k);
  for (let i = 0; i < c; i++)
    for (let y = 0; y < k; y++)
      for (let x = 0; x < k; x++)
        w[((i * c + i) * k + y) * k + x] = (1 - Math.abs(y - center) / f) * (1 - Math.abs(x - center) / f);
  return w;
}
