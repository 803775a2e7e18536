import { intAttr, type Attrs } from '../core/attrs';
import { numel, onnxElemType, type ElemType } from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { GpuTensor, HostValues, KernelContext, OpKernel, Packed, TensorInfo } from '../core/op';
import { broadcastPlan, broadcastShapes, vec8 } from './broadcast';
import { linearGrid } from './dispatch';
import { arg, make } from './host-eval';
import { input } from './layout';

/**
 * Linear quantization, as ONNX defines it (QuantizeLinear 10-25, DequantizeLinear 10-25,
 * DynamicQuantizeLinear 11): per tensor, per axis (13+) and blocked (21+, `block_size`), int8,
 * uint8, int16, uint16 and int32 values, round half to even and saturation. Integers live one per
 * i32 on the GPU like every integer type (src/core/dtype.ts), except constant 8-bit data that a
 * kernel prepacks four to a u32 (DequantizeLinear here, the integer conv/matmul kernels in
 * quant-gemm.ts): quantized weights stay 8-bit in GPU memory.
 */

/** Saturation range of a quantized type. */
export function qRange(t: ElemType | undefined): [number, number] {
  switch (t) {
    case 'int8':
      return [-128, 127];
    case 'int16':
      return [-32768, 32767];
    case 'uint16':
      return [0, 65535];
    case 'int32':
      return [-(2 ** 31), 2 ** 31 - 1];
    default:
      return [0, 255];
  }
}

/** QuantizeLinear's output type: its zero point's, else `output_dtype` (21+), else uint8. */
function quantizedType(attrs: Attrs, zp: ElemType | undefined): ElemType {
  if (zp) return zp;
  const code = (attrs.output_dtype as number | undefined) ?? 0;
  return (code && onnxElemType(code)) || 'uint8';
}

/** The saturation range a node runs with: `q_lo`/`q_hi` from planAttrs (the output's type), else uint8's. */
export function rangeOf(attrs: Attrs): [number, number] {
  return [(attrs.q_lo as number | undefined) ?? 0, (attrs.q_hi as number | undefined) ?? 255];
}

/** Where element i of x finds its scale (shaders/quant/scale-index.wgsl). */
export interface ScaleLayout {
  D: number;
  inner: number;
  /** block size along the axis (1 per axis) */
  blk: number;
  so: number;
  si: number;
  sr: number;
}

/**
 * Per tensor (a scalar or one-element scale without block_size), per axis (a 1-D scale of x's
 * `axis` length) or blocked (scale of x's rank, ceil(D / block_size) along `axis`, x's dims elsewhere).
 */
export function scaleLayout(op: string, x: readonly number[], s: readonly number[], attrs: Attrs): ScaleLayout {
  const block = intAttr(attrs, 'block_size', 0, op);
  const bad = (why: string): never => {
    throw new WgsegError('BAD_SHAPE', `${op}: scale [${s.join(',')}] for x [${x.join(',')}]: ${why}`);
  };
  const n = numel(s);
  if (!block && s.length <= 1 && n === 1) return { D: 1, inner: 1, blk: 1, so: 0, si: 0, sr: 0 };
  const rank = x.length;
  let axis = intAttr(attrs, 'axis', 1, op);
  if (axis < -rank || axis >= rank) bad(`axis ${axis} is outside rank ${rank}`);
  if (axis < 0) axis += rank;
  const D = x[axis],
    inner = numel(x.slice(axis + 1));
  if (!block) {
    if (s.length !== 1 || s[0] !== D) bad(`a per-axis scale must be 1-D of x's dim ${axis} (${D})`);
    return { D, inner, blk: 1, so: 0, si: 1, sr: 0 };
  }
  if (block < 1) bad(`block_size ${block} must be positive`);
  const nb = Math.ceil(D / block);
  if (s.length !== rank || s.some((d, i) => d !== (i === axis ? nb : x[i])))
    bad(`a blocked scale (block_size ${block}) must be x's shape with ceil(${D} / ${block}) = ${nb} at axis ${axis}`);
  return { D, inner, blk: block, so: nb * inner, si: inner, sr: 1 };
}

const indexOf = (l: ScaleLayout, i: number) =>
  Math.floor(i / (l.inner * l.D)) * l.so +
  Math.floor((Math.floor(i / l.inner) % l.D) / l.blk) * l.si +
  (i % l.inner) * l.sr;

/** Round half to even (f64; callers pass f32 values). */
export function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function checkZp(op: string, s: TensorInfo, z: TensorInfo | undefined): void {
  if (z && z.shape.join() !== s.shape.join() && !(numel(z.shape) === 1 && numel(s.shape) === 1))
    throw new WgsegError('BAD_SHAPE', `${op}: zero point [${z.shape}] differs from scale [${s.shape}]`);
}

/** One dispatch of quantize.wgsl or dequantize.wgsl over x. */
function encodeQdq(
  ctx: KernelContext,
  op: 'QuantizeLinear' | 'DequantizeLinear',
  [x, s, z]: (GpuTensor | undefined)[],
  y: GpuTensor,
  attrs: Attrs,
  extra: Record<string, number>,
): void {
  const n = numel(y.shape);
  const l = scaleLayout(op, x!.shape, s!.shape, attrs);
  const T = op === 'QuantizeLinear' ? x!.dtype : y.dtype;
  if (T === 'f16' && !ctx.info.f16) throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: this adapter has no shader-f16`);
  ctx.dispatch({
    name: `${op}[${n}]${T}`,
    shader: op === 'QuantizeLinear' ? 'quant/quantize.wgsl' : 'quant/dequantize.wgsl',
    defines: { T },
    uniforms: { n, ...l, has_zp: z ? 1 : 0, ...extra },
    buffers: { x: x!.buffer, scale: s!.buffer, zp: (z ?? s!).buffer, y: y.buffer },
    workgroups: linearGrid(n, 256),
  });
}

const quantize: OpKernel = {
  op: 'QuantizeLinear',
  // saturates to its output type
  keepsRange: true,
  outputType: (attrs, ins) => quantizedType(attrs, ins?.[2]),
  planAttrs(attrs, ins) {
    const [q_lo, q_hi] = qRange(quantizedType(attrs, ins[2]));
    return { ...attrs, q_lo, q_hi };
  },
  fold(xs, attrs, node) {
    const x = arg(node.op, xs, 0),
      s = arg(node.op, xs, 1),
      z = xs[2];
    const l = scaleLayout(node.op, x.shape, s.shape, attrs);
    const type = quantizedType(attrs, z?.type);
    const [lo, hi] = qRange(type);
    const out = Array.from(x.data, (v, i) => {
      const k = indexOf(l, i);
      const q = roundEven(Math.fround(Number(v) / Number(s.data[k]))) + Number(z?.data[k] ?? 0);
      return Math.min(hi, Math.max(lo, q));
    });
    return make(type, [...x.shape], out);
  },
  infer(inputs, attrs) {
    const x = input('QuantizeLinear', inputs),
      s = input('QuantizeLinear', inputs, 1);
    if (x.dtype !== 'f32' && x.dtype !== 'f16')
      throw new WgsegError('UNSUPPORTED_DTYPE', `QuantizeLinear: x must be a float tensor, got ${x.dtype}`);
    checkZp('QuantizeLinear', s, inputs[2]);
    scaleLayout('QuantizeLinear', x.shape, s.shape, attrs);
    return [{ shape: [...x.shape], dtype: 'i32' }];
  },
  encode(ctx, inputs, [y], attrs) {
    const [lo, hi] = rangeOf(attrs);
    encodeQdq(ctx, 'QuantizeLinear', inputs, y, attrs, { lo, hi });
  },
};

/** Constant 8-bit data four to a u32, low byte first: 'q8s' signed bytes, 'q8u' unsigned; undefined when a value needs more bits. */
export function pack8(data: ArrayLike<number>): Packed | undefined {
  let min = 0,
    max = 0;
  for (let i = 0; i < data.length; i++) (min = Math.min(min, data[i])), (max = Math.max(max, data[i]));
  if (min < -128 || max > 255 || (min < 0 && max > 127)) return undefined;
  const words = new Uint32Array(Math.ceil(data.length / 4));
  for (let i = 0; i < data.length; i++) words[i >> 2] |= (data[i] & 0xff) << ((i & 3) * 8);
  return { data: words, dtype: 'u32', key: min < 0 ? 'q8s' : 'q8u' };
}

const dequantize: OpKernel = {
  op: 'DequantizeLinear',
  // no `fold`: a dequantized constant weight would become a float constant (4x the bytes); the
  // node stays, reads its weight 8-bit (prepack), and the QDQ fusion (src/graph/fusion-rules.ts)
  // finds it to make the integer conv
  outputType: (_attrs, ins) => (ins?.[1] === 'float16' ? 'float16' : 'float32'),
  prepack: (_ctx, index, data) => (index === 0 ? pack8(data) : undefined),
  infer(inputs, attrs) {
    const x = input('DequantizeLinear', inputs),
      s = input('DequantizeLinear', inputs, 1);
    if (x.dtype !== 'i32')
      throw new WgsegError('UNSUPPORTED_DTYPE', `DequantizeLinear: x must be an integer tensor, got ${x.dtype}`);
    if (s.dtype !== 'f32' && s.dtype !== 'f16')
      throw new WgsegError('UNSUPPORTED_DTYPE', `DequantizeLinear: x_scale must be a float tensor, got ${s.dtype}`);
    checkZp('DequantizeLinear', s, inputs[2]);
    scaleLayout('DequantizeLinear', x.shape, s.shape, attrs);
    return [{ shape: [...x.shape], dtype: s.dtype }];
  },
  encode(ctx, inputs, [y], attrs) {
    const packed = inputs[0]!.packed;
    if (packed && packed !== 'q8s' && packed !== 'q8u')
      throw new WgsegError('BAD_INPUT', `DequantizeLinear: x packed as ${packed}, not 8-bit`);
    encodeQdq(ctx, 'DequantizeLinear', inputs, y, attrs, { packed: packed === 'q8s' ? 1 : packed === 'q8u' ? 2 : 0 });
  },
};

/** DynamicQuantizeLinear's scale and zero point from x's range, in f32 as onnxruntime computes them. */
export function dynamicRange(x: ArrayLike<number>): { scale: number; zp: number } {
  let lo = 0,
    hi = 0;
  for (let i = 0; i < x.length; i++) (lo = Math.min(lo, x[i])), (hi = Math.max(hi, x[i]));
  const scale = hi === lo ? 1 : Math.fround(Math.fround(hi - lo) / 255);
  const zp = roundEven(Math.min(255, Math.max(0, Math.fround(0 - Math.fround(lo / scale)))));
  return { scale, zp };
}

const dynamicQuantize: OpKernel = {
  op: 'DynamicQuantizeLinear',
  keepsRange: true,
  outputType: (_attrs, ins, index) => (index === 1 ? (ins?.[0] ?? 'float32') : 'uint8'),
  fold(xs, _attrs, node) {
    const x = arg(node.op, xs, 0);
    const { scale, zp } = dynamicRange(Array.from(x.data, Number));
    return make(
      'uint8',
      [...x.shape],
      Array.from(x.data, (v) => Math.min(255, Math.max(0, roundEven(Math.fround(Number(v) / scale)) + zp))),
    );
  },
  infer(inputs) {
    const x = input('DynamicQuantizeLinear', inputs);
    if (x.dtype !== 'f32' && x.dtype !== 'f16')
      throw new WgsegError('UNSUPPORTED_DTYPE', `DynamicQuantizeLinear: x must be a float tensor, got ${x.dtype}`);
    return [
      { shape: [...x.shape], dtype: 'i32' },
      { shape: [], dtype: x.dtype },
      { shape: [], dtype: 'i32' },
    ];
  },
  encode(ctx, [x], outs) {
    const n = numel(x!.shape);
    const T = x!.dtype;
    if (T === 'f16' && !ctx.info.f16)
      throw new WgsegError('UNSUPPORTED_DTYPE', 'DynamicQuantizeLinear: this adapter has no shader-f16');
    // outputs 1 and 2 may be unused (no buffer): scratch then
    const scale = outs[1] ?? ctx.alloc([1], T);
    const zp = outs[2] ?? ctx.alloc([1], 'i32');
    ctx.dispatch({
      name: `DynamicQuantizeLinear/range[${n}]${T}`,
      shader: 'quant/dynamic-range.wgsl',
      defines: { T },
      uniforms: { n },
      buffers: { x: x!.buffer, scale: scale.buffer, zp: zp.buffer },
      workgroups: [1],
    });
    encodeQdq(ctx, 'QuantizeLinear', [x, scale, zp], outs[0], {}, { lo: 0, hi: 255 });
    if (!outs[1]) ctx.release(scale);
    if (!outs[2]) ctx.release(zp);
  },
};

/**
 * QLinearAdd / QLinearMul (com.microsoft, what onnxruntime's QOperator-format quantizer writes
 * around elementwise ops): A, B quantized with per-tensor scales and zero points (constants, read
 * at plan time), numpy broadcasting, C in A's type (or C_zero_point's). Computed as onnxruntime's
 * MLAS kernels do, in f32 with the scale ratios taken on the host (quant/qlinear-binary.wgsl).
 */
function qlinearBinary(op: 'QLinearAdd' | 'QLinearMul'): OpKernel {
  const one = (host: HostValues, i: number, what: string, dflt?: number): number => {
    const v = host[i];
    if (v === undefined) {
      if (dflt !== undefined) return dflt;
      throw new WgsegError('UNSUPPORTED_OP', `${op}: ${what} must be a constant`);
    }
    if (v.length !== 1)
      throw new WgsegError('BAD_SHAPE', `${op}: ${what} must be a scalar (per-tensor), got ${v.length} values`);
    return v[0];
  };
  const params = (host: HostValues) => {
    const [as, bs, cs] = [one(host, 1, 'A_scale'), one(host, 4, 'B_scale'), one(host, 6, 'C_scale')].map(Math.fround);
    const [az, bz, cz] = [
      one(host, 2, 'A_zero_point', 0),
      one(host, 5, 'B_zero_point', 0),
      one(host, 7, 'C_zero_point', 0),
    ];
    const f = Math.fround;
    return op === 'QLinearAdd'
      ? { mul: 0, ra: f(as / cs), rb: f(bs / cs), a_zp: az, b_zp: bz, c_zp: cz }
      : { mul: 1, ra: f(f(as * bs) / cs), rb: 0, a_zp: az, b_zp: bz, c_zp: cz };
  };
  return {
    op,
    keepsRange: true,
    hostInputs: [1, 2, 4, 5, 6, 7],
    outputType: (_attrs, ins) => ins?.[7] ?? ins?.[0],
    planAttrs(attrs, ins) {
      const [q_lo, q_hi] = qRange(ins[7] ?? ins[0]);
      return { ...attrs, q_lo, q_hi };
    },
    infer(inputs, _attrs, host) {
      const a = input(op, inputs),
        b = input(op, inputs, 3);
      if (a.dtype !== 'i32' || b.dtype !== 'i32')
        throw new WgsegError(
          'UNSUPPORTED_DTYPE',
          `${op}: A and B must be quantized integers, got ${a.dtype} and ${b.dtype}`,
        );
      params(host);
      return [{ shape: broadcastShapes(op, [a.shape, b.shape]), dtype: 'i32' }];
    },
    encode(ctx, [a, , , b], [y], attrs, host) {
      const [lo, hi] = rangeOf(attrs);
      const n = numel(y.shape);
      const plan = broadcastPlan(op, y.shape, [a!.shape, b!.shape]);
      ctx.dispatch({
        name: `${op}[${n}]`,
        shader: 'quant/qlinear-binary.wgsl',
        uniforms: {
          n,
          rank: plan.rank,
          lo,
          hi,
          ...params(host),
          ...vec8('shape', plan.shape, 1),
          ...vec8('sa', plan.strides[0]),
          ...vec8('sb', plan.strides[1]),
        },
        buffers: { a: a!.buffer, b: b!.buffer, y: y.buffer },
        workgroups: linearGrid(n, 256),
      });
    },
  };
}

export const quantOps: OpKernel[] = [
  quantize,
  dequantize,
  dynamicQuantize,
  qlinearBinary('QLinearAdd'),
  qlinearBinary('QLinearMul'),
];
