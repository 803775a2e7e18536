import { WgsegError } from '../core/errors';
import { GraphBuilder } from '../graph/builder';
import { conv2d, linear, relu } from './layers';
import { Model } from './model';
import { resnet, type ResNetOptions } from './resnet';

/**
 * Spatial Regularization Network (Zhu et al., CVPR 2017) for multi-label classification. The
 * PyTorch module is tools/refs/srn.py, whose state_dict names these parameters exactly:
 * - `resnet.*`: the trunk, torchvision's ResNet names (conv1, bn1, layer1..4, fc); `resnet.fc`
 *   on the pooled layer4 is the main classifier (y_cls). At width 64 / BasicBlock [2,2,2,2] the
 *   `resnet.*` names are torchvision resnet18(num_classes=L)'s.
 * - on the layer3 ("res4") features X: `attention.{0,2,4}` (1x1, ReLU, 3x3, ReLU, 1x1 to L maps,
 *   softmax over space per label = A) and `confidence` (1x1 to L maps S);
 * - `spatial.{0,2,4}` on U = sigmoid(S) * A: 1x1, ReLU, 1x1, ReLU, a grouped conv (one group per
 *   channel, 4 outputs each) whose kernel covers the whole map (14x14 at 224x224), ReLU;
 *   `fc_sr` to L scores y_sr.
 * Outputs `scores` = alpha * y_cls + (1 - alpha) * y_sr (the paper's fusion, alpha 0.5; logits,
 * apply a sigmoid for label probabilities) and `attention` A [N, L, h, w].
 */
export interface SrnOptions {
  /** number of labels L (default 20, as PASCAL VOC) */
  classes?: number;
  /** trunk: block and stage depths (default BasicBlock [2,2,2,2] = resnet18) and stem width (default 64) */
  block?: ResNetOptions['block'];
  layers?: ResNetOptions['layers'];
  width?: number;
  /** input size (default 224x224); the regularisation conv's kernel is layer3's map size */
  inputHeight?: number;
  inputWidth?: number;
  /** channels of the attention convs and of the spatial regularisation convs (default 512 each) */
  attentionChannels?: number;
  srChannels?: number;
  /** weight of the main classifier's scores in the fusion (default 0.5) */
  alpha?: number;
  /** batch size (default: symbolic, bound on the first run) */
  batch?: number;
}

/** Spatial size of layer3's output (stride 16): conv7/2 pad 3, maxpool 3/2 pad 1, two stride-2 stages. */
export const layer3Size = (n: number) => [0, 0, 0, 0].reduce((s) => Math.floor((s - 1) / 2) + 1, n);

export function srn(o: SrnOptions = {}): Model {
  const {
    classes: L = 20,
    block = 'basic',
    layers = [2, 2, 2, 2],
    width = 64,
    inputHeight = 224,
    inputWidth = 224,
  } = o;
  const { attentionChannels: att = 512, srChannels: sr = 512, alpha = 0.5 } = o;
  const h = layer3Size(inputHeight),
    w = layer3Size(inputWidth);
  if (!(L >= 1)) throw new WgsegError('BAD_ATTRIBUTE', `srn: classes must be at least 1, got ${L}`);
  const b = new GraphBuilder('srn');
  const unused = new Set<string>();
  const x = b.input('input', [o.batch ?? 'batch', 3, inputHeight, inputWidth]);

  // trunk and main classifier: y_cls = fc(avgpool(layer4))
  const [, , f3, f4] = resnet(
    b,
    'resnet',
    { x, c: 3, h: inputHeight, w: inputWidth },
    { block, layers, channels: width },
    unused,
  );
  if (f3.h !== h || f3.w !== w) throw new WgsegError('BAD_SHAPE', `srn: layer3 is ${f3.h}x${f3.w}, expected ${h}x${w}`);
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [f4.x])], { axis: 1 });
  const yCls = linear(b, 'resnet.fc', pooled, f4.c, L);

  // attention maps A: f_att, then softmax over the h*w positions of each label's map
  let a = relu(b, conv2d(b, 'attention.0', f3.x, f3.c, att, 1));
  a = relu(b, conv2d(b, 'attention.2', a, att, att, 3, { pad: 1 }));
  a = conv2d(b, 'attention.4', a, att, L, 1);
  const A = b.op('Reshape', [
    b.op('Softmax', [b.op('Reshape', [a, b.ints([0, L, h * w])])], { axis: -1 }),
    b.ints([0, L, h, w]),
  ]);

  // confidence maps S; attention-weighted confidences U = sigmoid(S) * A
  const S = conv2d(b, 'confidence', f3.x, f3.c, L, 1);
  const U = b.op('Mul', [b.op('Sigmoid', [S]), A]);

  // spatial regularisation f_sr: 1x1, 1x1, grouped conv over the whole map (-> 1x1), fc_sr
  let r = relu(b, conv2d(b, 'spatial.0', U, L, sr, 1));
  r = relu(b, conv2d(b, 'spatial.2', r, sr, sr, 1));
  const wg = b.param('spatial.4.weight', [4 * sr, 1, h, w]),
    bg = b.param('spatial.4.bias', [4 * sr]);
  r = relu(b, b.op('Conv', [r, wg, bg], { kernel_shape: [h, w], group: sr }));
  const ySr = linear(b, 'fc_sr', b.op('Flatten', [r], { axis: 1 }), 4 * sr, L);

  // fusion: alpha * y_cls + (1 - alpha) * y_sr
  const scale = (v: string, s: number) => b.op('Mul', [v, b.constant([s], [1], 'float32', 'alpha')]);
  b.output(b.op('Add', [scale(yCls, alpha), scale(ySr, 1 - alpha)]), 'scores');
  b.output(A, 'attention');
  return new Model(b.build(), b.params, unused);
}
