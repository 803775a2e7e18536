// f64 reference for ONNX Conv / ORT FusedConv (2-D, NCHW), written from the operator definitions.

import { unaryRef } from './elementwise';

export interface ConvRefInput {
  x: ArrayLike<number>;
  xShape: number[]; // [N, C, H, W]
  w: ArrayLike<number>;
  wShape: number[]; // [M, C/group, kH, kW]
  b?: ArrayLike<number>;
  z?: ArrayLike<number>; // FusedConv: added before the activation
  strides?: number[];
  dilations?: number[];
  group?: number;
  pads?: number[]; // [top, left, bottom, right]
  autoPad?: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  activation?: (v: number) => number;
}

/** Begin pad and output size along one axis, per the ONNX Conv auto_pad rules. */
export function convAxis(inp: number, k: number, s: number, d: number, pb: number, pe: number, autoPad: string) {
  const ek = (k - 1) * d + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const out = Math.ceil(inp / s);
    const total = Math.max(0, (out - 1) * s + ek - inp);
    return { out, pb: autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2) };
  }
  if (autoPad === 'VALID') return { out: Math.ceil((inp - ek + 1) / s), pb: 0 };
  return { out: Math.floor((inp + pb + pe - ek) / s) + 1, pb };
}

export function convRef(a: ConvRefInput): { data: Float64Array; shape: number[] } {
  const [N, C, H, W] = a.xShape;
  const [M, Cg, kH, kW] = a.wShape;
  const [sh, sw] = a.strides ?? [1, 1];
  const [dh, dw] = a.dilations ?? [1, 1];
  const [pt, pl, pb, pr] = a.pads ?? [0, 0, 0, 0];
  const group = a.group ?? 1;
  const ap = a.autoPad ?? 'NOTSET';
  const ah = convAxis(H, kH, sh, dh, pt, pb, ap);
  const aw = convAxis(W, kW, sw, dw, pl, pr, ap);
  const [OH, OW] = [ah.out, aw.out];
  const Mg = M / group;
  const y = new Float64Array(N * M * OH * OW);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = a.b ? a.b[m] : 0;
          for (let c = 0; c < Cg; c++)
            for (let i = 0; i < kH; i++)
              for (let j = 0; j < kW; j++) {
                const ih = oh * sh - ah.pb + i * dh;
                const iw = ow * sw - aw.pb + j * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += a.x[((n * C + g * Cg + c) * H + ih) * W + iw] * a.w[((m * Cg + c) * kH + i) * kW + j];
              }
          const o = ((n * M + m) * OH + oh) * OW + ow;
          if (a.z) s += a.z[o];
          y[o] = a.activation ? a.activation(s) : s;
        }
    }
  return { data: y, shape: [N, M, OH, OW] };
}

/** ORT FusedConv activations (attribute `activation`, `activation_params`). */
export function fusedActivation(name: string, p: number[] = []): (v: number) => number {
  switch (name) {
    case 'Relu':
      return (v) => Math.max(v, 0);
    case 'Clip':
      return (v) => Math.min(Math.max(v, p[0]), p[1]);
    case 'LeakyRelu':
      return (v) => (v >= 0 ? v : (p[0] ?? 0.01) * v);
    case 'Sigmoid':
      return (v) => 1 / (1 + Math.exp(-v));
    case 'HardSigmoid':
      return (v) => Math.max(0, Math.min(1, (p[0] ?? 0.2) * v + (p[1] ?? 0.5)));
    case 'HardSwish':
      return (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5));
    case 'Tanh':
      return (v) => Math.tanh(v);
    case 'Swish':
      return (v) => v / (1 + Math.exp(-v));
    case 'Gelu':
    case 'Mish':
      // wgseg's own fused activations (written-out GELU / Mish fused into the conv); Gelu p[0] = 1: tanh form
      return (v) => unaryRef[name](v, p[0] ?? 0, 0);
    default:
      throw new Error(`no reference for activation ${name}`);
  }
}
