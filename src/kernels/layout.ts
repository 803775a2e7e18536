import type { KernelContext } from '../core/op';
import { WgsegError } from '../core/errors';
import { BYTES, numel, stridesOf, type DType } from '../core/dtype';
import type { GpuTensor } from '../core/op';
import { intAttr, intsAttr, strAttr } from '../core/attrs';
import { linearGrid } from './dispatch';
import { broadcastShapes, vec8 } from './elementwise';
import type { Attrs } from '../core/attrs';
import type { HostValues, OpKernel, TensorInfo } from '../core/op';

// Data movement is bitwise: 4-byte dtypes travel as u32, f16 as f16.
const store = (d: DType) => (d === 'f16' ? 'f16' : 'u32');
const fmt = (s: readonly number[]) => `[${s.join(',')}]`;
const bad = (op: string, msg: string): never => {
  throw new WgsegError('BAD_SHAPE', `${op}: ${msg}`);
};
const badAttr = (op: string, msg: string): never => {
  throw new WgsegError('BAD_ATTRIBUTE', `${op}: ${msg}`);
};

function input(op: string, inputs: (TensorInfo | undefined)[], i = 0): TensorInfo {
  return inputs[i] ?? (() => { throw new WgsegError('BAD_INPUT', `${op}: missing input ${i}`); })();
}

/** Normalise an axis in [-rank, rank) (or [-rank, rank] with `inclusive`). */
function axisOf(op: string, axis: number, rank: number, inclusive = false): number {
  const hi = inclusive ? rank : rank - 1;
  if (!Number.isInteger(axis) || axis < -rank || axis > hi) badAttr(op, `axis ${axis} out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

function axesOf(op: string, axes: number[], rank: number): number[] {
  const out = axes.map((a) => axisOf(op, a, rank));
  if (new Set(out).size !== out.length) badAttr(op, `repeated axis in [${axes.join(',')}]`);
  return out;
}

// ---- the strided index map (shaders/layout/strided.wgsl) ---------------------------------------

/** One output dim of the map: input coordinate r = start + c*step, folded into [0, len). */
interface Dim { size: number; stride: number; start?: number; step?: number; len?: number }
const MODES: Record<string, number> = { constant: 1, reflect: 2, edge: 3, wrap: 4 };

/** Without a pad mode: size-1 dims folded into the base, contiguous runs of dims merged. */
function simplify(dims: Dim[], base: number): [Dim[], number] {
  const out: Dim[] = [];
  for (const d of dims) {
    if (d.size === 1) {
      base += (d.start ?? 0) * d.stride;
      continue;
    }
    const last = out[out.length - 1];
    const plain = (q: Dim) => (q.start ?? 0) === 0 && (q.step ?? 1) === 1;
    if (last && plain(last) && plain(d) && last.stride === d.stride * d.size) out[out.length - 1] = { size: last.size * d.size, stride: d.stride };
    else out.push(d);
  }
  return [out, base];
}

function encodeStrided(rt: KernelContext, name: string, x: GpuTensor, y: GpuTensor, dims: Dim[], mode = 0, base = 0, constant = 0): void {
  if (mode === 0) [dims, base] = simplify(dims, base);
  if (dims.length > 8) bad(name, `rank ${dims.length} exceeds 8`);
  const n = numel(y.shape);
  const f16 = y.dtype === 'f16';
  const bits = new DataView(new ArrayBuffer(4));
  if (y.dtype === 'f32') bits.setFloat32(0, constant, true);
  else bits.setUint32(0, y.dtype === 'i32' ? constant | 0 : constant >>> 0, true);
  rt.dispatch({
    name: `${name}${fmt(x.shape)}->${fmt(y.shape)}`,
    shader: 'layout/strided.wgsl',
    defines: { T: store(y.dtype) },
    uniforms: {
      n, rank: dims.length, mode, base, cbits: f16 ? 0 : bits.getUint32(0, true), cval: f16 ? constant : 0,
      ...vec8('shape', dims.map((d) => d.size), 1),
      ...vec8('start', dims.map((d) => d.start ?? 0)),
      ...vec8('step', dims.map((d) => d.step ?? 1)),
      ...vec8('len', dims.map((d) => d.len ?? d.size)),
      ...vec8('stride', dims.map((d) => d.stride)),
    },
    buffers: { x: x.buffer, y: y.buffer },
    workgroups: linearGrid(n, 256),
  });
}

/** Dims of `view` (a reshape of the input) permuted by `perm`. */
function permuted(view: number[], perm: number[]): Dim[] {
  const st = stridesOf(view);
  return perm.map((p) => ({ size: view[p], stride: st[p] }));
}

/** A kernel whose output is one strided map of input 0. */
function mapped(op: string, hostInputs: number[] | undefined, plan: (x: TensorInfo, attrs: Attrs, host: HostValues) => { shape: number[]; dims: Dim[]; mode?: number; base?: number; constant?: number }): OpKernel {
  return {
    op,
    hostInputs,
    infer: (inputs, attrs, host) => {
      const x = input(op, inputs);
      return [{ shape: plan(x, attrs, host).shape, dtype: x.dtype }];
    },
    encode(rt, [x], [y], attrs, host) {
      const p = plan(x!, attrs, host);
      encodeStrided(rt, op, x!, y, p.dims, p.mode, p.base, p.constant);
    },
  };
}

const transpose = mapped('Transpose', undefined, (x, attrs) => {
  const r = x.shape.length;
  const perm = intsAttr(attrs, 'perm', [...Array(r).keys()].reverse(), 'Transpose');
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) badAttr('Transpose', `perm [${perm.join(',')}] is not a permutation of rank ${r}`);
  const dims = permuted(x.shape, perm);
  return { shape: dims.map((d) => d.size), dims };
});

const slice = mapped('Slice', [1, 2, 3, 4], (x, attrs, host) => {
  const r = x.shape.length;
  const opset10 = host[1] !== undefined;
  const starts = opset10 ? host[1]! : intsAttr(attrs, 'starts', undefined, 'Slice');
  const ends = (opset10 ? host[2] : intsAttr(attrs, 'ends', undefined, 'Slice')) ?? badAttr('Slice', 'ends are required');
  const axes = axesOf('Slice', (opset10 ? host[3] : (attrs.axes as number[] | undefined)) ?? starts.map((_, i) => i), r);
  const steps = (opset10 ? host[4] : undefined) ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) badAttr('Slice', `starts/ends/axes/steps lengths ${starts.length}/${ends.length}/${axes.length}/${steps.length} differ`);
  const st = stridesOf(x.shape);
  const dims: Dim[] = x.shape.map((size, d) => ({ size, stride: st[d] }));
  axes.forEach((a, i) => {
    const dim = x.shape[a], step = steps[i];
    if (step === 0 || !Number.isFinite(step)) badAttr('Slice', `step ${step} on axis ${a}`);
    let s = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    [s, e] = step > 0 ? [Math.min(Math.max(s, 0), dim), Math.min(Math.max(e, 0), dim)] : [Math.min(Math.max(s, 0), dim - 1), Math.min(Math.max(e, -1), dim - 1)];
    dims[a] = { size: Math.max(0, Math.ceil((e - s) / step)), stride: st[a], start: s, step };
  });
  return { shape: dims.map((d) => d.size), dims };
});

const pad = mapped('Pad', [1, 2, 3], (x, attrs, host) => {
  const r = x.shape.length;
  const mode = strAttr(attrs, 'mode', 'constant', 'Pad');
  if (!MODES[mode]) badAttr('Pad', `mode "${mode}" is not constant/reflect/edge/wrap`);
  const raw = host[1] ?? intsAttr(attrs, 'pads', undefined, 'Pad');
  const axes = axesOf('Pad', host[3] ?? [...Array(r).keys()], r);
  if (raw.length !== 2 * axes.length) badAttr('Pad', `pads has ${raw.length} values; expected ${2 * axes.length}`);
  const pads = new Array<number>(2 * r).fill(0);
  axes.forEach((a, i) => ((pads[a] = raw[i]), (pads[a + r] = raw[i + axes.length])));
  const st = stridesOf(x.shape);
  let base = 0;
  // negative pads crop: the window [lo, dim - crop_end) of the input is what gets padded
  const dims = x.shape.map((dim, d) => {
    const [pb, pe] = [pads[d], pads[d + r]];
    const size = dim + pb + pe, lo = Math.max(0, -pb), len = dim - lo - Math.max(0, -pe);
    if (size < 0 || len < 0) bad('Pad', `pads ${pb},${pe} crop more than dim ${d} of ${fmt(x.shape)}`);
    if (len === 0 && size > 0 && mode !== 'constant') bad('Pad', `${mode} padding of an empty dim ${d} of ${fmt(x.shape)}`);
    base += lo * st[d];
    return { size, stride: st[d], start: -Math.max(0, pb), len };
  });
  const constant = host[2]?.[0] ?? (attrs.value as number | undefined) ?? 0;
  return { shape: dims.map((d) => d.size), dims, mode: MODES[mode], base, constant };
});

const expand = mapped('Expand', [1], (x, _attrs, host) => {
  const shape = broadcastShapes('Expand', [x.shape, host[1] ?? bad('Expand', 'shape input is required')]);
  const st = stridesOf(x.shape), lead = shape.length - x.shape.length;
  const dims = shape.map((size, d) => ({ size, stride: d < lead || x.shape[d - lead] === 1 ? 0 : st[d - lead] }));
  return { shape, dims };
});

const tile = mapped('Tile', [1], (x, _attrs, host) => {
  const reps = host[1] ?? bad('Tile', 'repeats input is required');
  if (reps.length !== x.shape.length || reps.some((v) => !Number.isInteger(v) || v < 0)) bad('Tile', `repeats [${reps.join(',')}] do not fit ${fmt(x.shape)}`);
  const st = stridesOf(x.shape);
  const dims = x.shape.map((dim, d) => ({ size: dim * reps[d], stride: st[d], len: dim }));
  return { shape: dims.map((d) => d.size), dims, mode: MODES.wrap };
});

function blockSize(op: string, x: TensorInfo, attrs: Attrs): number[] {
  const b = intAttr(attrs, 'blocksize', NaN, op);
  if (!Number.isInteger(b) || b < 1) badAttr(op, `blocksize must be a positive integer, got ${attrs.blocksize}`);
  if (x.shape.length !== 4) bad(op, `input must be 4-D NCHW, got ${fmt(x.shape)}`);
  return [b, ...x.shape];
}

const depthToSpace = mapped('DepthToSpace', undefined, (x, attrs) => {
  const [b, n, c, h, w] = blockSize('DepthToSpace', x, attrs);
  if (c % (b * b)) bad('DepthToSpace', `channels ${c} not divisible by blocksize^2 = ${b * b}`);
  const mode = strAttr(attrs, 'mode', 'DCR', 'DepthToSpace');
  const k = c / (b * b);
  // x as [N, b, b, C', H, W] (DCR) or [N, C', b, b, H, W] (CRD); y as [N, C', H, b, W, b]
  const dims = mode === 'DCR' ? permuted([n, b, b, k, h, w], [0, 3, 4, 1, 5, 2]) : mode === 'CRD' ? permuted([n, k, b, b, h, w], [0, 1, 4, 2, 5, 3]) : badAttr('DepthToSpace', `mode "${mode}" is not DCR or CRD`);
  return { shape: [n, k, h * b, w * b], dims };
});

const spaceToDepth = mapped('SpaceToDepth', undefined, (x, attrs) => {
  const [b, n, c, h, w] = blockSize('SpaceToDepth', x, attrs);
  if (h % b || w % b) bad('SpaceToDepth', `spatial dims ${h}x${w} not divisible by blocksize ${b}`);
  // x as [N, C, H/b, b, W/b, b]; y as [N, b, b, C, H/b, W/b]
  return { shape: [n, c * b * b, h / b, w / b], dims: permuted([n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4]) };
});

// ---- views: Reshape, Flatten, Squeeze, Unsqueeze -----------------------------------------------

function view(op: string, hostInputs: number[] | undefined, shapeOf: (x: TensorInfo, attrs: Attrs, host: HostValues) => number[]): OpKernel {
  return {
    op,
    hostInputs,
    view: true,
    infer: (inputs, attrs, host) => {
      const x = input(op, inputs);
      return [{ shape: shapeOf(x, attrs, host), dtype: x.dtype }];
    },
    encode() {},
  };
}

const reshape = view('Reshape', [1], (x, attrs, host) => {
  const spec = host[1] ?? (attrs.shape as number[] | undefined) ?? bad('Reshape', 'shape input is required');
  const allowZero = intAttr(attrs, 'allowzero', 0, 'Reshape') === 1;
  if (allowZero && spec.includes(0) && spec.includes(-1)) bad('Reshape', `allowzero=1 forbids 0 and -1 together in [${spec.join(',')}]`);
  const shape = spec.map((v, i) => (v === 0 && !allowZero ? (x.shape[i] ?? bad('Reshape', `0 at index ${i} has no input dim to copy`)) : v));
  const infer = shape.filter((v) => v === -1).length;
  if (infer > 1 || shape.some((v) => v < -1 || !Number.isInteger(v))) bad('Reshape', `invalid shape [${spec.join(',')}]`);
  const known = shape.reduce((p, v) => (v === -1 ? p : p * v), 1);
  const total = numel(x.shape);
  if (infer) {
    if (known === 0 || total % known) bad('Reshape', `cannot infer -1 reshaping ${fmt(x.shape)} to [${spec.join(',')}]`);
    shape[shape.indexOf(-1)] = total / known;
  } else if (known !== total) bad('Reshape', `${fmt(x.shape)} (${total} elements) cannot become [${spec.join(',')}]`);
  return shape;
});

const flatten = view('Flatten', undefined, (x, attrs) => {
  const a = axisOf('Flatten', intAttr(attrs, 'axis', 1, 'Flatten'), x.shape.length, true);
  return [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))];
});

const squeeze = view('Squeeze', [1], (x, attrs, host) => {
  const given = host[1] ?? (attrs.axes as number[] | undefined);
  const axes = given ? axesOf('Squeeze', given, x.shape.length) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (x.shape[a] !== 1) bad('Squeeze', `dim ${a} of ${fmt(x.shape)} is not 1`);
  return x.shape.filter((_, i) => !axes.includes(i));
});

const unsqueeze = view('Unsqueeze', [1], (x, attrs, host) => {
  const given = host[1] ?? intsAttr(attrs, 'axes', undefined, 'Unsqueeze');
  const r = x.shape.length + given.length;
  const axes = axesOf('Unsqueeze', given, r);
  const rest = [...x.shape];
  return Array.from({ length: r }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!));
});

// ---- Concat, Gather, Cast ----------------------------------------------------------------------

const concat: OpKernel = {
  op: 'Concat',
  infer(inputs, attrs) {
    const xs = inputs.filter((t): t is TensorInfo => !!t);
    if (!xs.length) throw new WgsegError('BAD_INPUT', 'Concat: needs at least one input');
    const r = xs[0].shape.length;
    const a = axisOf('Concat', intAttr(attrs, 'axis', NaN, 'Concat'), r);
    for (const t of xs) {
      if (t.dtype !== xs[0].dtype) throw new WgsegError('UNSUPPORTED_DTYPE', `Concat: input dtypes ${xs.map((q) => q.dtype).join(', ')} must match`);
      if (t.shape.length !== r || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) bad('Concat', `shapes ${xs.map((q) => fmt(q.shape)).join(', ')} differ off axis ${a}`);
    }
    const shape = [...xs[0].shape];
    shape[a] = xs.reduce((s, t) => s + t.shape[a], 0);
    return [{ shape, dtype: xs[0].dtype }];
  },
  encode(rt, inputs, [y], attrs) {
    const a = axisOf('Concat', attrs.axis as number, y.shape.length);
    const inner = numel(y.shape.slice(a + 1));
    let offset = 0;
    for (const x of inputs) {
      if (!x) continue;
      const n = numel(x.shape), block = x.shape[a] * inner;
      if (n > 0) {
        rt.dispatch({
          name: `Concat${fmt(x.shape)}->${fmt(y.shape)}`,
          shader: 'layout/concat.wgsl',
          defines: { T: store(y.dtype) },
          uniforms: { n, block, out_block: y.shape[a] * inner, offset },
          buffers: { x: x.buffer, y: y.buffer },
          workgroups: linearGrid(n, 256),
        });
      }
      offset += block;
    }
  },
};

const gather: OpKernel = {
  op: 'Gather',
  infer(inputs, attrs) {
    const x = input('Gather', inputs), idx = input('Gather', inputs, 1);
    if (idx.dtype !== 'i32' && idx.dtype !== 'u32') throw new WgsegError('UNSUPPORTED_DTYPE', `Gather: indices must be i32, got ${idx.dtype}`);
    const a = axisOf('Gather', intAttr(attrs, 'axis', 0, 'Gather'), x.shape.length);
    return [{ shape: [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)], dtype: x.dtype }];
  },
  encode(rt, [x, idx], [y], attrs) {
    const a = axisOf('Gather', intAttr(attrs, 'axis', 0, 'Gather'), x!.shape.length);
    const n = numel(y.shape);
    rt.dispatch({
      name: `Gather${fmt(x!.shape)}->${fmt(y.shape)}`,
      shader: 'layout/gather.wgsl',
      defines: { T: store(y.dtype) },
      uniforms: { n, inner: numel(x!.shape.slice(a + 1)), count: numel(idx!.shape), axis_len: x!.shape[a] },
      buffers: { x: x!.buffer, indices: idx!.buffer, y: y.buffer },
      workgroups: linearGrid(n, 256),
    });
  },
};

/** ONNX TensorProto.DataType -> engine dtype: every integer type is stored in i32, bool as u32 0/1. */
const CAST_TO: Record<number, DType> = { 1: 'f32', 11: 'f32', 10: 'f16', 2: 'i32', 3: 'i32', 4: 'i32', 5: 'i32', 6: 'i32', 7: 'i32', 12: 'i32', 13: 'i32', 9: 'u32' };
/** Integer targets: [bits, signed] (64-bit types live in 32 bits). */
const CAST_INT: Record<number, [number, boolean]> = { 2: [8, false], 3: [8, true], 4: [16, false], 5: [16, true], 6: [32, true], 7: [32, true], 12: [32, false], 13: [32, false] };

/** cast.wgsl's mode and bits for target `to`. */
function castMode(to: number): { mode: number; bits: number } {
  if (to === 9) return { mode: 1, bits: 32 };
  const int = CAST_INT[to];
  return int ? { mode: int[1] ? 2 : 3, bits: int[0] } : { mode: 0, bits: 32 };
}

const cast: OpKernel = {
  op: 'Cast',
  infer(inputs, attrs) {
    const x = input('Cast', inputs);
    const to = intAttr(attrs, 'to', NaN, 'Cast');
    const dtype = CAST_TO[to] ?? (() => { throw new WgsegError('UNSUPPORTED_DTYPE', `Cast: target type ${to} is not supported`); })();
    return [{ shape: [...x.shape], dtype }];
  },
  encode(rt, [x], [y], attrs) {
    const { mode, bits } = castMode(attrs.to as number);
    // same storage and nothing to narrow: a copy (i32 <-> 32-bit targets keep the bits)
    if (x!.dtype === y.dtype && mode !== 1 && (mode === 0 || bits === 32)) return rt.copy(x!.buffer, y.buffer, numel(y.shape) * BYTES[y.dtype]);
    if ((x!.dtype === 'f16' || y.dtype === 'f16') && !rt.info.f16) throw new WgsegError('UNSUPPORTED_DTYPE', 'Cast: this adapter has no shader-f16');
    const n = numel(y.shape);
    rt.dispatch({
      name: `Cast[${n}]${x!.dtype}->${y.dtype}`,
      shader: 'layout/cast.wgsl',
      defines: { T: x!.dtype, O: y.dtype },
      uniforms: { n, mode, bits },
      buffers: { x: x!.buffer, y: y.buffer },
      workgroups: linearGrid(n, 256),
    });
  },
};

const CAST_CODE: Record<DType, number> = { f32: 1, f16: 10, i32: 6, u32: 9 };

/**
 * CastLike: Cast to the type of input 1 (only its type is used): `to` when the graph layer sets it
 * from input 1's element type (narrow integers wrap), else from input 1's storage.
 */
const castLike: OpKernel = {
  op: 'CastLike',
  infer(inputs) {
    const x = input('CastLike', inputs);
    if (!inputs[1]) throw new WgsegError('BAD_INPUT', 'CastLike: missing input 1 (target_type)');
    return [{ shape: [...x.shape], dtype: inputs[1].dtype }];
  },
  encode(rt, [x], [y], attrs) {
    cast.encode(rt, [x], [y], { to: (attrs.to as number | undefined) ?? CAST_CODE[y.dtype] }, []);
  },
};

export const layoutKernels: OpKernel[] = [
  concat, slice, pad, transpose, reshape, flatten, squeeze, unsqueeze, expand, gather, depthToSpace, spaceToDepth, tile, cast, castLike,
];
