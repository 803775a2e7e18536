import { intAttr, intsAttr, strAttr, type Attrs } from '../core/attrs';
import { numel, stridesOf, type DType } from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { GpuTensor, HostTensor, HostValues, KernelContext, OpKernel, OpRecord, TensorInfo } from '../core/op';
import { broadcastShapes, vec8 } from './broadcast';
import { linearGrid } from './dispatch';
import { arg, fail, gatherBy, hostAxis, hostElementwise, ints, make, outShape } from './host-eval';
// Data movement is bitwise: 4-byte dtypes travel as u32, f16 as f16.
const store = (d: DType) => (d === 'f16' ? 'f16' : 'u32');
export const fmt = (s: readonly number[]) => `[${s.join(',')}]`;
export const bad = (op: string, msg: string): never => {
  throw new WgsegError('BAD_SHAPE', `${op}: ${msg}`);
};
const badAttr = (op: string, msg: string): never => {
  throw new WgsegError('BAD_ATTRIBUTE', `${op}: ${msg}`);
};

export function input(op: string, inputs: (TensorInfo | undefined)[], i = 0): TensorInfo {
  return (
    inputs[i] ??
    (() => {
      throw new WgsegError('BAD_INPUT', `${op}: missing input ${i}`);
    })()
  );
}

/** Normalise an axis in [-rank, rank) (or [-rank, rank] with `inclusive`). */
export function axisOf(op: string, axis: number, rank: number, inclusive = false): number {
  const hi = inclusive ? rank : rank - 1;
  if (!Number.isInteger(axis) || axis < -rank || axis > hi) badAttr(op, `axis ${axis} out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

export function axesOf(op: string, axes: number[], rank: number): number[] {
  const out = axes.map((a) => axisOf(op, a, rank));
  if (new Set(out).size !== out.length) badAttr(op, `repeated axis in [${axes.join(',')}]`);
  return out;
}

// ---- the strided index map (shaders/layout/strided.wgsl) ---------------------------------------

/** One output dim of the map: input coordinate r = start + c*step, folded into [0, len). */
interface Dim {
  size: number;
  stride: number;
  start?: number;
  step?: number;
  len?: number;
}
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
    if (last && plain(last) && plain(d) && last.stride === d.stride * d.size)
      out[out.length - 1] = { size: last.size * d.size, stride: d.stride };
    else out.push(d);
  }
  return [out, base];
}

function encodeStrided(
  rt: KernelContext,
  name: string,
  x: GpuTensor,
  y: GpuTensor,
  dims: Dim[],
  mode = 0,
  base = 0,
  constant = 0,
): void {
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
      n,
      rank: dims.length,
      mode,
      base,
      cbits: f16 ? 0 : bits.getUint32(0, true),
      cval: f16 ? constant : 0,
      ...vec8(
        'shape',
        dims.map((d) => d.size),
        1,
      ),
      ...vec8(
        'start',
        dims.map((d) => d.start ?? 0),
      ),
      ...vec8(
        'step',
        dims.map((d) => d.step ?? 1),
      ),
      ...vec8(
        'len',
        dims.map((d) => d.len ?? d.size),
      ),
      ...vec8(
        'stride',
        dims.map((d) => d.stride),
      ),
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
type Plan = (
  x: TensorInfo,
  attrs: Attrs,
  host: HostValues,
) => { shape: number[]; dims: Dim[]; mode?: number; base?: number; constant?: number };
/** Data movement keeps integer values in range; `extra` adds host evaluation and flags. */
function mapped(
  op: string,
  hostInputs: number[] | undefined,
  plan: Plan,
  extra: Pick<OpRecord, 'fold' | 'foldCost' | 'emptyInputOk'> = {},
): OpKernel {
  return {
    op,
    hostInputs,
    keepsRange: true,
    ...extra,
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

const transpose = mapped(
  'Transpose',
  undefined,
  (x, attrs) => {
    const r = x.shape.length;
    const perm = intsAttr(attrs, 'perm', [...Array(r).keys()].reverse(), 'Transpose');
    if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
      badAttr('Transpose', `perm [${perm.join(',')}] is not a permutation of rank ${r}`);
    const dims = permuted(x.shape, perm);
    return { shape: dims.map((d) => d.size), dims };
  },
  {
    fold: (xs, a, n) => {
      const x = arg(n.op, xs, 0),
        r = x.shape.length;
      const perm = (a.perm as number[] | undefined) ?? [...Array(r).keys()].reverse(),
        xst = stridesOf(x.shape);
      if (perm.length !== r || [...perm].sort((p, q) => p - q).some((p, i) => p !== i))
        fail(n.op, `perm [${perm.join(',')}] is not a permutation of the ${r} axes`);
      return gatherBy(
        n.op,
        perm.map((p) => x.shape[p]),
        x,
        x.type,
        (c) => c.reduce((o, v, d) => o + v * xst[perm[d]], 0),
      );
    },
  },
);

const slice = mapped(
  'Slice',
  [1, 2, 3, 4],
  (x, attrs, host) => {
    const r = x.shape.length;
    const opset10 = host[1] !== undefined;
    const starts = opset10 ? host[1]! : intsAttr(attrs, 'starts', undefined, 'Slice');
    const ends =
      (opset10 ? host[2] : intsAttr(attrs, 'ends', undefined, 'Slice')) ?? badAttr('Slice', 'ends are required');
    const axes = axesOf(
      'Slice',
      (opset10 ? host[3] : (attrs.axes as number[] | undefined)) ?? starts.map((_, i) => i),
      r,
    );
    const steps = (opset10 ? host[4] : undefined) ?? starts.map(() => 1);
    if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
      badAttr(
        'Slice',
        `starts/ends/axes/steps lengths ${starts.length}/${ends.length}/${axes.length}/${steps.length} differ`,
      );
    const st = stridesOf(x.shape);
    const dims: Dim[] = x.shape.map((size, d) => ({ size, stride: st[d] }));
    axes.forEach((a, i) => {
      const dim = x.shape[a],
        step = steps[i];
      if (step === 0 || !Number.isFinite(step)) badAttr('Slice', `step ${step} on axis ${a}`);
      let s = starts[i] < 0 ? starts[i] + dim : starts[i];
      let e = ends[i] < 0 ? ends[i] + dim : ends[i];
      [s, e] =
        step > 0
          ? [Math.min(Math.max(s, 0), dim), Math.min(Math.max(e, 0), dim)]
          : [Math.min(Math.max(s, 0), dim - 1), Math.min(Math.max(e, -1), dim - 1)];
      dims[a] = { size: Math.max(0, Math.ceil((e - s) / step)), stride: st[a], start: s, step };
    });
    return { shape: dims.map((d) => d.size), dims };
  },
  {
    foldCost: 'output',
    fold: (xs, a, n) => {
      const x = arg(n.op, xs, 0),
        r = x.shape.length,
        inputs = xs[1] !== undefined;
      const starts = (inputs ? ints(xs[1]) : (a.starts as number[])) ?? fail(n.op, 'starts are required');
      const ends = (inputs ? ints(xs[2]) : (a.ends as number[])) ?? fail(n.op, 'ends are required');
      const axes = ((inputs ? ints(xs[3]) : (a.axes as number[])) ?? starts.map((_, i) => i)).map((v) =>
        hostAxis(n.op, v, r),
      );
      const steps = (inputs ? ints(xs[4]) : undefined) ?? starts.map(() => 1);
      const start = x.shape.map(() => 0),
        step = x.shape.map(() => 1),
        shape = [...x.shape];
      axes.forEach((ax, i) => {
        const dim = x.shape[ax],
          st = steps[i];
        if (!st) fail(n.op, 'step 0');
        let s = starts[i] < 0 ? starts[i] + dim : starts[i],
          e = ends[i] < 0 ? ends[i] + dim : ends[i];
        [s, e] =
          st > 0
            ? [Math.min(Math.max(s, 0), dim), Math.min(Math.max(e, 0), dim)]
            : [Math.min(Math.max(s, 0), dim - 1), Math.min(Math.max(e, -1), dim - 1)];
        (start[ax] = s), (step[ax] = st), (shape[ax] = Math.max(0, Math.ceil((e - s) / st)));
      });
      const xst = stridesOf(x.shape);
      return gatherBy(n.op, shape, x, x.type, (c) => c.reduce((o, v, d) => o + (start[d] + v * step[d]) * xst[d], 0));
    },
  },
);

const pad = mapped(
  'Pad',
  [1, 2, 3],
  (x, attrs, host) => {
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
      const size = dim + pb + pe,
        lo = Math.max(0, -pb),
        len = dim - lo - Math.max(0, -pe);
      if (size < 0 || len < 0) bad('Pad', `pads ${pb},${pe} crop more than dim ${d} of ${fmt(x.shape)}`);
      if (len === 0 && size > 0 && mode !== 'constant')
        bad('Pad', `${mode} padding of an empty dim ${d} of ${fmt(x.shape)}`);
      base += lo * st[d];
      return { size, stride: st[d], start: -Math.max(0, pb), len };
    });
    const constant = host[2]?.[0] ?? (attrs.value as number | undefined) ?? 0;
    return { shape: dims.map((d) => d.size), dims, mode: MODES[mode], base, constant };
  },
  { emptyInputOk: true },
);

const expand = mapped(
  'Expand',
  [1],
  (x, _attrs, host) => {
    const shape = broadcastShapes('Expand', [x.shape, host[1] ?? bad('Expand', 'shape input is required')]);
    const st = stridesOf(x.shape),
      lead = shape.length - x.shape.length;
    const dims = shape.map((size, d) => ({ size, stride: d < lead || x.shape[d - lead] === 1 ? 0 : st[d - lead] }));
    return { shape, dims };
  },
  {
    fold: (xs, _a, n) => {
      const x = arg(n.op, xs, 0),
        to = ints(xs[1]) ?? fail(n.op, 'shape is required');
      if (to.some((d) => !Number.isSafeInteger(d) || d < 0))
        fail(n.op, `shape [${to.join(',')}] has a dim that is not a non-negative integer`);
      const shape = outShape(n.op, broadcastShapes(n.op, [x.shape, to]));
      return hostElementwise(n.op, [x, make(x.type, shape, new Array(numel(shape)).fill(0))], x.type, (v) => v);
    },
  },
);

const tile = mapped('Tile', [1], (x, _attrs, host) => {
  const reps = host[1] ?? bad('Tile', 'repeats input is required');
  if (reps.length !== x.shape.length || reps.some((v) => !Number.isInteger(v) || v < 0))
    bad('Tile', `repeats [${reps.join(',')}] do not fit ${fmt(x.shape)}`);
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
  const dims =
    mode === 'DCR'
      ? permuted([n, b, b, k, h, w], [0, 3, 4, 1, 5, 2])
      : mode === 'CRD'
        ? permuted([n, k, b, b, h, w], [0, 1, 4, 2, 5, 3])
        : badAttr('DepthToSpace', `mode "${mode}" is not DCR or CRD`);
  return { shape: [n, k, h * b, w * b], dims };
});

const spaceToDepth = mapped('SpaceToDepth', undefined, (x, attrs) => {
  const [b, n, c, h, w] = blockSize('SpaceToDepth', x, attrs);
  if (h % b || w % b) bad('SpaceToDepth', `spatial dims ${h}x${w} not divisible by blocksize ${b}`);
  // x as [N, C, H/b, b, W/b, b]; y as [N, b, b, C, H/b, W/b]
  return { shape: [n, c * b * b, h / b, w / b], dims: permuted([n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4]) };
});

// ---- Split -------------------------------------------------------------------------------

/**
 * Sizes of Split's outputs along `axis`: the `split` input (opset 13+) or attribute (11-12), else
 * `num_outputs` chunks of ceil(dim / n) with a smaller last one (opset 18), else as many equal
 * parts as the node has outputs (`__outputs`, set by the importer).
 */
function splitSizes(x: TensorInfo, attrs: Attrs, host: HostValues): { axis: number; sizes: number[] } {
  const axis = axisOf('Split', intAttr(attrs, 'axis', 0, 'Split'), x.shape.length);
  const dim = x.shape[axis];
  const given = host[1] ?? (attrs.split as number[] | undefined);
  if (given) {
    if (given.some((v) => !Number.isInteger(v) || v < 0) || given.reduce((a, b) => a + b, 0) !== dim)
      bad('Split', `split [${given.join(',')}] does not sum to dim ${dim} of axis ${axis} of ${fmt(x.shape)}`);
    return { axis, sizes: given };
  }
  const num = attrs.num_outputs as number | undefined;
  if (num !== undefined) {
    if (!Number.isInteger(num) || num < 1 || num > Math.max(dim, 1))
      badAttr('Split', `num_outputs ${num} for a dim of ${dim}`);
    const chunk = Math.ceil(dim / num);
    return { axis, sizes: Array.from({ length: num }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk))) };
  }
  const n = intAttr(attrs, '__outputs', 1, 'Split');
  if (dim % n) bad('Split', `dim ${dim} of axis ${axis} of ${fmt(x.shape)} does not split into ${n} equal parts`);
  return { axis, sizes: new Array<number>(n).fill(dim / n) };
}

const split: OpKernel = {
  op: 'Split',
  hostInputs: [1],
  keepsRange: true,
  infer(inputs, attrs, host) {
    const x = input('Split', inputs);
    const { axis, sizes } = splitSizes(x, attrs, host);
    return sizes.map((s) => ({ shape: x.shape.map((d, i) => (i === axis ? s : d)), dtype: x.dtype }));
  },
  encode(rt, [x], ys, attrs, host) {
    const { axis, sizes } = splitSizes(x!, attrs, host);
    const st = stridesOf(x!.shape);
    let start = 0;
    sizes.forEach((size, k) => {
      const y = ys[k];
      if (y && numel(y.shape) > 0) {
        const dims = x!.shape.map((d, i) => (i === axis ? { size, stride: st[i], start } : { size: d, stride: st[i] }));
        encodeStrided(rt, 'Split', x!, y, dims);
      }
      start += size;
    });
  },
};

// ---- Concat, Gather ----------------------------------------------------------------------

const concat: OpKernel = {
  op: 'Concat',
  keepsRange: true,
  emptyInputOk: true,
  fold: (xs, a, n) => {
    const ts = xs.filter((x): x is HostTensor => !!x);
    if (!ts.length) fail(n.op, 'needs at least one input');
    const ax = hostAxis(n.op, a.axis as number, ts[0].shape.length);
    const shape = [...ts[0].shape];
    shape[ax] = ts.reduce((s, t) => s + t.shape[ax], 0);
    for (const t of ts)
      if (t.shape.length !== shape.length || t.shape.some((d, i) => i !== ax && d !== shape[i]))
        fail(n.op, `inputs ${ts.map((u) => fmt(u.shape)).join(', ')} do not concatenate on axis ${ax}`);
    outShape(n.op, shape);
    const outer = numel(shape.slice(0, ax)),
      out: number[] = [];
    for (let o = 0; o < outer; o++) {
      for (const t of ts) {
        const block = numel(t.shape.slice(ax));
        for (let i = 0; i < block; i++) out.push(t.data[o * block + i]);
      }
    }
    return make(ts[0].type, shape, out);
  },
  infer(inputs, attrs) {
    const xs = inputs.filter((t): t is TensorInfo => !!t);
    if (!xs.length) throw new WgsegError('BAD_INPUT', 'Concat: needs at least one input');
    const r = xs[0].shape.length;
    const a = axisOf('Concat', intAttr(attrs, 'axis', NaN, 'Concat'), r);
    for (const t of xs) {
      if (t.dtype !== xs[0].dtype)
        throw new WgsegError(
          'UNSUPPORTED_DTYPE',
          `Concat: input dtypes ${xs.map((q) => q.dtype).join(', ')} must match`,
        );
      if (t.shape.length !== r || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i]))
        bad('Concat', `shapes ${xs.map((q) => fmt(q.shape)).join(', ')} differ off axis ${a}`);
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
      const n = numel(x.shape),
        block = x.shape[a] * inner;
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
  keepsRange: true,
  foldCost: 'output',
  fold: (xs, a, n) => {
    const x = arg(n.op, xs, 0),
      idx = arg(n.op, xs, 1);
    const ax = hostAxis(n.op, (a.axis as number) ?? 0, x.shape.length);
    const len = x.shape[ax],
      q = idx.shape.length;
    const shape = [...x.shape.slice(0, ax), ...idx.shape, ...x.shape.slice(ax + 1)];
    const ist = stridesOf(idx.shape),
      xst = stridesOf(x.shape);
    return gatherBy(n.op, shape, x, x.type, (c) => {
      let k = 0;
      for (let d = 0; d < q; d++) k += c[ax + d] * ist[d];
      let j = Number(idx.data[k]);
      if (j < 0) j += len;
      if (j < 0 || j >= len) fail(n.op, `index ${idx.data[k]} out of range for axis of ${len}`);
      let o = j * xst[ax];
      for (let d = 0; d < ax; d++) o += c[d] * xst[d];
      for (let d = ax + q; d < c.length; d++) o += c[d] * xst[d - q + 1];
      return o;
    });
  },
  infer(inputs, attrs) {
    const x = input('Gather', inputs),
      idx = input('Gather', inputs, 1);
    if (idx.dtype !== 'i32' && idx.dtype !== 'u32')
      throw new WgsegError('UNSUPPORTED_DTYPE', `Gather: indices must be i32, got ${idx.dtype}`);
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

export const layoutOps: OpKernel[] = [
  concat,
  slice,
  pad,
  transpose,
  expand,
  gather,
  depthToSpace,
  spaceToDepth,
  tile,
  split,
];
