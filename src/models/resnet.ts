import type { GraphBuilder } from '../graph/builder';
import { batchNorm, conv2d, maxPool, relu } from './layers';

/**
 * torchvision's ResNet (conv1, bn1, maxpool, layer1..layer4 of Bottleneck or BasicBlock) as a
 * feature extractor, with the stem width configurable (torchvision fixes 64) and
 * `replace_stride_with_dilation` for output stride 8 or 16. Parameter names are torchvision's
 * (`<prefix>.layer2.0.downsample.1.running_mean`...). BasicBlock with dilation, which torchvision
 * refuses, dilates both its 3x3 convs (tools/refs/deeplab.py defines the same module).
 */

export interface ResNetOptions {
  block?: 'bottleneck' | 'basic';
  /** blocks per stage (resnet50: [3, 4, 6, 3]) */
  layers?: [number, number, number, number];
  /** stem and layer1 width (torchvision: 64); stage i has width * 2^i planes */
  channels?: number;
  /** torchvision's replace_stride_with_dilation for layer2..layer4 */
  dilate?: [boolean, boolean, boolean];
}

/** A feature map: its value and NCHW sizes past the batch. */
export interface Feature {
  x: string;
  c: number;
  h: number;
  w: number;
}

/** Output size of a conv/pool along one axis (PyTorch's floor rule). */
export const convOut = (n: number, k: number, stride = 1, pad = 0, dilation = 1) =>
  Math.floor((n + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;

/** conv (no bias) + BatchNorm [+ ReLU], the ResNet unit; tracks the spatial size. */
function convBn(
  b: GraphBuilder,
  conv: string,
  bn: string,
  f: Feature,
  cout: number,
  k: number,
  stride: number,
  dilation: number,
  unused: Set<string>,
  act: boolean,
): Feature {
  const pad = k === 1 ? 0 : dilation * ((k - 1) / 2);
  let x = conv2d(b, conv, f.x, f.c, cout, k, { stride, pad, dilation, bias: false });
  x = batchNorm(b, bn, x, cout, unused);
  return {
    x: act ? relu(b, x) : x,
    c: cout,
    h: convOut(f.h, k, stride, pad, dilation),
    w: convOut(f.w, k, stride, pad, dilation),
  };
}

/** torchvision Bottleneck: 1x1 -> 3x3 (stride, dilation) -> 1x1 (4x planes), + identity or downsample. */
function bottleneck(
  b: GraphBuilder,
  p: string,
  f: Feature,
  planes: number,
  stride: number,
  dilation: number,
  down: boolean,
  unused: Set<string>,
): Feature {
  let y = convBn(b, `${p}.conv1`, `${p}.bn1`, f, planes, 1, 1, 1, unused, true);
  y = convBn(b, `${p}.conv2`, `${p}.bn2`, y, planes, 3, stride, dilation, unused, true);
  y = convBn(b, `${p}.conv3`, `${p}.bn3`, y, planes * 4, 1, 1, 1, unused, false);
  const idt = down
    ? convBn(b, `${p}.downsample.0`, `${p}.downsample.1`, f, planes * 4, 1, stride, 1, unused, false).x
    : f.x;
  return { ...y, x: relu(b, b.op('Add', [y.x, idt])) };
}

/** BasicBlock: 3x3 (stride, dilation) -> 3x3 (dilation), + identity or downsample. */
function basic(
  b: GraphBuilder,
  p: string,
  f: Feature,
  planes: number,
  stride: number,
  dilation: number,
  down: boolean,
  unused: Set<string>,
): Feature {
  let y = convBn(b, `${p}.conv1`, `${p}.bn1`, f, planes, 3, stride, dilation, unused, true);
  y = convBn(b, `${p}.conv2`, `${p}.bn2`, y, planes, 3, 1, dilation, unused, false);
  const idt = down
    ? convBn(b, `${p}.downsample.0`, `${p}.downsample.1`, f, planes, 1, stride, 1, unused, false).x
    : f.x;
  return { ...y, x: relu(b, b.op('Add', [y.x, idt])) };
}

/**
 * ResNet features of `input` (3 channels, h x w): the outputs of layer1..layer4 (layer1 is
 * DeepLab v3+'s low-level feature, layer4 the ASPP input).
 */
export function resnet(
  b: GraphBuilder,
  prefix: string,
  input: Feature,
  o: ResNetOptions,
  unused: Set<string>,
): Feature[] {
  const { block = 'bottleneck', layers = [3, 4, 6, 3], channels = 64, dilate = [false, false, false] } = o;
  const unit = block === 'bottleneck' ? bottleneck : basic,
    expansion = block === 'bottleneck' ? 4 : 1;
  let f = convBn(b, `${prefix}.conv1`, `${prefix}.bn1`, input, channels, 7, 2, 1, unused, true);
  f = { ...f, x: maxPool(b, f.x, 3, 2, 1), h: convOut(f.h, 3, 2, 1), w: convOut(f.w, 3, 2, 1) };
  const feats: Feature[] = [];
  let dilation = 1;
  for (let i = 0; i < 4; i++) {
    const planes = channels * 2 ** i,
      prev = dilation;
    let stride = i === 0 ? 1 : 2;
    if (i > 0 && dilate[i - 1]) (dilation *= stride), (stride = 1);
    for (let j = 0; j < layers[i]; j++) {
      const down = j === 0 && (stride !== 1 || f.c !== planes * expansion);
      f = unit(
        b,
        `${prefix}.layer${i + 1}.${j}`,
        f,
        planes,
        j === 0 ? stride : 1,
        j === 0 ? prev : dilation,
        down,
        unused,
      );
    }
    feats.push(f);
  }
  return feats;
}
