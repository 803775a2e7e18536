import type { KernelContext } from '../core/op';
import { WgsegError } from '../core/errors';
import type { GpuTensor } from '../core/op';
import { activationUniforms } from './activation';
import { ceilDiv, linearGrid } from './dispatch';
import type { Attrs } from '../core/attrs';
import type { DeviceInfo, OpKernel, TensorInfo, Variant } from '../core/op';
import { withVariants } from './variants';
import { depthwiseFlat } from './conv-depthwise';
import {
  convGeometry,
  convUniforms,
  isDepthwise,
  packConvWeights,
  packWeightsOnGpu,
  type ConvGeometry,
} from './conv-geometry';
import { winogradVariants } from './conv-winograd';
import { gemmTiledVariant } from './conv-tiled';

/**
 * Tuning switches (tests turn subgroups off to exercise the portable kernel, and fixedSize off to
 * run 3x3 / 1x1 kernels through the loops sized from uniforms; the bench sets wg).
 */
export const convTuning = { subgroups: true, wg: 16, fixedSize: true };

/**
 * Implicit-GEMM variants. plain: RP = 4 pixels per workgroup, im2col tile of XS elements in
 * workgroup memory, 4 channels per invocation. subgroup: PX = 4 adjacent pixels of a row per
 * invocation and MB = 32 channels (16 for layers with at most 16 per group), weights shared through
 * subgroupBroadcast; its packed weights pad Mq to a multiple of MB / 4. Kernel sizes in FIXED get
 * a pipeline of their own with the tap loops unrolled (each size costs one more compile).
 */
const PLAIN = { shader: 'conv/conv2d.wgsl', RP: 4, XS: 2048 };
const SUBGROUP = { shader: 'conv/conv2d-subgroup.wgsl', PX: 4, FIXED: ['1x1', '3x3'] };
const DW = { WGX: 8, WGY: 8, RX: 8 }; // depthwise.wgsl

interface ConvCall {
  g: ConvGeometry;
  T: string;
  common: Record<string, number>;
  act: { act: number; act_a: number; act_b: number };
  io: Record<string, GPUBuffer>;
  shape: string;
}

function convCall(op: string, [x, w, b, z]: (GpuTensor | undefined)[], y: GpuTensor, attrs: Attrs): ConvCall {
  const g = convGeometry(op, [x, w, b, z], attrs);
  const common = convUniforms(op, g, attrs, !!b, !!z);
  const act = { act: common.act, act_a: common.act_a, act_b: common.act_b };

  const io = { x: x!.buffer, bias: (b ?? x!).buffer, z: (z ?? x!).buffer, y: y.buffer };
  const shape = `${g.N}x${g.C}x${g.H}x${g.W}->${g.M}x${g.OH}x${g.OW} k${g.kH}x${g.kW} s${g.sh} d${g.dh} g${g.group}`;
  return { g, T: x!.dtype, common, act, io, shape };
}

function encodeDepthwise(rt: KernelContext, op: string, inputs: (GpuTensor | undefined)[], y: GpuTensor, attrs: Attrs) {
  const { g, T, common, io, shape } = convCall(op, inputs, y, attrs);
  const planes = g.N * g.M;
  if (planes > 65535) throw new WgsegError('BAD_SHAPE', `${op}: N*M = ${planes} depthwise planes exceed 65535`);
  rt.dispatch({
    name: `DepthwiseConv[${shape}]`,
    shader: 'conv/depthwise.wgsl',
    defines: { T },
    overrides: { WGX: DW.WGX, WGY: DW.WGY },
    uniforms: { ...common, mult: g.Mg },
    buffers: { ...io, w: inputs[1]!.buffer },
    workgroups: [ceilDiv(g.OW, DW.WGX * DW.RX), ceilDiv(g.OH, DW.WGY), planes],
  });
}

/** The implicit-GEMM kernels: the subgroup one (`sg`) or the portable one. */
function encodeGemm(
  sg: boolean,
  rt: KernelContext,
  op: string,
  inputs: (GpuTensor | undefined)[],
  y: GpuTensor,
  attrs: Attrs,
) {
  const { g, T, common, act, io, shape } = convCall(op, inputs, y, attrs);
  const [, w, b, z] = inputs;
  const kHW = g.kH * g.kW;
  const { MB, Mq } = gemmLayout(sg, g);
  if (!sg && kHW * PLAIN.RP > PLAIN.XS)
    throw new WgsegError('UNSUPPORTED_OP', `${op}: kernel ${g.kH}x${g.kW} has more than ${PLAIN.XS / PLAIN.RP} taps`);
  const WG = sg ? convTuning.wg : Math.min(64, Math.max(PLAIN.RP, 2 ** Math.ceil(Math.log2(Mq))));
  const mtiles = sg ? Mq / (MB / 4) : ceilDiv(Mq, WG);
  if (g.group * mtiles > 65535)
    throw new WgsegError('BAD_SHAPE', `${op}: ${g.group * mtiles} channel tiles exceed 65535`);
  if (w!.packed !== undefined && w!.packed !== packKey(Mq))
    throw new WgsegError(
      'BAD_INPUT',
      `${op}: weights were packed at load as ${w!.packed}, the kernel now wants ${packKey(Mq)} (conv tuning changed after the session was made)`,
    );
  // weights that are not a constant are packed on the GPU, every run
  const wp = w!.packed === undefined ? packWeightsOnGpu(rt, w!, g, Mq) : w!.buffer;
  const P = g.N * g.OH * g.OW;
  const [tx, ty] = sg ? linearGrid(g.N * g.OH * ceilDiv(g.OW, SUBGROUP.PX), WG) : linearGrid(P, PLAIN.RP);
  const ck = sg ? g.Cg : Math.min(g.Cg, Math.floor(PLAIN.XS / (kHW * PLAIN.RP)));
  const fixed = convTuning.fixedSize && SUBGROUP.FIXED.includes(`${g.kH}x${g.kW}`);
  const sgOverrides = {
    WG,
    MB,
    UNIT: g.sw === 1 && g.dw === 1 ? 1 : 0,
    KH: fixed ? g.kH : 0,
    KW: fixed ? g.kW : 0,
    ACT: act.act,
    HAS_BIAS: b ? 1 : 0,
    HAS_Z: z ? 1 : 0,
  };
  rt.dispatch({
    name: `Conv[${shape}]`,
    shader: sg ? SUBGROUP.shader : PLAIN.shader,
    defines: { T },
    overrides: sg ? sgOverrides : { WG, XS: PLAIN.XS },
    uniforms: { ...common, P, Cg: g.Cg, Mg: g.Mg, Mq, ck, mtiles },
    buffers: { ...io, wp },
    workgroups: [tx, ty, g.group * mtiles],
  });
  if (wp !== w!.buffer) rt.pool.release(wp);
}

/**
 * The GEMM kernels' weight layout: vec4 quads of output channels, Mq quads per group (a multiple of
 * MB / 4 for the subgroup kernel, whose MB is 32, or 16 for groups of at most 16 channels).
 */
function gemmLayout(sg: boolean, g: ConvGeometry): { MB: number; Mq: number } {
  const MB = g.Mg > 16 ? 32 : 16;
  return { MB, Mq: sg ? ceilDiv(g.Mg, MB) * (MB / 4) : ceilDiv(g.Mg, 4) };
}

const packKey = (Mq: number) => `conv-gemm Mq=${Mq}`;

/** The subgroup kernel needs subgroups of at least 8 lanes (it shares weights across 8). */
const hasSubgroups = (info: DeviceInfo) => convTuning.subgroups && info.subgroups && info.subgroupMinSize >= 8;

function convKernel(op: 'Conv' | 'FusedConv'): OpKernel {
  const ins = (inputs: (GpuTensor | undefined)[]) => (op === 'Conv' ? inputs.slice(0, 3) : inputs);
  const geometry = (inputs: (TensorInfo | undefined)[], attrs: Attrs) => convGeometry(op, inputs, attrs);
  const gemm = (name: string, sg: boolean): Variant => ({
    name,
    applies(inputs, attrs, info) {
      const g = geometry(inputs, attrs);
      return !isDepthwise(g) && (sg ? hasSubgroups(info) : g.kH * g.kW * PLAIN.RP <= PLAIN.XS);
    },
    prepack(_ctx, index, data, inputs, attrs) {
      if (index !== 1) return undefined;
      const g = geometry(inputs, attrs);
      const { Mq } = gemmLayout(sg, g);
      return { data: packConvWeights(data, g, Mq), dtype: inputs[1]!.dtype, key: packKey(Mq) };
    },
    encode: (rt, inputs, [y], attrs) => encodeGemm(sg, rt, op, ins(inputs), y, attrs),
  });
  const winograd = winogradVariants(op, geometry);
  return withVariants({
    op,
    infer(inputs, attrs) {
      const g = convGeometry(op, inputs, attrs);
      if (op === 'FusedConv') activationUniforms(attrs, op);
      return [{ shape: [g.N, g.M, g.OH, g.OW], dtype: inputs[0]!.dtype }];
    },
    variants: [
      {
        name: 'depthwise',
        applies: (inputs, attrs) => isDepthwise(geometry(inputs, attrs)),
        encode: (rt, inputs, [y], attrs) => encodeDepthwise(rt, op, ins(inputs), y, attrs),
      },
      depthwiseFlat(op, geometry),
      gemm('gemm-subgroup', true),
      // without 8-wide subgroups (SwiftShader's are 4; browsers without the feature) Winograd and
      // the tiled GEMM beat the plain one 2-10x on SwiftShader (bench/conv-variants.ts)
      winograd.find((v) => v.name === 'winograd-direct')!,
      gemmTiledVariant(op, geometry),
      gemm('gemm', false),
      ...winograd.filter((v) => v.name !== 'winograd-direct'),
    ],
  });
}

export const convKernels: OpKernel[] = [convKernel('Conv'), convKernel('FusedConv')];

export { convGeometry, isDepthwise, type ConvGeometry } from './conv-geometry';
export { packConvWeights } from './conv-geometry';
