import { GraphBuilder } from '../graph/builder';
import type { Dim } from '../graph/ir';
import { WgsegError } from '../core/errors';
import { batchNorm, conv2d, relu } from './layers';
import { mobilenetV3Large, type MobileNetOptions } from './mobilenet';
import { Model } from './model';
import { resnet, type Feature, type ResNetOptions } from './resnet';

/**
 * DeepLab v3 (Chen et al. 2017) and v3+ (Chen et al. 2018) on a ResNet or MobileNetV3-Large backbone.
 *
 * v3 is torchvision's `deeplabv3_resnet50(aux_loss=None)` (or `deeplabv3_mobilenet_v3_large`) with
 * its sizes made options; parameter names are torchvision's (`backbone.layer1.0.conv1.weight`,
 * `classifier.0.convs.1.0.weight`, `classifier.4.bias`...), so its state_dict loads as it is. v3+ (no torchvision version) uses the
 * names of DeepLabV3Plus in tools/refs/deeplab.py: `backbone.*`, `aspp.*` (torchvision's ASPP),
 * `decoder.reduce.{0,1}`, `decoder.fuse.{0,1,3,4}`, `decoder.classifier`.
 *
 * Graph input `input` [batch, 3, height, width]; output `out`, logits [batch, classes, height, width].
 */

export interface DeepLabOptions {
  /** input size (the bilinear resizes need it) */
  height: number;
  width: number;
  /** batch size, or a symbolic name bound on the first run (default 1) */
  batch?: Dim;
  /** default 21 (Pascal VOC), as torchvision */
  classes?: number;
  /** ResNet (default resnet50: bottleneck, [3, 4, 6, 3], 64 channels) or MobileNetV3-Large (output stride 16 only) */
  backbone?:
    | ({ kind?: 'resnet' } & Omit<ResNetOptions, 'dilate'>)
    | ({ kind: 'mobilenet_v3_large' } & MobileNetOptions);
  /** ResNet: 8 (layer3 and layer4 dilated; torchvision's v3) or 16 (layer4 dilated; default for v3+) */
  outputStride?: 8 | 16;
  /** ASPP atrous rates (default 12/24/36 at output stride 8, 6/12/18 at 16; v3 on MobileNet 12/24/36 as torchvision) */
  rates?: [number, number, number];
  /** ASPP and head channels (default 256) */
  asppChannels?: number;
  /** v3+: low-level features reduced to this many channels (default 48) */
  lowLevelChannels?: number;
  /** v3+: decoder 3x3 conv channels (default 256) */
  decoderChannels?: number;
}

/** F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False) on the two trailing axes (any batch). */
function resizeTo(b: GraphBuilder, x: string, h: number, w: number): string {
  return b.op('Resize', [x, '', '', b.ints([h, w], 'sizes')], {
    mode: 'linear',
    coordinate_transformation_mode: 'half_pixel',
    axes: [2, 3],
  });
}

/** Conv (no bias) -> BatchNorm -> ReLU, named `<p>.<i>` and `<p>.<i+1>` as in an nn.Sequential. */
function convBnRelu(
  b: GraphBuilder,
  p: string,
  i: number,
  x: string,
  cin: number,
  cout: number,
  k: number,
  dilation: number,
  unused: Set<string>,
): string {
  const y = conv2d(b, `${p}.${i}`, x, cin, cout, k, { pad: k === 1 ? 0 : dilation, dilation, bias: false });
  return relu(b, batchNorm(b, `${p}.${i + 1}`, y, cout, unused));
}

/**
 * torchvision's ASPP: 1x1 conv, three 3x3 atrous convs, image pooling (global average -> 1x1 conv
 * -> BN -> ReLU -> bilinear back to the map size), concatenated and projected by 1x1 conv + BN +
 * ReLU (its Dropout is the identity in eval).
 */
function aspp(b: GraphBuilder, p: string, f: Feature, rates: number[], ch: number, unused: Set<string>): Feature {
  const branches = [convBnRelu(b, `${p}.convs.0`, 0, f.x, f.c, ch, 1, 1, unused)];
  rates.forEach((r, i) => branches.push(convBnRelu(b, `${p}.convs.${i + 1}`, 0, f.x, f.c, ch, 3, r, unused)));
  const pooled = convBnRelu(
    b,
    `${p}.convs.${rates.length + 1}`,
    1,
    b.op('GlobalAveragePool', [f.x]),
    f.c,
    ch,
    1,
    1,
    unused,
  );
  branches.push(resizeTo(b, pooled, f.h, f.w));
  const cat = b.op('Concat', branches, { axis: 1 });
  return { x: convBnRelu(b, `${p}.project`, 0, cat, branches.length * ch, ch, 1, 1, unused), c: ch, h: f.h, w: f.w };
}

function setup(o: DeepLabOptions, variant: 'v3' | 'v3+') {
  const bb = o.backbone ?? {},
    mobile = bb.kind === 'mobilenet_v3_large';
  const os = o.outputStride ?? (variant === 'v3' && !mobile ? 8 : 16);
  if (os !== 8 && os !== 16)
    throw new WgsegError('BAD_ATTRIBUTE', `deeplab ${variant}: outputStride must be 8 or 16, got ${os}`);
  if (mobile && os !== 16)
    throw new WgsegError(
      'BAD_ATTRIBUTE',
      `deeplab ${variant}: the MobileNetV3 backbone has output stride 16 only, got ${os}`,
    );
  if (!(o.height > 0 && o.width > 0 && Number.isInteger(o.height) && Number.isInteger(o.width))) {
    throw new WgsegError(
      'BAD_SHAPE',
      `deeplab ${variant}: height and width must be positive integers, got ${o.height}x${o.width}`,
    );
  }
  const b = new GraphBuilder(`deeplab${variant === 'v3' ? 'v3' : 'v3plus'}`);
  const unused = new Set<string>();
  const input: Feature = { x: b.input('input', [o.batch ?? 1, 3, o.height, o.width]), c: 3, h: o.height, w: o.width };
  const feats =
    bb.kind === 'mobilenet_v3_large'
      ? mobilenetV3Large(b, 'backbone', input, bb, unused)
      : resnet(b, 'backbone', input, { ...bb, dilate: [false, os === 8, true] }, unused).filter(
          (_, i) => i === 0 || i === 3,
        );
  const rates = o.rates ?? (os === 8 || (mobile && variant === 'v3') ? [12, 24, 36] : [6, 12, 18]);
  return { b, unused, feats, rates, ch: o.asppChannels ?? 256, classes: o.classes ?? 21 };
}

/** DeepLab v3: ResNet -> ASPP -> 3x3 conv + BN + ReLU -> 1x1 conv -> bilinear to the input size. */
export function deeplabV3(o: DeepLabOptions): Model {
  const { b, unused, feats, rates, ch, classes } = setup(o, 'v3');
  const a = aspp(b, 'classifier.0', feats[1], rates, ch, unused);
  let x = conv2d(b, 'classifier.1', a.x, ch, ch, 3, { pad: 1, bias: false });
  x = relu(b, batchNorm(b, 'classifier.2', x, ch, unused));
  x = conv2d(b, 'classifier.4', x, ch, classes, 1);
  b.output(resizeTo(b, x, o.height, o.width), 'out');
  return new Model(b.build(), b.params, unused);
}

/**
 * DeepLab v3+: backbone -> ASPP; decoder: the stride-4 features (ResNet layer1, MobileNet features[3]) reduced by 1x1 conv + BN + ReLU, the ASPP
 * output bilinearly upsampled to their size (4x at output stride 16), concatenated, two 3x3 conv +
 * BN + ReLU, 1x1 classifier, bilinear to the input size.
 */
export function deeplabV3Plus(o: DeepLabOptions): Model {
  const { b, unused, feats, rates, ch, classes } = setup(o, 'v3+');
  const a = aspp(b, 'aspp', feats[1], rates, ch, unused);
  const low = feats[0],
    red = o.lowLevelChannels ?? 48,
    dec = o.decoderChannels ?? 256;
  const reduced = convBnRelu(b, 'decoder.reduce', 0, low.x, low.c, red, 1, 1, unused);
  let x = b.op('Concat', [resizeTo(b, a.x, low.h, low.w), reduced], { axis: 1 });
  x = convBnRelu(b, 'decoder.fuse', 0, x, ch + red, dec, 3, 1, unused);
  x = convBnRelu(b, 'decoder.fuse', 3, x, dec, dec, 3, 1, unused);
  x = conv2d(b, 'decoder.classifier', x, dec, classes, 1);
  b.output(resizeTo(b, x, o.height, o.width), 'out');
  return new Model(b.build(), b.params, unused);
}
