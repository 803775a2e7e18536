import { WgsegError } from '../core/errors';
import { GraphBuilder } from '../graph/builder';
import type { Dim } from '../graph/ir';
import { batchNorm, conv2d, convTranspose2d, maxPool, relu } from './layers';
import { Model } from './model';

/**
 * U-Net (Ronneberger et al. 2015) with the parameter names of milesial/Pytorch-UNet (the PyTorch
 * module is tools/refs/unet.py): `inc`, `down1..downD` (MaxPool2d(2) + DoubleConv), `up1..upD`
 * (ConvTranspose2d(2, stride 2), or bilinear Upsample x2 with align_corners, then concat with the
 * skip and DoubleConv), `outc` (1x1 classifier). DoubleConv = (conv3x3 pad 1, no bias) + BN + ReLU,
 * twice, so sizes are kept. The original is width 64, depth 4.
 */
export interface UNetOptions {
  /** input channels (default 3) */
  channels?: number;
  /** output classes (default 2) */
  classes?: number;
  /** channels of the first DoubleConv, doubled at every down step (default 64) */
  width?: number;
  /** number of down/up steps (default 4) */
  depth?: number;
  /** bilinear upsampling instead of transposed convs (upstream's `bilinear=True`; default false) */
  bilinear?: boolean;
  /**
   * Input size. Given, any size works (upsampled maps are padded to the skip's size as upstream
   * does); left out, height and width are symbolic and must be multiples of 2**depth.
   */
  inputHeight?: number;
  inputWidth?: number;
  /** batch size (default: symbolic, bound on the first run) */
  batch?: number;
}

type Size = { h: Dim; w: Dim };

function doubleConv(
  b: GraphBuilder,
  prefix: string,
  x: string,
  cin: number,
  cout: number,
  unused: Set<string>,
  mid = cout,
): string {
  const p = `${prefix}.double_conv`;
  x = relu(b, batchNorm(b, `${p}.1`, conv2d(b, `${p}.0`, x, cin, mid, 3, { pad: 1, bias: false }), mid, unused));
  return relu(b, batchNorm(b, `${p}.4`, conv2d(b, `${p}.3`, x, mid, cout, 3, { pad: 1, bias: false }), cout, unused));
}

const half = (s: Size): Size => ({
  h: typeof s.h === 'number' ? Math.floor(s.h / 2) : s.h,
  w: typeof s.w === 'number' ? Math.floor(s.w / 2) : s.w,
});

/** F.pad(x1, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2]) so that x1 (size `from`) matches `to`. */
function padTo(b: GraphBuilder, x: string, from: Size, to: Size): string {
  if (typeof to.h !== 'number' || typeof to.w !== 'number' || typeof from.h !== 'number' || typeof from.w !== 'number')
    return x;
  const dy = to.h - from.h,
    dx = to.w - from.w;
  if (!dy && !dx) return x;
  const top = Math.floor(dy / 2),
    left = Math.floor(dx / 2);
  return b.op('Pad', [x, b.ints([0, 0, top, left, 0, 0, dy - top, dx - left], 'pads')], { mode: 'constant' });
}

export function unet(o: UNetOptions = {}): Model {
  const { channels = 3, classes = 2, width = 64, depth = 4, bilinear = false } = o;
  if (!(depth >= 1 && Number.isInteger(depth)))
    throw new WgsegError('BAD_ATTRIBUTE', `unet: depth must be a positive integer, got ${depth}`);
  if (o.inputHeight !== undefined && o.inputHeight < 2 ** depth)
    throw new WgsegError('BAD_SHAPE', `unet: input height ${o.inputHeight} is below 2**depth = ${2 ** depth}`);
  if (o.inputWidth !== undefined && o.inputWidth < 2 ** depth)
    throw new WgsegError('BAD_SHAPE', `unet: input width ${o.inputWidth} is below 2**depth = ${2 ** depth}`);
  const factor = bilinear ? 2 : 1;
  const b = new GraphBuilder('unet');
  const unused = new Set<string>();
  const size0: Size = { h: o.inputHeight ?? 'height', w: o.inputWidth ?? 'width' };
  const x = b.input('input', [o.batch ?? 'batch', channels, size0.h, size0.w]);

  // contracting path: inc, down1..downD; each output is a skip (the last is the bottom)
  const skips: { v: string; size: Size }[] = [{ v: doubleConv(b, 'inc', x, channels, width, unused), size: size0 }];
  for (let i = 1; i <= depth; i++) {
    const cout = width << i;
    const prev = skips[skips.length - 1];
    const v = doubleConv(
      b,
      `down${i}.maxpool_conv.1`,
      maxPool(b, prev.v, 2),
      cout / 2,
      i === depth ? cout / factor : cout,
      unused,
    );
    skips.push({ v, size: half(prev.size) });
  }

  // expanding path: up1..upD: upsample x2, pad to the skip, concat [skip, up], DoubleConv
  let { v: y, size } = skips.pop()!;
  for (let i = 1; i <= depth; i++) {
    const cin = width << (depth - i + 1);
    const cout = i < depth ? cin / 2 / factor : cin / 2;
    const skip = skips.pop()!;
    let up: string;
    if (bilinear)
      up = b.op('Resize', [y, '', b.constant([1, 1, 2, 2], [4], 'float32', 'scales')], {
        mode: 'linear',
        coordinate_transformation_mode: 'align_corners',
      });
    else up = convTranspose2d(b, `up${i}.up`, y, cin, cin / 2, 2, { stride: 2 });
    const upSize: Size = {
      h: typeof size.h === 'number' ? size.h * 2 : size.h,
      w: typeof size.w === 'number' ? size.w * 2 : size.w,
    };
    const cat = b.op('Concat', [skip.v, padTo(b, up, upSize, skip.size)], { axis: 1 });
    y = doubleConv(b, `up${i}.conv`, cat, cin, cout, unused, bilinear ? cin / 2 : cout);
    size = skip.size;
  }
  b.output(conv2d(b, 'outc.conv', y, width, classes, 1), 'logits');
  return new Model(b.build(), b.params, unused);
}
