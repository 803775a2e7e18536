import type { Attrs } from '../core/attrs';
import { numel, type ElemType } from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { GpuTensor, HostValues, KernelContext, OpKernel, Packed, TensorInfo, Variant } from '../core/op';
import { broadcastShapes } from './broadcast';
import { convGeometry } from './conv-geometry';
import { linearGrid } from './dispatch';
import { input } from './layout';
import { qRange, rangeOf } from './quant';
import { withVariants } from './variants';

/**
 * The integer convolutions and matmuls: ConvInteger (10), MatMulInteger (10), QLinearConv (10),
 * QLinearMatMul (10, 21), as ONNX defines them: (x - x_zp) * (w - w_zp) summed in int32 (wrapping),
 * and for the QLinear ops requantized to y's type: clamp(round((acc + bias) * x_scale * w_scale /
 * y_scale) + y_zp), the multiplier computed in f32 on the host as onnxruntime does, the rounding
 * half to even. 2-D convolutions (NCHW) with every Conv attribute; per-channel weight zero points
 * and scales; matmul batches broadcast whole (A or B shared by every batch).
 *
 * Weights (W, B) stay 8-bit on the GPU: four to a u32 per output channel along the reduction (the
 * constant ones packed on the host at load, the others on the GPU per run: pack-weights.wgsl). Two
 * kernels: portable (conv-integer.wgsl) and dot4 (conv-integer-dot4.wgsl: dot4I8Packed, where the
 * adapter has WGSL's packed_4x8_integer_dot_product). They give the same integers.
 */

interface Geom {
  total: number;
  out: number[];
  u: Record<string, number>;
  /** how the weight's elements run: `batches` x `rows` (output channels) x K, element (b, r, k) at b * sbs + r * rs + k * ks */
  pack: { batches: number; rows: number; K: number; sbs: number; rs: number; ks: number };
  name: string;
}

const KW4 = (K: number) => Math.ceil(K / 4);

function convGeom(op: string, x: TensorInfo, w: TensorInfo, attrs: Attrs): Geom {
  if (x.dtype !== 'i32' || w.dtype !== 'i32')
    throw new WgsegError(
      'UNSUPPORTED_DTYPE',
      `${op}: x and w must be 8-bit integer tensors, got ${x.dtype}, ${w.dtype}`,
    );
  const f = (t: TensorInfo): TensorInfo => ({ shape: t.shape, dtype: 'f32' });
  const g = convGeometry(op, [f(x), f(w)], attrs);
  const K = g.Cg * g.kH * g.kW;
  const u = {
    C: g.C,
    H: g.H,
    W: g.W,
    M: g.M,
    OH: g.OH,
    OW: g.OW,
    kH: g.kH,
    kW: g.kW,
    sh: g.sh,
    sw: g.sw,
    dh: g.dh,
    dw: g.dw,
    ph: g.pads[0],
    pw: g.pads[1],
    Cg: g.Cg,
    Mg: g.Mg,
    K,
    KW4: KW4(K),
    rows: g.N,
    xbs: 0,
    wbs: 0,
  };
  return {
    total: g.N * g.M * g.OH * g.OW,
    out: [g.N, g.M, g.OH, g.OW],
    u,
    pack: { batches: 1, rows: g.M, K, sbs: 0, rs: K, ks: 1 },
    name: `${g.N}x${g.C}x${g.H}x${g.W}->${g.M}x${g.OH}x${g.OW} k${g.kH}x${g.kW} s${g.sh} g${g.group}`,
  };
}

/** A [..., M, K] x B [..., K, N] (1-D operands as in numpy) as a 1x1 convolution over the rows of A. */
function matmulGeom(op: string, a: TensorInfo, b: TensorInfo): Geom {
  if (a.dtype !== 'i32' || b.dtype !== 'i32')
    throw new WgsegError(
      'UNSUPPORTED_DTYPE',
      `${op}: A and B must be 8-bit integer tensors, got ${a.dtype}, ${b.dtype}`,
    );
  if (!a.shape.length || !b.shape.length) throw new WgsegError('BAD_SHAPE', `${op}: A and B must have rank >= 1`);
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const [M, K] = as.slice(-2),
    [K2, N] = bs.slice(-2);
  if (K !== K2) throw new WgsegError('BAD_SHAPE', `${op}: A [${a.shape}] and B [${b.shape}]: inner dims ${K} != ${K2}`);
  const batch = broadcastShapes(op, [as.slice(0, -2), bs.slice(0, -2)]);
  const nb = numel(batch),
    na = numel(as.slice(0, -2)),
    nB = numel(bs.slice(0, -2));
  if ((na !== 1 && na !== nb) || (nB !== 1 && nB !== nb))
    throw new WgsegError(
      'UNSUPPORTED_OP',
      `${op}: A [${a.shape}] and B [${b.shape}] broadcast their batch dims partly; only a whole batch shared is supported`,
    );
  const out = [...batch, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
  const u = {
    C: K,
    H: 1,
    W: 1,
    M: N,
    OH: 1,
    OW: 1,
    kH: 1,
    kW: 1,
    sh: 1,
    sw: 1,
    dh: 1,
    dw: 1,
    ph: 0,
    pw: 0,
    Cg: K,
    Mg: N,
    K,
    KW4: KW4(K),
    rows: M,
    xbs: na > 1 ? M * K : 0,
    wbs: nB > 1 ? N * KW4(K) : 0,
  };
  return {
    total: nb * M * N,
    out,
    u,
    pack: { batches: nB, rows: N, K, sbs: K * N, rs: 1, ks: N },
    name: `${nb}x${M}x${K}x${N}`,
  };
}

/** Weight bytes as the kernels read them: per batch and row, KW4 words of signed bytes w - bias, low byte first. */
export function packQWeights(data: ArrayLike<number>, p: Geom['pack'], bias: number): Uint32Array {
  const kw = KW4(p.K);
  const words = new Uint32Array(p.batches * p.rows * kw);
  for (let b = 0; b < p.batches; b++)
    for (let r = 0; r < p.rows; r++)
      for (let k = 0; k < p.K; k++) {
        const v = (data[b * p.sbs + r * p.rs + k * p.ks] - bias) & 0xff;
        words[(b * p.rows + r) * kw + (k >> 2)] |= v << ((k & 3) * 8);
      }
  return words;
}

/** Where each op keeps its inputs. */
interface Slots {
  x: number;
  xz: number;
  w: number;
  wz: number;
  /** QLinear ops: scales (host) and y's zero point; QLinearConv: the int32 bias */
  xs?: number;
  ws?: number;
  ys?: number;
  yz?: number;
  b?: number;
  conv: boolean;
}

const SLOTS: Record<string, Slots> = {
  ConvInteger: { x: 0, w: 1, xz: 2, wz: 3, conv: true },
  MatMulInteger: { x: 0, w: 1, xz: 2, wz: 3, conv: false },
  QLinearConv: { x: 0, xs: 1, xz: 2, w: 3, ws: 4, wz: 5, ys: 6, yz: 7, b: 8, conv: true },
  QLinearMatMul: { x: 0, xs: 1, xz: 2, w: 3, ws: 4, wz: 5, ys: 6, yz: 7, conv: false },
};

function geomOf(op: string, inputs: (TensorInfo | undefined)[], attrs: Attrs): Geom {
  const s = SLOTS[op];
  const x = input(op, inputs, s.x),
    w = input(op, inputs, s.w);
  return s.conv ? convGeom(op, x, w, attrs) : matmulGeom(op, x, w);
}

/** Constant weights packed at load: 'qw-s' (int8: bytes as they are) or 'qw-u' (uint8: bytes w - 128). */
function prepackWeights(op: string) {
  return (
    _ctx: KernelContext,
    index: number,
    data: ArrayLike<number>,
    inputs: (TensorInfo | undefined)[],
    attrs: Attrs,
  ): Packed | undefined => {
    if (index !== SLOTS[op].w) return undefined;
    let min = 0,
      max = 0;
    for (let i = 0; i < data.length; i++) (min = Math.min(min, data[i])), (max = Math.max(max, data[i]));
    if (min < -128 || max > 255 || (min < 0 && max > 127))
      throw new WgsegError('BAD_INPUT', `${op}: weight values [${min}, ${max}] are not 8-bit integers`);
    // uint8 by type, or values only uint8 holds
    const unsigned = attrs.q_wu === 1 || max > 127;
    const g = geomOf(op, inputs, attrs);
    return { data: packQWeights(data, g.pack, unsigned ? 128 : 0), dtype: 'u32', key: unsigned ? 'qw-u' : 'qw-s' };
  };
}

/** Zero point mode: 2 absent, 0 one value, 1 one per row / output channel (`per` of them). */
function zpMode(op: string, what: string, z: GpuTensor | undefined, per: number): number {
  if (!z) return 2;
  const n = numel(z.shape);
  if (n === 1) return 0;
  if (n === per) return 1;
  throw new WgsegError('BAD_SHAPE', `${op}: ${what} [${z.shape}] must be a scalar or hold ${per} values`);
}

/** acc * x_scale * w_scale / y_scale per output channel, in f32 left to right as onnxruntime computes it. */
function multipliers(op: string, host: HostValues, s: Slots, channels: number): number[] {
  const xs = host[s.xs!],
    ws = host[s.ws!],
    ys = host[s.ys!];
  if (xs?.length !== 1 || ys?.length !== 1 || !ws || (ws.length !== 1 && ws.length !== channels))
    throw new WgsegError(
      'BAD_SHAPE',
      `${op}: scales must be scalars (w's: a scalar or ${channels} values), got ${xs?.length}, ${ws?.length}, ${ys?.length}`,
    );
  return ws.map((w) => Math.fround(Math.fround(xs[0] * w) / ys[0]));
}

function encodeQ(op: string, dot4: boolean) {
  return (ctx: KernelContext, inputs: (GpuTensor | undefined)[], [y]: GpuTensor[], attrs: Attrs, host: HostValues) => {
    const s = SLOTS[op];
    const g = geomOf(op, inputs, attrs);
    const x = inputs[s.x]!,
      w = inputs[s.w]!,
      xz = inputs[s.xz],
      wz = inputs[s.wz];
    const scratch: GpuTensor[] = [];
    let wbuf = w.buffer,
      wBias: number;
    if (w.packed) {
      if (w.packed !== 'qw-s' && w.packed !== 'qw-u')
        throw new WgsegError('BAD_INPUT', `${op}: weights packed as ${w.packed}, not by this kernel`);
      wBias = w.packed === 'qw-u' ? 128 : 0;
    } else {
      wBias = attrs.q_wu === 1 ? 128 : 0;
      const p = g.pack;
      const words = p.batches * p.rows * KW4(p.K);
      const packed = ctx.alloc([words], 'i32');
      scratch.push(packed);
      ctx.dispatch({
        name: `${op}/pack-weights[${words}]`,
        shader: 'quant/pack-weights.wgsl',
        uniforms: { words, rows: p.rows, K: p.K, KW4: KW4(p.K), sbs: p.sbs, rs: p.rs, ks: p.ks, w_bias: wBias },
        buffers: { src: w.buffer, dst: packed.buffer },
        workgroups: linearGrid(words, 256),
      });
      wbuf = packed.buffer;
    }
    const requant = s.ys !== undefined;
    let mult: GpuTensor | undefined;
    if (requant) {
      const m = multipliers(op, host, s, g.u.M);
      mult = ctx.upload(m, [m.length], 'f32');
      scratch.push(mult);
    }
    const b = s.b !== undefined ? inputs[s.b] : undefined;
    if (b && numel(b.shape) !== g.u.M)
      throw new WgsegError('BAD_SHAPE', `${op}: bias [${b.shape}] must hold ${g.u.M} values`);
    const yz = s.yz !== undefined ? inputs[s.yz] : undefined;
    const [lo, hi] = requant ? rangeOf(attrs) : [0, 0];
    ctx.dispatch({
      name: `${op}${dot4 ? '/dot4' : ''}[${g.name}]`,
      shader: dot4 ? 'quant/conv-integer-dot4.wgsl' : 'quant/conv-integer.wgsl',
      uniforms: {
        total: g.total,
        ...g.u,
        xzp_mode: zpMode(op, 'x zero point', xz, s.conv ? 1 : g.u.rows),
        wzp_mode: zpMode(op, 'w zero point', wz, g.u.M),
        w_bias: wBias,
        // x's type: uint8 (ONNX's default) unless planAttrs says int8
        x_bias: attrs.q_xu === 0 ? 0 : 128,
        requant: requant ? 1 : 0,
        has_bias: b ? 1 : 0,
        has_yzp: yz ? 1 : 0,
        mult_per: (host[s.ws!]?.length ?? 1) > 1 ? 1 : 0,
        lo,
        hi,
      },
      buffers: {
        x: x.buffer,
        w: wbuf,
        xzp: (xz ?? x).buffer,
        wzp: (wz ?? x).buffer,
        bias: (b ?? x).buffer,
        yzp: (yz ?? x).buffer,
        mult: (mult ?? x).buffer,
        y: y.buffer,
      },
      workgroups: linearGrid(g.total, 64),
    });
    ctx.release(...scratch);
  };
}

function record(op: string): OpKernel {
  const s = SLOTS[op];
  const requant = s.ys !== undefined;
  const prepack = prepackWeights(op);
  // portable first: dot4 did not measure faster on both software adapters (ConvInteger 1x32x48x48,
  // 3x3, 32 channels, 2026-12-07: within the noise of a shared 2-core machine on lavapipe and SwiftShader)
  const variants: Variant[] = [
    { name: 'portable', prepack, encode: encodeQ(op, false) },
    {
      name: 'dot4',
      // 8-bit x (ONNX allows no other for these ops); the adapter has dot4I8Packed
      applies: (_ins, _attrs, info) => info.dot4,
      prepack,
      encode: encodeQ(op, true),
    },
  ];
  return withVariants({
    op,
    // the QLinear ops saturate to y's type; the others make int32
    keepsRange: requant,
    hostInputs: requant ? [s.xs!, s.ws!, s.ys!] : undefined,
    outputType: (_attrs, ins) => (requant ? (ins?.[s.yz!] ?? 'uint8') : 'int32'),
    planAttrs(attrs, ins) {
      const out: Attrs = { ...attrs, q_xu: ins[s.x] === 'int8' ? 0 : 1, q_wu: ins[s.w] === 'uint8' ? 1 : 0 };
      if (requant) [out.q_lo, out.q_hi] = qRange((ins[s.yz!] as ElemType | undefined) ?? 'uint8');
      return out;
    },
    infer(inputs, attrs) {
      const g = geomOf(op, inputs, attrs);
      return [{ shape: g.out, dtype: 'i32' }];
    },
    variants,
  });
}

export const quantGemmKernels: OpKernel[] = ['ConvInteger', 'MatMulInteger', 'QLinearConv', 'QLinearMatMul'].map(
  record,
);
