import type { GraphBuilder } from '../graph/builder';
import { batchNorm, conv2d, relu } from './layers';
import { convOut, type Feature } from './resnet';

/**
 * torchvision's MobileNetV3-Large `features` as deeplabv3_mobilenet_v3_large takes them:
 * `mobilenet_v3_large(width_mult, dilated=True)`, so the last stage (C4) is dilated by 2 instead of
 * strided (output stride 16). Names are torchvision's: `<prefix>.0.0.weight` (stem), inverted
 * residuals `<prefix>.<i>.block.<j>.{0,1}` (expand, depthwise, project; squeeze-excitation at
 * `block.<j>.fc1/fc2`), `<prefix>.16.0.weight` (last 1x1 conv). BatchNorm eps is 1e-3 as there.
 */

export interface MobileNetOptions {
  /** torchvision's width_mult (default 1): every channel count c becomes makeDivisible(c * widthMult) */
  widthMult?: number;
}

/** torchvision's _make_divisible: round to a multiple of 8, at least 8, never below 90% of v. */
export function makeDivisible(v: number, divisor = 8): number {
  const n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  return n < 0.9 * v ? n + divisor : n;
}

/** mobilenet_v3_large's inverted residual settings: input, kernel, expanded, output, SE, hardswish, stride, dilation (dilated=True). */
const LARGE: [number, number, number, number, boolean, boolean, number, number][] = [
  [16, 3, 16, 16, false, false, 1, 1],
  [16, 3, 64, 24, false, false, 2, 1],
  [24, 3, 72, 24, false, false, 1, 1],
  [24, 5, 72, 40, true, false, 2, 1],
  [40, 5, 120, 40, true, false, 1, 1],
  [40, 5, 120, 40, true, false, 1, 1],
  [40, 3, 240, 80, false, true, 2, 1],
  [80, 3, 200, 80, false, true, 1, 1],
  [80, 3, 184, 80, false, true, 1, 1],
  [80, 3, 184, 80, false, true, 1, 1],
  [80, 3, 480, 112, true, true, 1, 1],
  [112, 3, 672, 112, true, true, 1, 1],
  [112, 5, 672, 160, true, true, 2, 2],
  [160, 5, 960, 160, true, true, 1, 2],
  [160, 5, 960, 160, true, true, 1, 2],
];

/** Index in `features` of the last block at output stride 4 (DeepLab v3+'s low-level feature). */
export const LOW_LEVEL_INDEX = 3;

const hardswish = (b: GraphBuilder, x: string) => b.op('HardSwish', [x]);

/** Conv2dNormActivation: conv (no bias, padding (k-1)/2 * dilation) -> BN(eps 1e-3) -> activation. */
function convBnAct(
  b: GraphBuilder,
  p: string,
  f: Feature,
  cout: number,
  k: number,
  o: { stride?: number; dilation?: number; groups?: number; act?: 'relu' | 'hs' | 'none' },
  unused: Set<string>,
): Feature {
  const { stride = 1, dilation = 1, groups = 1, act = 'none' } = o,
    pad = ((k - 1) / 2) * dilation;
  let x = conv2d(b, `${p}.0`, f.x, f.c, cout, k, { stride, pad, dilation, groups, bias: false });
  x = batchNorm(b, `${p}.1`, x, cout, unused, 1e-3);
  if (act !== 'none') x = act === 'hs' ? hardswish(b, x) : relu(b, x);
  return { x, c: cout, h: convOut(f.h, k, stride, pad, dilation), w: convOut(f.w, k, stride, pad, dilation) };
}

/** SqueezeExcitation: x * hardsigmoid(fc2(relu(fc1(avgpool(x))))). */
function squeezeExcite(b: GraphBuilder, p: string, x: string, c: number, squeeze: number): string {
  let s = conv2d(b, `${p}.fc1`, b.op('GlobalAveragePool', [x]), c, squeeze, 1);
  s = conv2d(b, `${p}.fc2`, relu(b, s), squeeze, c, 1);
  return b.op('Mul', [x, b.op('HardSigmoid', [s], { alpha: 1 / 6, beta: 0.5 })]);
}

/** MobileNetV3-Large features of `input`: [features[3] (stride 4), features[16] (stride 16)]. */
export function mobilenetV3Large(
  b: GraphBuilder,
  prefix: string,
  input: Feature,
  o: MobileNetOptions,
  unused: Set<string>,
): Feature[] {
  const ch = (c: number) => makeDivisible(c * (o.widthMult ?? 1));
  let f = convBnAct(b, `${prefix}.0`, input, ch(16), 3, { stride: 2, act: 'hs' }, unused);
  let low = f;
  LARGE.forEach(([cin, k, exp, cout, se, hs, stride, dilation], i) => {
    const p = `${prefix}.${i + 1}.block`,
      act = hs ? 'hs' : 'relu',
      e = ch(exp);
    let y = f,
      j = 0;
    if (e !== ch(cin)) y = convBnAct(b, `${p}.${j++}`, y, e, 1, { act }, unused);
    y = convBnAct(b, `${p}.${j++}`, y, e, k, { stride: dilation > 1 ? 1 : stride, dilation, groups: e, act }, unused);
    if (se) y = { ...y, x: squeezeExcite(b, `${p}.${j++}`, y.x, e, makeDivisible(Math.floor(e / 4))) };
    y = convBnAct(b, `${p}.${j++}`, y, ch(cout), 1, {}, unused);
    f = stride === 1 && ch(cin) === ch(cout) ? { ...y, x: b.op('Add', [y.x, f.x]) } : y;
    if (i + 1 === LOW_LEVEL_INDEX) low = f;
  });
  f = convBnAct(b, `${prefix}.16`, f, 6 * ch(160), 1, { act: 'hs' }, unused);
  return [low, f];
}
