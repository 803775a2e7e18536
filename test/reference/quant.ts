/**
 * f64 references for the quantization ops, written from the ONNX operator definitions: linear
 * quantization y = saturate(round(x / scale) + zero_point) with round half to even; integer
 * convolution and matmul as exact integer sums of (x - x_zp) * (w - w_zp) (int32 accumulation:
 * the sums here stay far inside int32); QLinear requantization round((acc + bias) * multiplier)
 * + y_zp saturated. Where ONNX leaves float arithmetic to the implementation (x / scale, the
 * multiplier x_scale * w_scale / y_scale), the f32 arithmetic of onnxruntime is modelled with
 * Math.fround, so that a tie is the same tie.
 */

export const RANGE = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  int32: [-(2 ** 31), 2 ** 31 - 1],
} as const;
export type QType = keyof typeof RANGE;

/** Round half to even. */
export function rint(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

const sat = (v: number, t: QType) => Math.min(RANGE[t][1], Math.max(RANGE[t][0], v));

/**
 * Which scale element x's element i uses: per tensor (scale.length 1, no block), per axis (1-D along
 * `axis`), blocked (block > 0: x's shape with ceil(D / block) along `axis`).
 */
export function scaleIndexRef(shape: number[], scaleLen: number, axis: number, block: number): (i: number) => number {
  if (scaleLen === 1 && !block) return () => 0;
  const a = axis < 0 ? axis + shape.length : axis;
  const D = shape[a],
    inner = shape.slice(a + 1).reduce((p, q) => p * q, 1);
  const nb = block ? Math.ceil(D / block) : D;
  return (i) => {
    const r = i % inner,
      d = Math.floor(i / inner) % D,
      o = Math.floor(i / (inner * D));
    if (!block) return d;
    return (o * nb + Math.floor(d / block)) * inner + r;
  };
}

export function quantizeRef(
  x: ArrayLike<number>,
  shape: number[],
  scale: ArrayLike<number>,
  zp: ArrayLike<number> | undefined,
  type: QType,
  axis = 1,
  block = 0,
): number[] {
  const at = scaleIndexRef(shape, scale.length, axis, block);
  return Array.from(x, (v, i) => sat(rint(Math.fround(v / scale[at(i)])) + (zp?.[at(i)] ?? 0), type));
}

export function dequantizeRef(
  x: ArrayLike<number>,
  shape: number[],
  scale: ArrayLike<number>,
  zp: ArrayLike<number> | undefined,
  axis = 1,
  block = 0,
): number[] {
  const at = scaleIndexRef(shape, scale.length, axis, block);
  return Array.from(x, (v, i) => Math.fround((v - (zp?.[at(i)] ?? 0)) * scale[at(i)]));
}

/** ONNX DynamicQuantizeLinear (uint8): the range widened to hold 0, 255 steps; onnxruntime's scale 1 for all-zero x. */
export function dynamicQuantizeRef(x: ArrayLike<number>): { y: number[]; scale: number; zp: number } {
  const lo = Math.min(0, ...Array.from(x)),
    hi = Math.max(0, ...Array.from(x));
  const scale = hi === lo ? 1 : Math.fround((hi - lo) / 255);
  const zp = rint(sat(Math.fround(0 - lo / scale), 'uint8'));
  return { y: Array.from(x, (v) => sat(rint(Math.fround(v / scale)) + zp, 'uint8')), scale, zp };
}

export interface ConvIntOpts {
  pads?: number[];
  strides?: number[];
  dilations?: number[];
  group?: number;
}

/** ConvInteger: NCHW x, [M, C/group, kH, kW] w; zero-point padding (padded taps add nothing). */
export function convIntegerRef(
  x: ArrayLike<number>,
  [N, C, H, W]: number[],
  w: ArrayLike<number>,
  [M, Cg, kH, kW]: number[],
  xz: number,
  wz: ArrayLike<number>,
  o: ConvIntOpts = {},
): { data: number[]; shape: number[] } {
  const [pt, pl, pb, pr] = o.pads ?? [0, 0, 0, 0];
  const [sh, sw] = o.strides ?? [1, 1];
  const [dh, dw] = o.dilations ?? [1, 1];
  const group = o.group ?? 1;
  const OH = Math.floor((H + pt + pb - (kH - 1) * dh - 1) / sh) + 1;
  const OW = Math.floor((W + pl + pr - (kW - 1) * dw - 1) / sw) + 1;
  const Mg = M / group;
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          const g = Math.floor(m / Mg);
          const z = wz.length === 1 ? wz[0] : wz[m];
          for (let c = 0; c < Cg; c++)
            for (let ky = 0; ky < kH; ky++)
              for (let kx = 0; kx < kW; kx++) {
                const iy = oy * sh - pt + ky * dh,
                  ix = ox * sw - pl + kx * dw;
                if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
                const xv = x[((n * C + g * Cg + c) * H + iy) * W + ix];
                acc += (xv - xz) * (w[((m * Cg + c) * kH + ky) * kW + kx] - z);
              }
          out.push(acc);
        }
  return { data: out, shape: [N, M, OH, OW] };
}

/** MatMulInteger of A [B?, M, K] and B [B?, K, N] (a batch of 1 is shared); zero points scalar, per row of A, per column of B. */
export function matmulIntegerRef(
  a: ArrayLike<number>,
  [ba, M, K]: number[],
  b: ArrayLike<number>,
  [bb, , N]: number[],
  az: ArrayLike<number>,
  bz: ArrayLike<number>,
): number[] {
  const out: number[] = [];
  for (let t = 0; t < Math.max(ba, bb); t++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++)
          acc +=
            (a[((ba > 1 ? t : 0) * M + m) * K + k] - (az.length === 1 ? az[0] : az[m])) *
            (b[((bb > 1 ? t : 0) * K + k) * N + n] - (bz.length === 1 ? bz[0] : bz[n]));
        out.push(acc);
      }
  return out;
}

/** QLinear* requantization of int32 sums: multiplier x_scale * w_scale / y_scale in f32 (per channel `ch(i)`). */
export function requantRef(
  acc: number[],
  ch: (i: number) => number,
  xs: number,
  ws: ArrayLike<number>,
  ys: number,
  yz: number,
  type: QType,
  bias?: ArrayLike<number>,
): number[] {
  return acc.map((v, i) => {
    const c = ch(i);
    const mult = Math.fround(Math.fround(xs * ws[ws.length === 1 ? 0 : c]) / ys);
    return sat(rint(Math.fround((v + (bias?.[c] ?? 0)) * mult)) + yz, type);
  });
}
