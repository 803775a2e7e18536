import { intAttr, intsAttr, strAttr, type Attrs } from '../core/attrs';
import { WgsegError } from '../core/errors';
import type { GpuTensor, KernelContext, TensorInfo } from '../core/op';
import { activationUniforms } from './activation';
import { ceilDiv, linearGrid } from './dispatch';

// What every Conv / FusedConv kernel variant shares (conv.ts and the conv-*.ts variant files): the
// geometry of a 2-D convolution, the Params fields of the conv shaders, the vec4-quad weight layout.

/** Everything one 2-D convolution needs, resolved from shapes and ONNX attributes. */
export interface ConvGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  M: number;
  kH: number;
  kW: number;
  group: number;
  Cg: number;
  Mg: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** top, left, bottom, right */
  pads: [number, number, number, number];
  OH: number;
  OW: number;
}

/** ONNX Conv output size and pads along one axis (auto_pad per the operator definition). */
function axis(
  op: string,
  autoPad: string,
  inp: number,
  k: number,
  s: number,
  d: number,
  pb: number,
  pe: number,
  name: string,
) {
  const dk = (k - 1) * d + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const out = ceilDiv(inp, s);
    const total = Math.max(0, (out - 1) * s + dk - inp);
    const small = Math.floor(total / 2);
    pb = autoPad === 'SAME_UPPER' ? small : total - small;
    return { out, pb, pe: total - pb };
  }
  if (autoPad === 'VALID') (pb = 0), (pe = 0);
  else if (autoPad !== 'NOTSET')
    throw new WgsegError(
      'BAD_ATTRIBUTE',
      `${op}: auto_pad "${autoPad}" is not NOTSET, SAME_UPPER, SAME_LOWER or VALID`,
    );
  const out = Math.floor((inp + pb + pe - dk) / s) + 1;
  if (out < 1)
    throw new WgsegError(
      'BAD_SHAPE',
      `${op}: ${name} ${inp} with pads ${pb}+${pe} is smaller than the dilated kernel ${dk}`,
    );
  return { out, pb, pe };
}

export function convGeometry(op: string, inputs: (TensorInfo | undefined)[], attrs: Attrs): ConvGeometry {
  const [x, w, b, z] = inputs;
  if (!x || !w) throw new WgsegError('BAD_INPUT', `${op}: needs inputs X and W`);
  if (x.shape.length !== 4 || w.shape.length !== 4) {
    const what = x.shape.length === 3 ? '1-D' : x.shape.length === 5 ? '3-D' : `rank-${x.shape.length}`;
    throw new WgsegError(
      'UNSUPPORTED_OP',
      `${op}: only 2-D convolution (X [N,C,H,W], W [M,C/group,kH,kW]) is supported, got ${what} X [${x.shape}] and W [${w.shape}]`,
    );
  }
  if (x.dtype !== 'f32' && x.dtype !== 'f16')
    throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: X dtype ${x.dtype}; only f32 and f16`);
  for (const [t, n] of [
    [w, 'W'],
    [b, 'B'],
    [z, 'Z'],
  ] as const) {
    if (t && t.dtype !== x.dtype)
      throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: ${n} dtype ${t.dtype} differs from X dtype ${x.dtype}`);
  }
  const [N, C, H, W] = x.shape;
  const [M, Cg, kH, kW] = w.shape;
  const group = intAttr(attrs, 'group', 1, op);
  if (!Number.isInteger(group) || group < 1 || C % group !== 0 || M % group !== 0 || C / group !== Cg) {
    throw new WgsegError(
      'BAD_SHAPE',
      `${op}: group ${group} does not fit X [${x.shape}] (C=${C}) and W [${w.shape}] (need C = group * W[1] and M % group == 0)`,
    );
  }
  const ints = (name: string, dflt: number[], min: number) => {
    const v = intsAttr(attrs, name, dflt, op);
    if (v.length !== dflt.length || v.some((e) => !Number.isInteger(e) || e < min)) {
      throw new WgsegError(
        'BAD_ATTRIBUTE',
        `${op}: ${name} [${v}] must be ${dflt.length} integers >= ${min} for a 2-D conv`,
      );
    }
    return v;
  };
  const ks = ints('kernel_shape', [kH, kW], 1);
  if (ks[0] !== kH || ks[1] !== kW)
    throw new WgsegError('BAD_ATTRIBUTE', `${op}: kernel_shape [${ks}] does not match W [${w.shape}]`);
  const [sh, sw] = ints('strides', [1, 1], 1);
  const [dh, dw] = ints('dilations', [1, 1], 1);
  const pads = ints('pads', [0, 0, 0, 0], 0);
  const autoPad = strAttr(attrs, 'auto_pad', 'NOTSET', op);
  const ah = axis(op, autoPad, H, kH, sh, dh, pads[0], pads[2], 'height');
  const aw = axis(op, autoPad, W, kW, sw, dw, pads[1], pads[3], 'width');
  if (b && (b.shape.length !== 1 || b.shape[0] !== M))
    throw new WgsegError('BAD_SHAPE', `${op}: B [${b.shape}] must be [${M}]`);
  const out = [N, M, ah.out, aw.out];
  if (z && z.shape.join() !== out.join())
    throw new WgsegError('BAD_SHAPE', `${op}: Z [${z.shape}] must match the output [${out}]`);
  return {
    N,
    C,
    H,
    W,
    M,
    kH,
    kW,
    group,
    Cg,
    Mg: M / group,
    sh,
    sw,
    dh,
    dw,
    pads: [ah.pb, aw.pb, ah.pe, aw.pe],
    OH: ah.out,
    OW: aw.out,
  };
}

/** Depthwise (and channel-multiplier) convolutions get their own kernel. */
export const isDepthwise = (g: ConvGeometry) => g.group === g.C && g.Cg === 1 && g.group > 1;

/**
 * The Params fields the conv shaders share (each struct takes those it declares): the geometry,
 * the bias and Z flags and the fused activation (FusedConv's, with its post_affine).
 */
export function convUniforms(op: string, g: ConvGeometry, attrs: Attrs, hasBias: boolean, hasZ: boolean) {
  const act = op === 'FusedConv' ? activationUniforms(attrs, op) : { act: 0, act_a: 0, act_b: 0 };
  const [pt, pl] = g.pads;
  const { C, H, W, M, OH, OW, kH, kW, sh, sw, dh, dw } = g;
  return { C, H, W, M, OH, OW, kH, kW, sh, sw, dh, dw, pt, pl, has_bias: hasBias ? 1 : 0, has_z: hasZ ? 1 : 0, ...act };
}

/**
 * pack-weights.wgsl on the host, for constant weights (once, at load): W [M, Cg, kH, kW] ->
 * wp[((g * Cg + ci) * kHW + t) * Mq + q] = output channels 4q..4q+3 of group g (zero past Mg).
 */
export function packConvWeights(w: ArrayLike<number>, g: ConvGeometry, Mq: number): Float32Array {
  const kHW = g.kH * g.kW;
  const out = new Float32Array(g.group * g.Cg * kHW * Mq * 4);
  for (let grp = 0; grp < g.group; grp++)
    for (let m = 0; m < g.Mg; m++) {
      const q = m >> 2,
        c = m & 3;
      for (let ci = 0; ci < g.Cg; ci++) {
        const src = ((grp * g.Mg + m) * g.Cg + ci) * kHW;
        const dst = ((grp * g.Cg + ci) * kHW * Mq + q) * 4 + c;
        for (let t = 0; t < kHW; t++) out[dst + t * Mq * 4] = w[src + t];
      }
    }
  return out;
}

/**
 * pack-weights.wgsl: weights that are not a constant into that layout, on the GPU, every run; the
 * caller releases the returned pool buffer after its dispatch.
 */
export function packWeightsOnGpu(rt: KernelContext, w: GpuTensor, g: ConvGeometry, Mq: number): GPUBuffer {
  const kHW = g.kH * g.kW;
  const n = g.group * g.Cg * kHW * Mq;
  const wp = rt.pool.acquire(n * 4 * (w.dtype === 'f16' ? 2 : 4));
  rt.dispatch({
    name: `ConvPackWeights[${g.M}x${g.Cg}x${g.kH}x${g.kW}]`,
    shader: 'conv/pack-weights.wgsl',
    defines: { T: w.dtype },
    uniforms: { n, Cg: g.Cg, Mg: g.Mg, Mq, kHW },
    buffers: { w: w.buffer, wp },
    workgroups: linearGrid(n, 256),
  });
  return wp;
}
