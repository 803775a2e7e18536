import { WgsegError } from '../core/errors';
import { numel } from '../core/dtype';
import { floatAttr, intAttr, intsAttr, strAttr } from '../core/attrs';
import { ceilDiv, linearGrid } from './dispatch';
import { withVariants } from './variants';
import type { Attrs } from '../core/attrs';
import type { GpuTensor, HostValues, KernelContext, OpKernel, TensorInfo } from '../core/op';

const WG = 64;
const MODES = ['nearest', 'linear', 'cubic'];
const COORDS = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_crop_and_resize',
];
const NEAREST = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];
const KEEP = ['stretch', 'not_larger', 'not_smaller'];

interface Config {
  op: string;
  mode: string;
  coord: string;
  nearest: string;
  a: number;
  exclude: boolean;
  antialias: boolean;
  extrap: number;
}

/** Output shape, per-axis scales (the given ones, or out/in for sizes) and the full roi. */
interface Plan {
  out: number[];
  scales: number[];
  roi: number[];
}

function oneOf(op: string, attrs: Attrs, name: string, dflt: string, allowed: string[]): string {
  const v = strAttr(attrs, name, dflt, op);
  if (!allowed.includes(v))
    throw new WgsegError('BAD_ATTRIBUTE', `${op}: ${name} "${v}" is not one of ${allowed.join(', ')}`);
  return v;
}

function config(op: string, attrs: Attrs): Config {
  if (op === 'Upsample') {
    const mode = oneOf(op, attrs, 'mode', 'nearest', ['nearest', 'linear', 'bilinear']);
    return {
      op,
      mode: mode === 'bilinear' ? 'linear' : mode,
      coord: 'asymmetric',
      nearest: 'floor',
      a: -0.75,
      exclude: false,
      antialias: false,
      extrap: 0,
    };
  }
  const bool = (name: string) => {
    const v = intAttr(attrs, name, 0, op);
    if (v !== 0 && v !== 1) throw new WgsegError('BAD_ATTRIBUTE', `${op}: ${name} must be 0 or 1, got ${v}`);
    return v === 1;
  };
  return {
    op,
    mode: oneOf(op, attrs, 'mode', 'nearest', MODES),
    coord: oneOf(op, attrs, 'coordinate_transformation_mode', 'half_pixel', COORDS),
    nearest: oneOf(op, attrs, 'nearest_mode', 'round_prefer_floor', NEAREST),
    a: floatAttr(attrs, 'cubic_coeff_a', -0.75, op),
    exclude: bool('exclude_outside'),
    antialias: bool('antialias'),
    extrap: floatAttr(attrs, 'extrapolation_value', 0, op),
  };
}

const given = (v: number[] | undefined) => (v && v.length > 0 ? v : undefined);

function plan(op: string, x: TensorInfo, attrs: Attrs, host: HostValues): Plan {
  const shape = x.shape,
    r = shape.length;
  if (r < 2) throw new WgsegError('BAD_SHAPE', `${op}: input must have rank >= 2, got [${shape}]`);
  const full = (vals: number[], axes: number[], fill: (d: number) => number) => {
    const o = shape.map((_, d) => fill(d));
    axes.forEach((d, i) => (o[d] = vals[i]));
    return o;
  };
  let out: number[],
    scales: number[],
    roi = [...shape.map(() => 0), ...shape.map(() => 1)];
  if (op === 'Upsample') {
    const s = given(host[1]) ?? (attrs.scales as number[] | undefined);
    if (!s || s.length !== r)
      throw new WgsegError(
        'BAD_SHAPE',
        `${op}: scales must have one value per input dim (${r}), got ${JSON.stringify(s)}`,
      );
    if (s.some((v) => !(v >= 1))) throw new WgsegError('BAD_ATTRIBUTE', `${op}: scales must be >= 1, got [${s}]`);
    scales = [...s];
    out = shape.map((d, i) => Math.floor(d * scales[i]));
  } else {
    const axes = intsAttr(
      attrs,
      'axes',
      shape.map((_, d) => d),
      op,
    ).map((a) => (a < 0 ? a + r : a));
    if (axes.some((a) => a < 0 || a >= r) || new Set(axes).size !== axes.length)
      throw new WgsegError('BAD_ATTRIBUTE', `${op}: axes [${attrs.axes}] invalid for rank ${r}`);
    const keep = oneOf(op, attrs, 'keep_aspect_ratio_policy', 'stretch', KEEP);
    const s = given(host[2]),
      z = given(host[3]),
      roiIn = given(host[1]);
    if (!s === !z) throw new WgsegError('BAD_ATTRIBUTE', `${op}: exactly one of scales and sizes must be given`);
    const n = (s ?? z)!.length;
    if (n !== axes.length)
      throw new WgsegError(
        'BAD_SHAPE',
        `${op}: ${s ? 'scales' : 'sizes'} has ${n} values for ${axes.length} axes of input [${shape}]`,
      );
    if (roiIn) {
      if (roiIn.length !== 2 * axes.length)
        throw new WgsegError('BAD_SHAPE', `${op}: roi has ${roiIn.length} values, want ${2 * axes.length}`);
      roi = [...full(roiIn.slice(0, n), axes, () => 0), ...full(roiIn.slice(n), axes, () => 1)];
    }
    if (s) {
      if (s.some((v) => !(v > 0))) throw new WgsegError('BAD_ATTRIBUTE', `${op}: scales must be > 0, got [${s}]`);
      scales = full(s, axes, () => 1);
      out = shape.map((d, i) => Math.floor(d * scales[i]));
    } else {
      if (z!.some((v) => !Number.isInteger(v) || v <= 0))
        throw new WgsegError('BAD_ATTRIBUTE', `${op}: sizes must be positive ints, got [${z}]`);
      out = full(z!, axes, (d) => shape[d]);
      scales = out.map((o, d) => o / shape[d]);
      if (keep !== 'stretch') {
        const picked = axes.map((d) => scales[d]);
        const k = keep === 'not_larger' ? Math.min(...picked) : Math.max(...picked);
        scales = shape.map((_, d) => (axes.includes(d) ? k : 1));
        out = shape.map((d, i) => (axes.includes(i) ? Math.floor(k * d + 0.5) : d));
      }
    }
  }
  for (let d = 0; d < r - 2; d++) {
    if (out[d] !== shape[d] || scales[d] !== 1 || roi[d] !== 0 || roi[r + d] !== 1) {
      throw new WgsegError(
        'BAD_SHAPE',
        `${op}: only the two trailing dims can be resized; dim ${d} of [${shape}] would change (scale ${scales[d]}, size ${out[d]})`,
      );
    }
  }
  return { out, scales, roi };
}

/** Input position of output index o along one axis (ONNX coordinate_transformation_mode). */
function source(c: Config, o: number, len: number, outLen: number, scale: number, r0: number, r1: number): number {
  const outF = scale * len;
  switch (c.coord) {
    case 'align_corners':
      return outF === 1 ? 0 : (o * (len - 1)) / (outF - 1);
    case 'asymmetric':
      return o / scale;
    case 'pytorch_half_pixel':
      return outF === 1 ? -0.5 : (o + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric':
      return (len / 2) * (1 - outLen / outF) + (o + 0.5) / scale - 0.5;
    case 'tf_crop_and_resize':
      return (outF === 1 ? ((r1 - r0) * (len - 1)) / 2 : (o * (r1 - r0) * (len - 1)) / (outF - 1)) + r0 * (len - 1);
    default:
      return (o + 0.5) / scale - 0.5;
  }
}

function cubic(a: number, d: number): number {
  const t = Math.abs(d);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  return t < 2 ? ((a * t - 5 * a) * t + 8 * a) * t - 4 * a : 0;
}

/** Taps of one axis: k indices and weights per output index (index -1: extrapolate). */
function axisTable(c: Config, len: number, outLen: number, scale: number, r0: number, r1: number) {
  const s = c.antialias ? Math.min(scale, 1) : 1;
  const half = c.mode === 'cubic' ? 2 : 1;
  const start = c.mode === 'nearest' ? 0 : Math.floor(-half / s) + 1;
  const k = c.mode === 'nearest' ? 1 : 2 - 2 * start;
  const idx = new Int32Array(outLen * k),
    w = new Float32Array(outLen * k);
  for (let o = 0; o < outLen; o++) {
    const x = source(c, o, len, outLen, scale, r0, r1);
    if (c.coord === 'tf_crop_and_resize' && (x < 0 || x > len - 1)) {
      idx[o * k] = -1;
      continue;
    }
    const f = Math.floor(x),
      t = x - f;
    if (c.mode === 'nearest') {
      const up =
        t > 0 &&
        (c.nearest === 'ceil' ||
          (c.nearest === 'round_prefer_ceil' && t >= 0.5) ||
          (c.nearest === 'round_prefer_floor' && t > 0.5));
      idx[o] = Math.min(Math.max(up ? f + 1 : f, 0), len - 1);
      w[o] = 1;
      continue;
    }
    const ws = Array.from({ length: k }, (_, j) => {
      const d = (start + j - t) * s;
      const p = f + start + j;
      if (c.exclude && (p < 0 || p >= len)) return 0;
      return c.mode === 'cubic' ? cubic(c.a, d) : Math.max(0, 1 - Math.abs(d));
    });
    const norm = c.antialias || c.exclude ? ws.reduce((a, b) => a + b, 0) : 1;
    for (let j = 0; j < k; j++) {
      idx[o * k + j] = Math.min(Math.max(f + start + j, 0), len - 1);
      w[o * k + j] = ws[j] / norm;
    }
  }
  return { k, idx, w };
}

/** Tap counts the shader unrolls (its KH/KW overrides); others take the generic path (0). */
const small = (k: number) => ([1, 2, 4].includes(k) ? k : 0);

/** The op's output shape and its row (ty) and column (tx) tap tables. */
function tables(op: 'Resize' | 'Upsample', x: GpuTensor, attrs: Attrs, host: HostValues) {
  const c = config(op, attrs);
  const { out, scales, roi } = plan(op, x, attrs, host);
  const r = out.length,
    [h, w] = x.shape.slice(-2),
    [oh, ow] = out.slice(-2);
  const ty = axisTable(c, h, oh, scales[r - 2], roi[r - 2], roi[2 * r - 2]);
  const tx = axisTable(c, w, ow, scales[r - 1], roi[r - 1], roi[2 * r - 1]);
  return { c, out, h, w, oh, ow, ty, tx };
}

/**
 * Both kernels on the same host tables: per = 1 is resize.wgsl (one output pixel per invocation,
 * every mode), per = 4 is resize-x4.wgsl (4 outputs along x per invocation sharing their input
 * loads; fixed tap counts only, which is every mode without antialias).
 */
function encodeResize(
  per: 1 | 4,
  op: 'Resize' | 'Upsample',
  rt: KernelContext,
  x: GpuTensor,
  y: GpuTensor,
  { c, out, h, w, oh, ow, ty, tx }: ReturnType<typeof tables>,
): void {
  if (per === 4 && (!small(ty.k) || !small(tx.k)))
    throw new WgsegError('BAD_INPUT', `${op}: the x4 kernel needs 1, 2 or 4 taps per axis, got ${ty.k} x ${tx.k}`);
  const ti = rt.upload([...ty.idx, ...tx.idx], [ty.idx.length + tx.idx.length], 'i32');
  const tw = rt.upload([...ty.w, ...tx.w], [ty.w.length + tx.w.length], 'f32');
  const pixels = oh * ow,
    planes = numel(out) / pixels;
  rt.dispatch({
    name: `${op}[${x.shape}->${out}]${per === 4 ? ' x4' : ''}`,
    shader: per === 4 ? 'resize/resize-x4.wgsl' : 'resize/resize.wgsl',
    defines: { T: x.dtype },
    overrides: { WG, KH: small(ty.k), KW: small(tx.k) },
    uniforms: {
      pixels,
      planes,
      in_h: h,
      in_w: w,
      out_w: ow,
      kh: ty.k,
      kw: tx.k,
      xoff: ty.idx.length,
      extrap: c.extrap,
    },
    buffers: { x: x.buffer, tab_i: ti.buffer, tab_w: tw.buffer, y: y.buffer },
    workgroups: linearGrid(per === 4 ? oh * ceilDiv(ow, 4) : pixels, WG),
  });
  rt.release(ti, tw);
}

/**
 * The column taps of each group of 4 outputs as one 4-wide input window: its first column per group
 * and a 4x4 matrix per group (column i: the 4 outputs' weights on input column lo + i, column-major
 * as WGSL's mat4x4). Null where a group's taps do not fit 4 columns (downsampling), the input is
 * narrower than 4, a sample lies outside (tf_crop_and_resize) or the output width is not a multiple of 4.
 */
export function windowTable(
  t: { k: number; idx: Int32Array | number[]; w: Float32Array | number[] },
  len: number,
  outLen: number,
) {
  if (len < 4 || outLen % 4 !== 0) return null;
  const groups = outLen / 4;
  const lo = new Int32Array(groups);
  const m = new Float32Array(groups * 16);
  for (let g = 0; g < groups; g++) {
    let a = Infinity,
      b = -Infinity;
    for (let j = 4 * g * t.k; j < 4 * (g + 1) * t.k; j++) {
      if (t.idx[j] < 0) return null;
      if (t.w[j] === 0) continue;
      a = Math.min(a, t.idx[j]);
      b = Math.max(b, t.idx[j]);
    }
    if (a === Infinity) a = b = 0;
    if (b - a > 3) return null;
    lo[g] = Math.min(a, len - 4);
    for (let o = 0; o < 4; o++)
      for (let j = 0; j < t.k; j++) {
        const at = (4 * g + o) * t.k + j;
        if (t.w[at] !== 0) m[g * 16 + (t.idx[at] - lo[g]) * 4 + o] += t.w[at];
      }
  }
  return { lo, m };
}

/**
 * 'window-x4' (resize-win4.wgsl): 4 outputs per invocation from a 4-column input window; the pixel
 * kernel where the taps do not fit one (windowTable).
 */
function encodeWindow(
  op: 'Resize' | 'Upsample',
  rt: KernelContext,
  x: GpuTensor,
  y: GpuTensor,
  attrs: Attrs,
  host: HostValues,
): void {
  const t = tables(op, x, attrs, host);
  const { out, h, w, oh, ow, ty, tx } = t;
  const win = small(ty.k) && !ty.idx.some((i) => i < 0) ? windowTable(tx, w, ow) : null;
  if (!win) return encodeResize(1, op, rt, x, y, t);
  const ti = rt.upload([...ty.idx, ...win.lo], [ty.idx.length + win.lo.length], 'i32');
  const tw = rt.upload(ty.w, [ty.w.length], 'f32');
  const cw = rt.upload(win.m, [win.m.length], 'f32');
  const groups = (oh * ow) / 4;
  rt.dispatch({
    name: `${op}[${x.shape}->${out}] win4`,
    shader: 'resize/resize-win4.wgsl',
    defines: { T: x.dtype },
    overrides: { WG, KH: ty.k },
    uniforms: { groups, planes: numel(out) / (oh * ow), in_w: w, in_plane: h * w, out_w4: ow / 4, xoff: ty.idx.length },
    buffers: { x: x.buffer, tab_i: ti.buffer, tab_w: tw.buffer, colw: cw.buffer, y: y.buffer },
    workgroups: linearGrid(groups, WG),
  });
  rt.release(ti, tw, cw);
}

/**
 * Variants: 'pixel' (today's kernel, every mode) and 'row-x4' (every mode without antialias, where
 * the tap counts are fixed: 1 nearest, 2 linear, 4 cubic). Both fold their grid into 2-D
 * (linearGrid), so any size the u32 indices hold runs.
 */
function resizeKernel(op: 'Resize' | 'Upsample'): OpKernel {
  return withVariants({
    op,
    hostInputs: op === 'Resize' ? [1, 2, 3] : [1],
    infer([x], attrs, host) {
      if (!x) throw new WgsegError('BAD_INPUT', `${op}: missing input X`);
      if (x.dtype !== 'f32' && x.dtype !== 'f16')
        throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: X must be f32 or f16, got ${x.dtype}`);
      config(op, attrs);
      return [{ shape: plan(op, x, attrs, host).out, dtype: x.dtype }];
    },
    variants: [
      // window-x4 first unless the adapter has 8-wide subgroups (SwiftShader's are 4: resize-x8
      // 93.7/60.6 ms against pixel's 130/196 ms); with them (lavapipe) pixel: window-x4 runs faster
      // there too (19-23 ms against 30) but its pipeline compiles at first dispatch in ~340-520 ms
      // against ~185 ms, and the cold start is what a default is for (bench:peers --variants
      // Resize=..., 2026-12-07). The same proxy as the conv default's (conv.ts hasSubgroups).
      {
        name: 'window-x4',
        applies: (_inputs, attrs) => !config(op, attrs).antialias,
        defaultOn: (info) => !(info.subgroups && info.subgroupMinSize >= 8),
        encode: (rt, [x], [y], attrs, host) => encodeWindow(op, rt, x!, y, attrs, host),
      },
      {
        name: 'pixel',
        encode: (rt, [x], [y], attrs, host) => encodeResize(1, op, rt, x!, y, tables(op, x!, attrs, host)),
      },
      {
        name: 'row-x4',
        applies: (_inputs, attrs) => !config(op, attrs).antialias,
        encode: (rt, [x], [y], attrs, host) => encodeResize(4, op, rt, x!, y, tables(op, x!, attrs, host)),
      },
    ],
  });
}

export const resizeKernels: OpKernel[] = [resizeKernel('Resize'), resizeKernel('Upsample')];
