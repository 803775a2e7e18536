import { OnnxBuilder, is } from './onnx-build';
import { rng } from './random';

/**
 * A small U-Net (two levels: conv3x3 + ReLU pairs, MaxPool, ConvTranspose 2x2 s2 up, Concat skip,
 * 1x1 head; BatchNormalization already folded, as onnxruntime's quantizer preprocessing leaves it)
 * written three ways with the ONNX builder, laid out as onnxruntime's quantizers write them:
 *
 * - float: the model a quantizer starts from;
 * - static QDQ (quantize_static, QuantFormat.QDQ, per_channel, uint8 activations, int8 weights):
 *   every activation as QuantizeLinear -> DequantizeLinear with calibrated uint8 scale/zero point
 *   (range widened to hold 0), int8 weights with per-output-channel symmetric scales (zero point
 *   0) behind DequantizeLinear(axis 0), int32 biases with scale x_scale * w_scale, a ReLU after a
 *   conv dropped (its range is the conv output's quantization range, which starts at 0), MaxPool
 *   keeping its input's parameters;
 * - dynamic (quantize_dynamic, weight_type QInt8): each Conv as DynamicQuantizeLinear(x) ->
 *   ConvInteger(x_q, int8 W, x_zp) -> Cast(float) -> Mul(x_scale * w_scale) -> Add(B), the rest float.
 *
 * Input dims are symbolic (N, H, W: even sizes), so one file runs at several sizes.
 */

type Layer =
  | { kind: 'conv'; x: string; y: string; cin: number; cout: number; k: number; relu: boolean }
  | { kind: 'pool'; x: string; y: string }
  | { kind: 'up'; x: string; y: string; cin: number; cout: number }
  | { kind: 'cat'; xs: string[]; y: string };

const LAYERS: Layer[] = [
  { kind: 'conv', x: 'input', y: 'e1a', cin: 3, cout: 8, k: 3, relu: true },
  { kind: 'conv', x: 'e1a', y: 'e1', cin: 8, cout: 8, k: 3, relu: true },
  { kind: 'pool', x: 'e1', y: 'p1' },
  { kind: 'conv', x: 'p1', y: 'e2a', cin: 8, cout: 16, k: 3, relu: true },
  { kind: 'conv', x: 'e2a', y: 'e2', cin: 16, cout: 16, k: 3, relu: true },
  { kind: 'up', x: 'e2', y: 'u1', cin: 16, cout: 8 },
  { kind: 'cat', xs: ['u1', 'e1'], y: 'c1' },
  { kind: 'conv', x: 'c1', y: 'd1', cin: 16, cout: 8, k: 3, relu: true },
  { kind: 'conv', x: 'd1', y: 'logits', cin: 8, cout: 2, k: 1, relu: false },
];

export interface Weights {
  w: Map<string, number[]>;
  b: Map<string, number[]>;
}

export function weights(seed = 7): Weights {
  const r = rng(seed);
  const w = new Map<string, number[]>(),
    b = new Map<string, number[]>();
  for (const l of LAYERS) {
    if (l.kind !== 'conv' && l.kind !== 'up') continue;
    const n = l.kind === 'conv' ? l.cout * l.cin * l.k * l.k : l.cin * l.cout * 4;
    const fan = l.kind === 'conv' ? l.cin * l.k * l.k : l.cin;
    const std = Math.sqrt(2 / fan);
    w.set(l.y, Array.from(r.array(n, -std * 1.7, std * 1.7), Math.fround));
    b.set(l.y, Array.from(r.array(l.cout, -0.1, 0.1), Math.fround));
  }
  return { w, b };
}

const input = (b: OnnxBuilder) => b.input('input', ['N', 3, 'H', 'W']);
const convAttrs = (k: number) => ({ kernel_shape: is([k, k]), pads: is(new Array(4).fill((k - 1) / 2)) });
const upAttrs = { kernel_shape: is([2, 2]), strides: is([2, 2]) };

/** A pooling, upsampling or concat layer as the float model and the dynamic quantizer both write it. */
function floatLayer(b: OnnxBuilder, l: Exclude<Layer, { kind: 'conv' }>, ws: Weights): void {
  if (l.kind === 'pool') b.node('MaxPool', [l.x], { kernel_shape: is([2, 2]), strides: is([2, 2]) }, { output: l.y });
  else if (l.kind === 'up') {
    b.init(`${l.y}.w`, ws.w.get(l.y)!, [l.cin, l.cout, 2, 2]);
    b.init(`${l.y}.b`, ws.b.get(l.y)!, [l.cout]);
    b.node('ConvTranspose', [l.x, `${l.y}.w`, `${l.y}.b`], upAttrs, { output: l.y });
  } else b.node('Concat', l.xs, { axis: 1 }, { output: l.y });
}

/** The float model; `probe` also makes every layer output a graph output (for calibration). */
export function floatNet(ws: Weights, probe = false): Uint8Array {
  const b = new OnnxBuilder({ opset: 13, name: 'unet_float' });
  input(b);
  for (const l of LAYERS) {
    if (l.kind === 'conv') {
      b.init(`${l.y}.w`, ws.w.get(l.y)!, [l.cout, l.cin, l.k, l.k]);
      b.init(`${l.y}.b`, ws.b.get(l.y)!, [l.cout]);
      const c = b.node('Conv', [l.x, `${l.y}.w`, `${l.y}.b`], convAttrs(l.k), { output: l.relu ? `${l.y}.pre` : l.y });
      if (l.relu) b.node('Relu', [c], {}, { output: l.y });
    } else floatLayer(b, l, ws);
  }
  b.output('logits');
  if (probe) for (const l of LAYERS) if (l.y !== 'logits') b.output(l.y);
  return b.bytes();
}

/** uint8 activation parameters from a calibrated range, as onnxruntime's compute_scale_zp (range widened to hold 0). */
export function actParams(lo: number, hi: number): { scale: number; zp: number } {
  const mn = Math.min(lo, 0),
    mx = Math.max(hi, 0);
  const scale = Math.fround((mx - mn) / 255) || 1;
  return { scale, zp: Math.round(-mn / scale) };
}

/** int8 symmetric per-channel weights: w viewed as [axisOuter, channels, stride], scale max|w| / 127 per channel. */
function quantWeights(w: number[], channels: number, stride: number, axisOuter: number) {
  const scales = new Array<number>(channels).fill(0);
  const at = (o: number, ch: number, r: number) => (o * channels + ch) * stride + r;
  for (let o = 0; o < axisOuter; o++)
    for (let ch = 0; ch < channels; ch++)
      for (let r = 0; r < stride; r++) scales[ch] = Math.max(scales[ch], Math.abs(w[at(o, ch, r)]));
  const s = scales.map((m) => Math.fround(m / 127) || 1);
  const q = new Array<number>(w.length);
  for (let o = 0; o < axisOuter; o++)
    for (let ch = 0; ch < channels; ch++)
      for (let r = 0; r < stride; r++)
        q[at(o, ch, r)] = Math.max(-127, Math.min(127, Math.round(w[at(o, ch, r)] / s[ch])));
  return { q, s };
}

/** Static QDQ model from calibrated ranges (layer output name -> [min, max]; 'input' included). */
export function qdqNet(ws: Weights, ranges: Map<string, [number, number]>): Uint8Array {
  const b = new OnnxBuilder({ opset: 13, name: 'unet_qdq' });
  input(b);
  const params = new Map<string, { scale: number; zp: number }>();
  /** t (float) -> Q -> DQ with params p; returns the dequantized name */
  const qdq = (t: string, p: { scale: number; zp: number }) => {
    params.set(t, p);
    b.init(`${t}.s`, [p.scale], []);
    b.init(`${t}.z`, [p.zp], [], 'uint8');
    b.node('QuantizeLinear', [t, `${t}.s`, `${t}.z`], {}, { output: `${t}.q` });
    return b.node('DequantizeLinear', [`${t}.q`, `${t}.s`, `${t}.z`], {}, { output: `${t}.dq` });
  };
  const range = (t: string) => {
    const r = ranges.get(t)!;
    return actParams(r[0], r[1]);
  };
  qdq('input', range('input'));
  for (const l of LAYERS) {
    if (l.kind === 'conv' || l.kind === 'up') {
      const conv = l.kind === 'conv';
      const w = ws.w.get(l.y)!;
      const k = conv ? l.k : 2;
      // conv W [cout, cin, k, k]: channels on axis 0; conv transpose W [cin, cout, 2, 2]: axis 1
      const { q, s } = conv ? quantWeights(w, l.cout, l.cin * k * k, 1) : quantWeights(w, l.cout, 4, l.cin);
      b.init(`${l.y}.wq`, q, conv ? [l.cout, l.cin, k, k] : [l.cin, l.cout, 2, 2], 'int8');
      b.init(`${l.y}.ws`, s, [l.cout]);
      b.init(`${l.y}.wz`, new Array(l.cout).fill(0), [l.cout], 'int8');
      b.node(
        'DequantizeLinear',
        [`${l.y}.wq`, `${l.y}.ws`, `${l.y}.wz`],
        { axis: conv ? 0 : 1 },
        { output: `${l.y}.wdq` },
      );
      const xs = params.get(l.x)!.scale;
      const bs = s.map((v) => Math.fround(xs * v));
      b.init(
        `${l.y}.bq`,
        ws.b.get(l.y)!.map((v, m) => Math.round(v / bs[m])),
        [l.cout],
        'int32',
      );
      b.init(`${l.y}.bs`, bs, [l.cout]);
      b.init(`${l.y}.bz`, new Array(l.cout).fill(0), [l.cout], 'int32');
      b.node('DequantizeLinear', [`${l.y}.bq`, `${l.y}.bs`, `${l.y}.bz`], { axis: 0 }, { output: `${l.y}.bdq` });
      b.node(
        conv ? 'Conv' : 'ConvTranspose',
        [`${l.x}.dq`, `${l.y}.wdq`, `${l.y}.bdq`],
        conv ? convAttrs(k) : upAttrs,
        {
          output: l.y,
        },
      );
      qdq(l.y, range(l.y));
    } else if (l.kind === 'pool') {
      b.node('MaxPool', [`${l.x}.dq`], { kernel_shape: is([2, 2]), strides: is([2, 2]) }, { output: l.y });
      qdq(l.y, params.get(l.x)!);
    } else {
      b.node(
        'Concat',
        l.xs.map((x) => `${x}.dq`),
        { axis: 1 },
        { output: l.y },
      );
      qdq(l.y, range(l.y));
    }
  }
  b.node('Identity', ['logits.dq'], {}, { output: 'out' });
  b.output('out');
  return b.bytes();
}

/** Dynamic model: every Conv through DynamicQuantizeLinear + ConvInteger (per-tensor int8 W), the rest float. */
export function dynamicNet(ws: Weights): Uint8Array {
  const b = new OnnxBuilder({ opset: 13, name: 'unet_dynamic' });
  input(b);
  for (const l of LAYERS) {
    if (l.kind === 'conv') {
      const w = ws.w.get(l.y)!;
      const s = Math.fround(Math.max(...w.map(Math.abs)) / 127);
      b.init(
        `${l.y}.wq`,
        w.map((v) => Math.round(v / s)),
        [l.cout, l.cin, l.k, l.k],
        'int8',
      );
      b.init(`${l.y}.ws`, [s], []);
      b.init(`${l.y}.wz`, [0], [], 'int8');
      // the bias reshaped to broadcast over NCHW, as the dynamic quantizer writes it
      b.init(`${l.y}.b`, ws.b.get(l.y)!, [1, l.cout, 1, 1]);
      const [xq, xs, xz] = b.node(
        'DynamicQuantizeLinear',
        [l.x],
        {},
        { outputs: [`${l.y}.xq`, `${l.y}.xs`, `${l.y}.xz`] },
      );
      const acc = b.node('ConvInteger', [xq, `${l.y}.wq`, xz, `${l.y}.wz`], convAttrs(l.k), { output: `${l.y}.acc` });
      const f = b.node('Cast', [acc], { to: 1 }, { output: `${l.y}.accf` });
      const scale = b.node('Mul', [xs, `${l.y}.ws`], {}, { output: `${l.y}.scale` });
      const y = b.node(
        'Add',
        [b.node('Mul', [f, scale], {}, { output: `${l.y}.mul` }), `${l.y}.b`],
        {},
        {
          output: l.relu ? `${l.y}.pre` : l.y,
        },
      );
      if (l.relu) b.node('Relu', [y], {}, { output: l.y });
    } else floatLayer(b, l, ws);
  }
  b.output('logits');
  return b.bytes();
}

/** The layer outputs calibrated (every layer's, and the input). */
export const CALIBRATED = ['input', ...LAYERS.map((l) => l.y)];
