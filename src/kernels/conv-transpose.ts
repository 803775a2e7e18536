import type { KernelContext } from '../core/op';
import { WgsegError } from '../core/errors';
import { activationUniforms } from './activation';
import { intAttr, intsAttr, strAttr } from '../core/attrs';
import { ceilDiv, linearGrid } from './dispatch';
import type { Attrs } from '../core/attrs';
import type { DeviceInfo, GpuTensor, OpKernel, TensorInfo, Variant } from '../core/op';
import { numel } from '../core/dtype';
import { withVariants } from './variants';

const OP = 'ConvTranspose';
/**
 * Workgroup and register blocks. Portable kernel (conv-transpose.wgsl): PX pixels x MB4 vec4s of
 * output channels per invocation (at most 4 x 3). Measured on lavapipe (bench/conv-transpose-perf.ts),
 * where every buffer load costs about as much as 16-20 FMAs, 4 x 3 was the best of PX 1/2/3/4/8 x
 * MB4 1/2/3/4/6 on the FCN shapes (16 x 4 vs 8x8, 32x2, 8x4, 16x8, 4x16 workgroups: within noise).
 * Subgroup kernel (conv-transpose-subgroup.wgsl, subgroup size >= 8): PX pixels x MB8 groups of 8
 * channels whose weights arrive by subgroupBroadcast; 4 x 3 beat 2 x 3, 3 x 3, 4 x 2, 2 x 2 and was
 * 1.3-1.6x faster than the portable kernel on the FCN shapes (measured alternately, same process).
 * The kernel files read px/maxMb4/maxMb8 (at most 4/3/3, the shaders' array sizes) from here.
 */
const WG = 64,
  MAX_WGX = 16;
/** Tuning switches (tests turn subgroups off to exercise the portable kernel; the bench compares). */
export const convTransposeTuning = { subgroups: true, px: 4, maxMb4: 3, maxMb8: 3 };
const MAX_Z = 65535;

/** One spatial axis: stride, begin pad, dilation, kernel size, output size. */
interface Axis {
  s: number;
  pad: number;
  d: number;
  k: number;
  out: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
function modInverse(a: number, m: number): number {
  for (let i = 0; i < m; i++) if ((a * i) % m === 1 % m) return i;
  return 0;
}

function spatial(a: Attrs, name: string, dflt: number[], len: number, min: number): number[] {
  const v = intsAttr(a, name, dflt, OP);
  if (v.length !== len || v.some((e) => !Number.isInteger(e) || e < min)) {
    throw new WgsegError(
      'BAD_ATTRIBUTE',
      `${OP}: attribute ${name} must be ${len} integers >= ${min}, got [${v.join(',')}]`,
    );
  }
  return v;
}

/** Shapes, pads and output size per the ONNX spec (output_shape and auto_pad compute the pads). */
function geometry(x: TensorInfo | undefined, w: TensorInfo | undefined, b: TensorInfo | undefined, attrs: Attrs) {
  if (!x || !w) throw new WgsegError('BAD_INPUT', `${OP}: needs inputs X and W`);
  if (x.shape.length !== 4) {
    throw new WgsegError(
      'BAD_SHAPE',
      `${OP}: only 1-D and 2-D are supported (X of rank 3 or 4); got X [${x.shape.join(',')}] (${x.shape.length - 2}-D)`,
    );
  }
  if (x.dtype !== 'f32' && x.dtype !== 'f16')
    throw new WgsegError('UNSUPPORTED_DTYPE', `${OP}: X dtype ${x.dtype} (f32 or f16 only)`);
  if (w.dtype !== x.dtype || (b && b.dtype !== x.dtype))
    throw new WgsegError('UNSUPPORTED_DTYPE', `${OP}: W and B must have X's dtype ${x.dtype}`);
  const [N, C, H, W] = x.shape;
  const group = intAttr(attrs, 'group', 1, OP);
  if (!Number.isInteger(group) || group < 1 || C % group !== 0)
    throw new WgsegError('BAD_ATTRIBUTE', `${OP}: group ${group} must be a positive divisor of C=${C}`);
  if (w.shape.length !== 4 || w.shape[0] !== C)
    throw new WgsegError('BAD_SHAPE', `${OP}: W [${w.shape.join(',')}] must be [C=${C}, M/group, kH, kW]`);
  const [, Mg, kH, kW] = w.shape;
  const M = Mg * group;
  if (b && (b.shape.length !== 1 || b.shape[0] !== M))
    throw new WgsegError('BAD_SHAPE', `${OP}: B [${b.shape.join(',')}] must be [M=${M}]`);
  const ks = spatial(attrs, 'kernel_shape', [kH, kW], 2, 1);
  if (ks[0] !== kH || ks[1] !== kW)
    throw new WgsegError('BAD_ATTRIBUTE', `${OP}: kernel_shape [${ks}] does not match W [${w.shape.join(',')}]`);
  const s = spatial(attrs, 'strides', [1, 1], 2, 1);
  const d = spatial(attrs, 'dilations', [1, 1], 2, 1);
  const op = spatial(attrs, 'output_padding', [0, 0], 2, 0);
  const autoPad = strAttr(attrs, 'auto_pad', 'NOTSET', OP);
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad))
    throw new WgsegError('BAD_ATTRIBUTE', `${OP}: auto_pad "${autoPad}" unknown`);
  const full = [0, 1].map((i) => s[i] * ([H, W][i] - 1) + op[i] + (ks[i] - 1) * d[i] + 1);
  let pads: number[];
  let target: number[] | undefined;
  if (attrs.output_shape !== undefined) {
    const os = intsAttr(attrs, 'output_shape', undefined, OP);
    if ((os.length !== 2 && os.length !== 4) || os.some((e) => !Number.isInteger(e) || e < 1)) {
      throw new WgsegError('BAD_ATTRIBUTE', `${OP}: output_shape [${os.join(',')}] must be 2 positive spatial sizes`);
    }
    target = os.slice(-2);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') target = [H * s[0], W * s[1]];
  if (target) {
    // total_padding split per the spec: SAME_UPPER puts the odd unit at the end, otherwise at the beginning
    const total = [0, 1].map((i) => full[i] - target![i]);
    const half = total.map((t) => Math.floor(t / 2));
    pads =
      autoPad === 'SAME_UPPER'
        ? [half[0], half[1], total[0] - half[0], total[1] - half[1]]
        : [total[0] - half[0], total[1] - half[1], half[0], half[1]];
  } else pads = autoPad === 'VALID' ? [0, 0, 0, 0] : spatial(attrs, 'pads', [0, 0, 0, 0], 4, 0);
  const out = [0, 1].map((i) => full[i] - pads[i] - pads[i + 2]);
  if (out[0] < 1 || out[1] < 1)
    throw new WgsegError(
      'BAD_SHAPE',
      `${OP}: output size [${out}] from X [${x.shape.join(',')}], pads [${pads}] is empty`,
    );
  const axes: Axis[] = [0, 1].map((i) => ({ s: s[i], pad: pads[i], d: d[i], k: ks[i], out: out[i] }));
  return { N, C, H, W, M, Mg, group, axes, dtype: x.dtype };
}

/** Uniforms describing one axis' stride phases (see phaseTaps in the shader). */
function axisUniforms(a: Axis): { geo: number[]; tap: number[] } {
  const g = gcd(a.s, a.d);
  return { geo: [a.s, a.pad, a.d, g], tap: [a.s / g, a.d / g, modInverse((a.d / g) % (a.s / g), a.s / g), a.k] };
}

type Inputs = (GpuTensor | undefined)[];
type Geometry = ReturnType<typeof geometry>;

/** The stride-phase kernels (conv-transpose.wgsl, conv-transpose-subgroup.wgsl) on packed weights. */
function encodePhase(sg: boolean, rt: KernelContext, [x, w, b]: Inputs, y: GpuTensor, attrs: Attrs): void {
  const g = geometry(x, w, b, attrs);
  const [ah, aw] = g.axes;
  const { MB4, mblocks } = packLayout(sg, g);
  const Cg = g.C / g.group,
    KK = ah.k * aw.k;
  const name = `${OP}[${x!.shape}]x[${w!.shape}] s${ah.s},${aw.s} ${g.dtype}`;
  if (w!.packed !== undefined && w!.packed !== packKey(MB4))
    throw new WgsegError(
      'BAD_INPUT',
      `${OP}: weights were packed at load as ${w!.packed}, the kernel now wants ${packKey(MB4)} (tuning changed after the session was made)`,
    );
  let wp = w!.buffer;
  if (w!.packed === undefined) {
    // weights that are not a constant: packed here, every run
    const packed = g.group * mblocks * KK * Cg * MB4;
    wp = rt.pool.acquire(packed * 16);
    rt.dispatch({
      name: `${name} pack`,
      shader: 'conv-transpose/pack-weight.wgsl',
      defines: { T: g.dtype },
      uniforms: { dims: [Cg, g.Mg, KK, g.group], blocks: [mblocks, MB4, packed, 0] },
      buffers: { w: w!.buffer, wp },
      workgroups: linearGrid(packed, 256),
    });
  }
  const uniforms = {
    ...commonUniforms(g, attrs, b !== undefined),
    part: [Cg, g.group, mblocks, aw.k],
  };
  const { PX, qx, WGX, WGY, zs, gy } = phaseGrid(sg, g);
  for (let z0 = 0; z0 < zs; z0 += MAX_Z) {
    rt.dispatch({
      name: sg ? `${name} subgroup` : name,
      shader: sg ? 'conv-transpose/conv-transpose-subgroup.wgsl' : 'conv-transpose/conv-transpose.wgsl',
      defines: { T: g.dtype },
      overrides: sg ? { WGX, WGY, PX, MB8: MB4 / 2 } : { WGX, WGY, PX, MB4 },
      uniforms: { ...uniforms, z_base: z0 },
      buffers: { x: x!.buffer, wp, bias: (b ?? x!).buffer, y: y.buffer },
      workgroups: [ceilDiv(qx, WGX), gy, Math.min(MAX_Z, zs - z0)],
    });
  }
  if (wp !== w!.buffer) rt.pool.release(wp);
}

/** Uniforms every kernel shares (conv-transpose/common.wgsl's Params), less `part` and `z_base`. */
function commonUniforms(g: Geometry, attrs: Attrs, bias: boolean) {
  const [ah, aw] = g.axes;
  const h = axisUniforms(ah),
    v = axisUniforms(aw);
  return {
    x_dims: [g.N, g.C, g.H, g.W],
    y_dims: [g.M, ah.out, aw.out, g.Mg],
    geo_h: h.geo,
    geo_w: v.geo,
    tap_h: h.tap,
    tap_w: v.tap,
    has_bias: bias ? 1 : 0,
    ...activationUniforms(attrs, OP),
  };
}

/** Workgroup shape of the phase kernels: 64 lanes, as wide as a sub-grid row needs (the subgroup kernel cannot retire idle lanes). */
function phaseGrid(sg: boolean, g: Geometry) {
  const [ah, aw] = g.axes;
  const { px: PX } = convTransposeTuning;
  const qx = ceilDiv(ceilDiv(aw.out, aw.s), PX);
  const WGX = sg ? Math.min(MAX_WGX, 2 ** Math.ceil(Math.log2(qx))) : MAX_WGX,
    WGY = WG / WGX;
  const zs = g.N * g.group * packLayout(sg, g).mblocks * ah.s;
  return { PX, qx, WGX, WGY, zs, gy: ceilDiv(ceilDiv(ah.out, ah.s), WGY) };
}

/**
 * The direct kernel (conv-transpose-direct.wgsl): one output element per invocation, 64 per
 * workgroup, reading W [C, M/group, kH, kW] as given (no packing, no register block). Its shader is
 * a fraction of the phase kernels' size, so it compiles fast: the cold-start candidate for small
 * layers (on lavapipe a pipeline compiles at its first dispatch).
 */
function encodeDirect(rt: KernelContext, [x, w, b]: Inputs, y: GpuTensor, attrs: Attrs): void {
  const g = geometry(x, w, b, attrs);
  if (w!.packed !== undefined)
    throw new WgsegError('BAD_INPUT', `${OP}: the direct kernel reads unpacked weights, got ${w!.packed}`);
  const total = numel(y.shape);
  rt.dispatch({
    name: `${OP}[${x!.shape}]x[${w!.shape}] s${g.axes[0].s},${g.axes[1].s} ${g.dtype} direct`,
    shader: 'conv-transpose/conv-transpose-direct.wgsl',
    defines: { T: g.dtype },
    overrides: { WG },
    uniforms: {
      ...commonUniforms(g, attrs, b !== undefined),
      part: [g.C / g.group, g.group, total, g.axes[1].k],
      z_base: 0,
    },
    buffers: { x: x!.buffer, w: w!.buffer, bias: (b ?? x!).buffer, y: y.buffer },
    workgroups: linearGrid(total, WG),
  });
}

const subgroupsOk = (info: DeviceInfo) => convTransposeTuning.subgroups && info.subgroups && info.subgroupMinSize >= 8;

/** A phase-kernel variant: the subgroup one needs subgroups of >= 8 lanes; both need their grid within the limits. */
function phaseVariant(sg: boolean): Variant {
  return {
    name: sg ? 'subgroup' : 'portable',
    applies(inputs, attrs, info) {
      if (sg && !subgroupsOk(info)) return false;
      const p = phaseGrid(sg, geometry(inputs[0], inputs[1], inputs[2], attrs));
      return ceilDiv(p.qx, p.WGX) <= MAX_Z && p.gy <= MAX_Z;
    },
    prepack(_rt, index, data, [x, w, b], attrs) {
      if (index !== 1) return undefined;
      const g = geometry(x, w, b, attrs);
      const { MB4, mblocks } = packLayout(sg, g);
      return {
        data: packConvTransposeWeights(data, g.C / g.group, g.Mg, g.axes[0].k * g.axes[1].k, g.group, mblocks, MB4),
        dtype: 'f32',
        key: packKey(MB4),
      };
    },
    encode: (rt, inputs, [y], attrs) => encodePhase(sg, rt, inputs, y, attrs),
  };
}

/**
 * The subgroup kernel's pipeline compiles in 0.4-0.7 s at its first dispatch on lavapipe (register
 * block unrolled; 4 x 3 and 1 x 1 blocks alike), the direct kernel's in ~0.17 s: on a layer the
 * direct kernel runs in well under that (up to 2^26 multiply-adds: ~60 ms for FCN's 21 -> 21 k4 s2 at
 * 64x64), it runs the first run and the subgroup one is made behind it.
 */
const FIRST_RUN_MACS = 2 ** 26;
const subgroupVariant: Variant = {
  ...phaseVariant(true),
  firstRun(inputs, attrs) {
    const g = geometry(inputs[0], inputs[1], inputs[2], attrs);
    const taps = Math.ceil(g.axes[0].k / g.axes[0].s) * Math.ceil(g.axes[1].k / g.axes[1].s);
    const macs = g.N * g.M * g.axes[0].out * g.axes[1].out * (g.C / g.group) * taps;
    return macs <= FIRST_RUN_MACS ? 'direct' : undefined;
  },
};

const variants2d: Variant[] = [
  subgroupVariant,
  phaseVariant(false),
  {
    name: 'direct',
    applies(inputs, attrs) {
      const g = geometry(inputs[0], inputs[1], inputs[2], attrs);
      const total = g.N * g.M * g.axes[0].out * g.axes[1].out;
      return total < 2 ** 32 && Math.ceil(total / WG) <= MAX_Z * MAX_Z;
    },
    encode: (rt, inputs, [y], attrs) => encodeDirect(rt, inputs, y, attrs),
  },
];

// 1-D (X [N, C, L], W [C, M/group, k]) runs as 2-D with H = 1: the same buffers seen as [N, C, 1, L]
// and [C, M/group, 1, k], the spatial attributes given a unit first axis.
const is1d = (inputs: (TensorInfo | undefined)[]) => inputs[0]?.shape.length === 3;
const lift = <T extends TensorInfo>(t: T | undefined): T | undefined =>
  t && t.shape.length === 3 ? { ...t, shape: [t.shape[0], t.shape[1], 1, t.shape[2]] } : t;
const liftInputs = <T extends TensorInfo>(ins: (T | undefined)[]) =>
  is1d(ins) ? [lift(ins[0]), lift(ins[1]), ...ins.slice(2)] : ins;
function liftAttrs(inputs: (TensorInfo | undefined)[], a: Attrs): Attrs {
  if (!is1d(inputs)) return a;
  const one = (name: string, unit: number) => {
    const v = a[name] as number[] | undefined;
    return v === undefined ? {} : { [name]: v.length === 1 ? [unit, v[0]] : v };
  };
  const pads = a.pads as number[] | undefined;
  const os = a.output_shape as number[] | undefined;
  return {
    ...a,
    ...one('kernel_shape', 1),
    ...one('strides', 1),
    ...one('dilations', 1),
    ...one('output_padding', 0),
    ...(pads?.length === 2 ? { pads: [0, pads[0], 0, pads[1]] } : {}),
    ...(os !== undefined ? { output_shape: [1, os[os.length - 1]] } : {}),
  };
}
const variants: Variant[] = variants2d.map((v) => ({
  name: v.name,
  applies: v.applies && ((inputs, attrs, info) => v.applies!(liftInputs(inputs), liftAttrs(inputs, attrs), info)),
  firstRun: v.firstRun && ((inputs, attrs, info) => v.firstRun!(liftInputs(inputs), liftAttrs(inputs, attrs), info)),
  prepack:
    v.prepack &&
    ((rt, index, data, inputs, attrs) => v.prepack!(rt, index, data, liftInputs(inputs), liftAttrs(inputs, attrs))),
  encode: (rt, inputs, [y], attrs, host) =>
    v.encode(rt, liftInputs(inputs), [lift(y)!], liftAttrs(inputs, attrs), host),
}));

/**
 * Variants in default order: today's kernel first (the subgroup one where the device has subgroups
 * of 8, else the portable one), then the direct kernel. The direct one wins cold start on small
 * layers and loses warm (bench/resample-variants.ts); the autotuner picks by measurement.
 */
export const convTransposeKernels: OpKernel[] = [
  withVariants({
    op: OP,
    infer(inputs, attrs) {
      const [x, w, b] = liftInputs(inputs);
      const g = geometry(x, w, b, liftAttrs(inputs, attrs));
      activationUniforms(attrs, OP);
      const spatialOut = is1d(inputs) ? [g.axes[1].out] : [g.axes[0].out, g.axes[1].out];
      return [{ shape: [g.N, g.M, ...spatialOut], dtype: g.dtype }];
    },
    variants,
  }),
];

/** Channel blocking of the packed weights: MB4 vec4s of output channels per block, mblocks blocks per group. */
function packLayout(sg: boolean, g: { Mg: number }): { MB4: number; mblocks: number } {
  const { maxMb4, maxMb8 } = convTransposeTuning;
  const MB4 = sg ? 2 * Math.min(maxMb8, ceilDiv(g.Mg, 8)) : Math.min(maxMb4, ceilDiv(g.Mg, 4));
  return { MB4, mblocks: ceilDiv(g.Mg, 4 * MB4) };
}

const packKey = (MB4: number) => `conv-transpose MB4=${MB4}`;

/**
 * pack-weight.wgsl on the host, for constant weights (once, at load): W [C, Mg, kH, kW] ->
 * f32 wp[(((grp * mblocks + mb) * KK + k) * Cg + c) * MB4 + b] = vec4 of output channels
 * (mb * MB4 + b) * 4 + 0..3 (zero past Mg).
 */
export function packConvTransposeWeights(
  w: ArrayLike<number>,
  Cg: number,
  Mg: number,
  KK: number,
  groups: number,
  mblocks: number,
  MB4: number,
): Float32Array {
  const out = new Float32Array(groups * mblocks * KK * Cg * MB4 * 4);
  for (let grp = 0; grp < groups; grp++)
    for (let c = 0; c < Cg; c++)
      for (let m = 0; m < Mg; m++) {
        const mb = Math.floor(m / (4 * MB4)),
          r = m % (4 * MB4);
        const src = ((grp * Cg + c) * Mg + m) * KK;
        const dst = ((grp * mblocks + mb) * KK * Cg + c) * MB4 * 4 + r;
        for (let k = 0; k < KK; k++) out[dst + k * Cg * MB4 * 4] = w[src + k];
      }
  return out;
}
