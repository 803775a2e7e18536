import { WgsegError } from '../core/errors';
import { GraphBuilder } from '../graph/builder';
import { bilinearKernel, conv2d, crop, maxPool, relu } from './layers';
import { Model } from './model';

/**
 * FCN-32s / FCN-16s / FCN-8s (Long, Shelhamer & Darrell), laid out as wkentaro/pytorch-fcn's
 * torchfcn.models.FCN32s/16s/8s, whose state_dict names the parameters: VGG16 (conv1_1..conv5_3,
 * conv1_1 padded by 100), fc6/fc7 as 7x7 / 1x1 convolutions (dropout is the identity at
 * inference), score_fr, the skip scores score_pool4 / score_pool3, bias-free transposed-convolution
 * upsampling (upscore / upscore2, upscore16 / upscore2, upscore_pool4, upscore8), initialised
 * bilinear when no weights are loaded for them, and crops aligning each map to the next, with the
 * offsets Caffe's coord_map computes (5, 9, 19, 27, 31 for the pad-100 network).
 */

export type FcnVariant = '32s' | '16s' | '8s';

export interface FcnOptions {
  variant?: FcnVariant;
  /** output classes (n_class); default 21 (PASCAL VOC) */
  classes?: number;
  /** input size; any size works with pad 100 */
  height: number;
  width: number;
  /** batch size, or a symbolic dim name (default 'batch': any batch, fixed at the first run) */
  batch?: number | string;
  /** scales the VGG widths 64/128/256/512/512/4096 (fc6/fc7 included); 1 = the real network */
  channelScale?: number;
  /** conv1_1's padding; 100 in FCN (what makes any input size work) */
  pad?: number;
}

/**
 * Caffe's coord_map for one spatial axis: a map's index c and data (input image) coordinate x
 * relate by c = scale * x + shift, pixel centres on integers. A conv or pool (kernel k, stride s,
 * pad p) maps c -> (c + p - (k - 1) / 2) / s; a transposed conv c -> s * c + (k - 1) / 2 - p.
 */
export interface Coord {
  scale: number;
  shift: number;
  /** the map's length along this axis */
  size: number;
}
export const convCoord = (c: Coord, k: number, s = 1, p = 0, ceil = false): Coord => {
  const span = c.size + 2 * p - k;
  return {
    scale: c.scale / s,
    shift: (c.shift + p - (k - 1) / 2) / s,
    size: (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1,
  };
};
export const deconvCoord = (c: Coord, k: number, s: number): Coord => ({
  scale: c.scale * s,
  shift: s * c.shift + (k - 1) / 2,
  size: (c.size - 1) * s + k,
});

/** Caffe Crop: the offset at which `from` must be cropped to line up with `to` (same scale), checked to fit. */
export function cropOffset(from: Coord, to: Coord, what: string): number {
  const off = from.shift - to.shift;
  if (from.scale !== to.scale || !Number.isInteger(off) || off < 0) {
    throw new WgsegError(
      'BAD_ATTRIBUTE',
      `${what}: no integer crop aligns the maps (scale ${from.scale} vs ${to.scale}, offset ${off}); conv1_1 padding must be >= the offsets FCN crops at (100 in FCN)`,
    );
  }
  if (off + to.size > from.size)
    throw new WgsegError(
      'BAD_SHAPE',
      `${what}: map of ${from.size} is too small to crop ${to.size} at offset ${off}; use a larger input or conv1_1 padding`,
    );
  return off;
}

/** The widths of the five VGG blocks and fc6/fc7 at a channel scale. */
export const fcnWidths = (scale = 1) => [64, 128, 256, 512, 512, 4096].map((c) => Math.max(1, Math.round(c * scale)));

export function fcn(o: FcnOptions): Model {
  const { variant = '8s', classes = 21, height, width, batch = 'batch', channelScale = 1, pad = 100 } = o;
  if (!['32s', '16s', '8s'].includes(variant))
    throw new WgsegError('BAD_ATTRIBUTE', `fcn: variant "${variant}" is not 32s, 16s or 8s`);
  for (const [k, v] of Object.entries({
    classes,
    height,
    width,
    pad,
    ...(typeof batch === 'number' ? { batch } : {}),
  })) {
    if (!Number.isInteger(v) || v < (k === 'pad' ? 0 : 1))
      throw new WgsegError(
        'BAD_ATTRIBUTE',
        `fcn: ${k} must be a ${k === 'pad' ? 'non-negative' : 'positive'} integer, not ${v}`,
      );
  }
  const source = `fcn${variant}`;
  const b = new GraphBuilder(source);
  const c = fcnWidths(channelScale);
  const x = b.input('input', [batch, 3, height, width]);
  // each map's coordinates along H and W, tracked beside the graph for the crops
  type Map2 = { v: string; h: Coord; w: Coord };
  const data: Map2 = { v: x, h: { scale: 1, shift: 0, size: height }, w: { scale: 1, shift: 0, size: width } };
  const conv = (m: Map2, name: string, cin: number, cout: number, k: number, p = 0): Map2 => ({
    v: conv2d(b, name, m.v, cin, cout, k, { pad: p }),
    h: convCoord(m.h, k, 1, p),
    w: convCoord(m.w, k, 1, p),
  });
  const pool = (m: Map2): Map2 => ({
    v: maxPool(b, m.v, 2, 2, 0, true),
    h: convCoord(m.h, 2, 2, 0, true),
    w: convCoord(m.w, 2, 2, 0, true),
  });
  const reluM = (m: Map2): Map2 => ({ ...m, v: relu(b, m.v) });
  /** nn.ConvTranspose2d(n_class, n_class, k, stride=s, bias=False), bilinear until weights are loaded; declared now, applied later */
  const upscore = (name: string, k: number, s: number) => {
    const w = b.param(`${name}.weight`, [classes, classes, k, k], bilinearKernel(classes, k));
    return (m: Map2): Map2 => ({
      v: b.op('ConvTranspose', [m.v, w], { kernel_shape: [k, k], strides: [s, s] }),
      h: deconvCoord(m.h, k, s),
      w: deconvCoord(m.w, k, s),
    });
  };
  /** h[:, :, off:off + to.h, off:off + to.w] (pytorch-fcn crops both axes at one offset; so does Caffe's Crop axis=2) */
  const cropTo = (m: Map2, to: Map2, what: string): Map2 => {
    const top = cropOffset(m.h, to.h, `${source} ${what} (height)`),
      left = cropOffset(m.w, to.w, `${source} ${what} (width)`);
    return { v: crop(b, m.v, top, left, to.h.size, to.w.size), h: to.h, w: to.w };
  };
  const add = (p: Map2, q: Map2): Map2 => ({ ...p, v: b.op('Add', [p.v, q.v]) });

  // VGG16: conv{block}_{i} + relu, 2x2 ceil-mode max pool after each block
  const pools: Map2[] = [];
  let h = data,
    cin = 3;
  [2, 2, 3, 3, 3].forEach((n, blk) => {
    for (let i = 1; i <= n; i++) {
      h = reluM(conv(h, `conv${blk + 1}_${i}`, cin, c[blk], 3, blk === 0 && i === 1 ? pad : 1));
      cin = c[blk];
    }
    pools.push((h = pool(h)));
  });
  if (h.h.size < 7 || h.w.size < 7)
    throw new WgsegError(
      'BAD_SHAPE',
      `${source}: pool5 is ${h.h.size}x${h.w.size}, fc6 needs 7x7; use a larger input or conv1_1 padding`,
    );
  h = reluM(conv(h, 'fc6', c[4], c[5], 7)); // drop6: identity at inference
  h = reluM(conv(h, 'fc7', c[5], c[5], 1)); // drop7
  h = conv(h, 'score_fr', c[5], classes, 1);

  // score layers, then the upscore layers, in pytorch-fcn's module (= state_dict) order
  let out: Map2;
  if (variant === '32s') {
    out = cropTo(upscore('upscore', 64, 32)(h), data, 'upscore crop');
  } else if (variant === '16s') {
    const scorePool4 = conv(pools[3], 'score_pool4', c[3], classes, 1);
    const [upscore2, upscore16] = [upscore('upscore2', 4, 2), upscore('upscore16', 32, 16)];
    const up2 = upscore2(h); // 1/16
    h = add(up2, cropTo(scorePool4, up2, 'score_pool4 crop'));
    out = cropTo(upscore16(h), data, 'upscore16 crop');
  } else {
    const scorePool3 = conv(pools[2], 'score_pool3', c[2], classes, 1);
    const scorePool4 = conv(pools[3], 'score_pool4', c[3], classes, 1);
    const [upscore2, upscore8, upscorePool4] = [
      upscore('upscore2', 4, 2),
      upscore('upscore8', 16, 8),
      upscore('upscore_pool4', 4, 2),
    ];
    const up2 = upscore2(h); // 1/16
    h = add(up2, cropTo(scorePool4, up2, 'score_pool4 crop'));
    const upPool4 = upscorePool4(h); // 1/8
    h = add(upPool4, cropTo(scorePool3, upPool4, 'score_pool3 crop'));
    out = cropTo(upscore8(h), data, 'upscore8 crop');
  }
  b.output(out.v, 'logits');
  return new Model(b.build(), b.params);
}
