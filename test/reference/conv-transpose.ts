// f64 reference for ONNX ConvTranspose (2-D), written from the operator definition: every input
// pixel scatters x * W into the output window it covers; pads crop the full result.
import { unaryRef } from './elementwise';

export interface ConvTransposeRefArgs {
  x: ArrayLike<number>;
  xShape: number[]; // N, C, H, W
  w: ArrayLike<number>;
  wShape: number[]; // C, M/group, kH, kW
  b?: ArrayLike<number>;
  strides?: number[];
  pads?: number[]; // [top, left, bottom, right]
  dilations?: number[];
  outputPadding?: number[];
  outputShape?: number[]; // spatial [OH, OW]
  autoPad?: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  group?: number;
  activation?: string;
  activationParams?: [number, number];
}

/** Pads (begin h, begin w, end h, end w) and output size per the ONNX ConvTranspose spec. */
export function convTransposeGeometry(a: ConvTransposeRefArgs): { pads: number[]; out: number[] } {
  const [, , H, W] = a.xShape;
  const k = [a.wShape[2], a.wShape[3]];
  const s = a.strides ?? [1, 1],
    d = a.dilations ?? [1, 1],
    op = a.outputPadding ?? [0, 0];
  const inp = [H, W];
  const full = [0, 1].map((i) => s[i] * (inp[i] - 1) + op[i] + (k[i] - 1) * d[i] + 1);
  const autoPad = a.autoPad ?? 'NOTSET';
  let target = a.outputShape;
  if (!target && (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')) target = [0, 1].map((i) => inp[i] * s[i]);
  if (target) {
    const total = [0, 1].map((i) => full[i] - target![i]);
    const half = total.map((t) => Math.floor(t / 2));
    const begin = autoPad === 'SAME_UPPER' ? half : total.map((t, i) => t - half[i]);
    const end = autoPad === 'SAME_UPPER' ? total.map((t, i) => t - half[i]) : half;
    return { pads: [...begin, ...end], out: [...target] };
  }
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : (a.pads ?? [0, 0, 0, 0]);
  return { pads, out: [0, 1].map((i) => full[i] - pads[i] - pads[i + 2]) };
}

export function convTransposeRef(a: ConvTransposeRefArgs): { data: Float64Array; shape: number[] } {
  const [N, C, H, W] = a.xShape;
  const [, Mg, kH, kW] = a.wShape;
  const group = a.group ?? 1;
  const Cg = C / group,
    M = Mg * group;
  const s = a.strides ?? [1, 1],
    d = a.dilations ?? [1, 1];
  const {
    pads,
    out: [OH, OW],
  } = convTransposeGeometry(a);
  const y = new Float64Array(N * M * OH * OW);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) y.fill(a.b ? a.b[m] : 0, (n * M + m) * OH * OW, (n * M + m + 1) * OH * OW);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const xv = a.x[((n * C + c) * H + ih) * W + iw];
          for (let mg = 0; mg < Mg; mg++) {
            const m = g * Mg + mg;
            for (let kh = 0; kh < kH; kh++) {
              const oh = ih * s[0] + kh * d[0] - pads[0];
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < kW; kw++) {
                const ow = iw * s[1] + kw * d[1] - pads[1];
                if (ow < 0 || ow >= OW) continue;
                y[((n * M + m) * OH + oh) * OW + ow] += xv * a.w[((c * Mg + mg) * kH + kh) * kW + kw];
              }
            }
          }
        }
    }
  if (a.activation) {
    const f = unaryRef[a.activation];
    const [p, q] = a.activationParams ?? [0, 0];
    for (let i = 0; i < y.length; i++) y[i] = f(y[i], p, q);
  }
  return { data: y, shape: [N, M, OH, OW] };
}
