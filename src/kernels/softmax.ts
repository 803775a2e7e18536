import type { KernelContext } from '../core/op';
import { WgsegError } from '../core/errors';
import { stridesOf, type DType } from '../core/dtype';
import type { GpuTensor } from '../core/op';
import { intAttr, intsAttr } from '../core/attrs';
import { linearGrid } from './dispatch';
import type { Attrs } from '../core/attrs';
import type { HostValues, OpKernel, TensorInfo, Variant } from '../core/op';
import { withVariants } from './variants';

// Softmax, LogSoftmax, ArgMax/ArgMin and the Reduce* ops: one geometry (kept dims x reduced dims,
// shaders/reduce/geometry.wgsl). Variants of Softmax/LogSoftmax and Reduce*: 'split' (one workgroup
// per output for long reductions, else one lane) and 'segmented' (L lanes per output, several
// outputs per workgroup; Softmax with an online max-and-sum).

const MAX_RANK = 8;
const FLOAT: DType[] = ['f32', 'f16'];

/** Uniforms splitting a contiguous tensor into kept and reduced dims (size-1 dims dropped, runs merged). */
export function splitGeometry(shape: number[], reduced: Set<number>) {
  const strides = stridesOf(shape);
  const lists: Record<'k' | 'r', [number, number][]> = { k: [], r: [] };
  let prev: 'k' | 'r' | null = null;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const kind = reduced.has(d) ? 'r' : 'k';
    const list = lists[kind];
    if (prev === kind) (list[list.length - 1][0] *= shape[d]), (list[list.length - 1][1] = strides[d]);
    else list.push([shape[d], strides[d]]);
    prev = kind;
  }
  const pack = (l: [number, number][], i: 0 | 1) =>
    Array.from({ length: MAX_RANK }, (_, d) => l[d]?.[i] ?? (i === 0 ? 1 : 0));
  const [ks, kt, rs, rt] = [pack(lists.k, 0), pack(lists.k, 1), pack(lists.r, 0), pack(lists.r, 1)];
  const size = (l: [number, number][]) => l.reduce((a, [s]) => a * s, 1);
  return {
    kshape0: ks.slice(0, 4),
    kshape1: ks.slice(4),
    kstride0: kt.slice(0, 4),
    kstride1: kt.slice(4),
    rshape0: rs.slice(0, 4),
    rshape1: rs.slice(4),
    rstride0: rt.slice(0, 4),
    rstride1: rt.slice(4),
    nk: lists.k.length,
    nr: lists.r.length,
    n_out: size(lists.k),
    r_len: size(lists.r),
  };
}

/** Dispatch of a split-geometry shader: a workgroup per output when rows are long, else a lane each. */
export function dispatchSplit(
  rt: KernelContext,
  name: string,
  shader: string,
  x: GpuTensor,
  y: GpuTensor,
  reduced: Set<number>,
  extra: Record<string, number>,
): void {
  const g = splitGeometry(x.shape, reduced);
  const wide = g.r_len > 256 || (g.r_len > 16 && g.n_out < 4096);
  rt.dispatch({
    name: `${name}[${x.shape.join('x')}]`,
    shader,
    entry: wide ? 'main' : 'serial',
    defines: { T: x.dtype },
    overrides: { WG: wide ? 128 : 64 },
    uniforms: { ...g, ...extra },
    buffers: { x: x.buffer, y: y.buffer },
    workgroups: wide ? linearGrid(g.n_out, 1) : linearGrid(g.n_out, 64),
  });
}

/** Workgroup size of the segmented entry points; lanes per row at most SEG_WG / 2 (two rows or more per workgroup). */
const SEG_WG = 64;

/**
 * Lanes per row: about PER_LANE elements per lane, a power of two from 1 (rows of up to 32: no tree,
 * a lane per row) to SEG_WG / 2. Measured on lavapipe with 4 to 64 per lane: 32 was best or near
 * it for GlobalAveragePool 960x8x8 (0.26 ms vs 0.66 ms at 8), ReduceMean [512, 2048] and Softmax.
 */
const PER_LANE = 32;
export function segmentLanes(rLen: number): number {
  return Math.min(SEG_WG / 2, 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(rLen / PER_LANE)))));
}

/** Dispatch of a shader's `segmented` entry: segmentLanes(r_len) lanes per output, SEG_WG / lanes outputs per workgroup. */
export function dispatchSegmented(
  rt: KernelContext,
  name: string,
  shader: string,
  x: GpuTensor,
  y: GpuTensor,
  reduced: Set<number>,
  extra: Record<string, number>,
): void {
  const g = splitGeometry(x.shape, reduced);
  const L = segmentLanes(g.r_len);
  rt.dispatch({
    name: `${name}Segmented[${x.shape.join('x')}]`,
    shader,
    entry: 'segmented',
    defines: { T: x.dtype },
    overrides: { WG: SEG_WG, L },
    uniforms: { ...g, ...extra },
    buffers: { x: x.buffer, y: y.buffer },
    workgroups: linearGrid(g.n_out, SEG_WG / L),
  });
}

/** The two variants of a split-geometry op: today's 'split' first (the default), then 'segmented'. */
function splitVariants(
  op: string,
  shader: string,
  reduced: (x: TensorInfo, attrs: Attrs, host: HostValues) => Set<number>,
  extra: Record<string, number>,
): Variant[] {
  return [
    {
      name: 'split',
      encode: (rt, [x], [y], attrs, host) => dispatchSplit(rt, op, shader, x!, y, reduced(x!, attrs, host), extra),
    },
    {
      name: 'segmented',
      encode: (rt, [x], [y], attrs, host) => dispatchSegmented(rt, op, shader, x!, y, reduced(x!, attrs, host), extra),
    },
  ];
}

function input(op: string, inputs: (TensorInfo | undefined)[], dtypes: DType[]): TensorInfo {
  const x = inputs[0];
  if (!x) throw new WgsegError('BAD_INPUT', `${op}: missing input 0`);
  if (x.shape.length > MAX_RANK)
    throw new WgsegError('BAD_SHAPE', `${op}: rank ${x.shape.length} of [${x.shape.join(',')}] exceeds ${MAX_RANK}`);
  if (!dtypes.includes(x.dtype))
    throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: input dtype ${x.dtype} not supported (${dtypes.join('/')})`);
  return x;
}

function normAxis(op: string, name: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new WgsegError('BAD_ATTRIBUTE', `${op}: ${name} ${axis} out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Softmax/LogSoftmax: opset >= 13 normalises along `axis` (default -1); older opsets flatten from `axis` (default 1). */
function softmaxAxes(op: string, shape: number[], attrs: Attrs): Set<number> {
  const opset = intAttr(attrs, '__opset', intAttr(attrs, 'opset', 13, op), op);
  const axis = normAxis(op, 'axis', intAttr(attrs, 'axis', opset >= 13 ? -1 : 1, op), shape.length);
  const dims = opset >= 13 ? [axis] : shape.map((_, d) => d).filter((d) => d >= axis);
  return new Set(dims);
}

function softmax(op: 'Softmax' | 'LogSoftmax'): OpKernel {
  return withVariants({
    op,
    infer(inputs, attrs) {
      const x = input(op, inputs, FLOAT);
      softmaxAxes(op, x.shape, attrs);
      return [{ shape: [...x.shape], dtype: x.dtype }];
    },
    variants: splitVariants(op, 'softmax/softmax.wgsl', (x, attrs) => softmaxAxes(op, x.shape, attrs), {
      log_out: op === 'LogSoftmax' ? 1 : 0,
    }),
  });
}

function arg(op: 'ArgMax' | 'ArgMin'): OpKernel {
  const axisOf = (x: TensorInfo, attrs: Attrs) => normAxis(op, 'axis', intAttr(attrs, 'axis', 0, op), x.shape.length);
  return {
    op,
    infer(inputs, attrs) {
      const x = input(op, inputs, ['f32', 'f16', 'i32', 'u32']);
      const axis = axisOf(x, attrs);
      const keep = intAttr(attrs, 'keepdims', 1, op) !== 0;
      if (x.shape[axis] === 0)
        throw new WgsegError('BAD_SHAPE', `${op}: axis ${axis} of [${x.shape.join(',')}] is empty`);
      const shape = keep ? x.shape.map((s, d) => (d === axis ? 1 : s)) : x.shape.filter((_, d) => d !== axis);
      return [{ shape, dtype: 'i32' }];
    },
    encode(rt, [x], [y], attrs) {
      const extra = { is_min: op === 'ArgMin' ? 1 : 0, last: intAttr(attrs, 'select_last_index', 0, op) !== 0 ? 1 : 0 };
      dispatchSplit(rt, op, 'reduce/arg.wgsl', x!, y, new Set([axisOf(x!, attrs)]), extra);
    },
  };
}

const REDUCE_CODES: Record<string, number> = {
  ReduceSum: 0,
  ReduceMean: 1,
  ReduceMax: 2,
  ReduceMin: 3,
  ReduceProd: 4,
  ReduceSumSquare: 5,
  ReduceL1: 6,
  ReduceL2: 7,
  ReduceLogSum: 8,
  ReduceLogSumExp: 9,
};

/** Reduced axes: input 1 (ReduceSum 13+, all 18+) or the `axes` attribute; empty = all, or none with noop_with_empty_axes. */
export function reduceAxes(op: string, rank: number, attrs: Attrs, host: HostValues): Set<number> {
  const given = host[1] ?? intsAttr(attrs, 'axes', [], op);
  const axes = given.map((a) => normAxis(op, 'axes entry', a, rank));
  if (new Set(axes).size !== axes.length)
    throw new WgsegError('BAD_ATTRIBUTE', `${op}: repeated entry in axes [${given.join(',')}]`);
  if (axes.length > 0) return new Set(axes);
  return intAttr(attrs, 'noop_with_empty_axes', 0, op) !== 0
    ? new Set()
    : new Set(Array.from({ length: rank }, (_, d) => d));
}

function reduce(op: string): OpKernel {
  return withVariants({
    op,
    // a reduction over nothing is its identity; Max/Min pick one of their inputs
    emptyInputOk: true,
    keepsRange: op === 'ReduceMax' || op === 'ReduceMin',
    hostInputs: [1],
    infer(inputs, attrs, host) {
      const x = input(op, inputs, FLOAT);
      const axes = reduceAxes(op, x.shape.length, attrs, host);
      const keep = intAttr(attrs, 'keepdims', 1, op) !== 0;
      const shape = keep ? x.shape.map((s, d) => (axes.has(d) ? 1 : s)) : x.shape.filter((_, d) => !axes.has(d));
      return [{ shape, dtype: x.dtype }];
    },
    variants: splitVariants(op, 'reduce/reduce.wgsl', (x, attrs, host) => reduceAxes(op, x.shape.length, attrs, host), {
      op: REDUCE_CODES[op],
    }),
  });
}

// ---- CumSum, TopK: runs along one axis (reduce/scan.wgsl, reduce/topk.wgsl) --------------------

/** x as [outer, len, inner] around `axis`. */
const around = (shape: number[], axis: number) => ({
  outer: shape.slice(0, axis).reduce((a, b) => a * b, 1),
  len: shape[axis],
  inner: shape.slice(axis + 1).reduce((a, b) => a * b, 1),
});
const ANY: DType[] = ['f32', 'f16', 'i32', 'u32'];

const cumSumAxis = (x: TensorInfo, host: HostValues) => {
  const a = host[1];
  if (a?.length !== 1) throw new WgsegError('BAD_INPUT', 'CumSum: the axis input must be one integer');
  return normAxis('CumSum', 'axis', a[0], x.shape.length);
};

/** CumSum: inclusive or exclusive, forward or reverse; the axis input is read on the host. */
const cumSum: OpKernel = {
  op: 'CumSum',
  hostInputs: [1],
  infer(inputs, _attrs, host) {
    const x = input('CumSum', inputs, ANY);
    cumSumAxis(x, host);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  },
  encode(rt, [x], [y], attrs, host) {
    const { len, inner } = around(x!.shape, cumSumAxis(x!, host));
    const n = x!.shape.reduce((a, b) => a * b, 1);
    const float = x!.dtype === 'f32' || x!.dtype === 'f16';
    rt.dispatch({
      name: `CumSum[${x!.shape.join('x')}]`,
      shader: 'reduce/scan.wgsl',
      defines: { T: x!.dtype, A: float ? 'f32' : x!.dtype },
      uniforms: {
        n,
        len,
        inner,
        exclusive: intAttr(attrs, 'exclusive', 0, 'CumSum') ? 1 : 0,
        reverse: intAttr(attrs, 'reverse', 0, 'CumSum') ? 1 : 0,
      },
      buffers: { x: x!.buffer, y: y.buffer },
      workgroups: linearGrid(n, 256),
    });
  },
};

function topkGeometry(x: TensorInfo, attrs: Attrs, host: HostValues) {
  const axis = normAxis('TopK', 'axis', intAttr(attrs, 'axis', -1, 'TopK'), x.shape.length);
  const k = host[1]?.[0];
  if (k === undefined || host[1]!.length !== 1 || !Number.isInteger(k) || k < 0 || k > x.shape[axis])
    throw new WgsegError(
      'BAD_INPUT',
      `TopK: K ${host[1] ? `[${host[1].join(',')}]` : 'missing'} must be one integer in [0, ${x.shape[axis]}] for axis ${axis} of [${x.shape.join(',')}]`,
    );
  return { axis, k };
}

/** TopK: Values and Indices, sorted (largest or smallest first, ties by index) whatever `sorted` says. */
const topK: OpKernel = {
  op: 'TopK',
  hostInputs: [1],
  infer(inputs, attrs, host) {
    const x = input('TopK', inputs, ANY);
    const { axis, k } = topkGeometry(x, attrs, host);
    const shape = x.shape.map((d, i) => (i === axis ? k : d));
    return [
      { shape, dtype: x.dtype },
      { shape: [...shape], dtype: 'i32' },
    ];
  },
  encode(rt, [x], [values, indices], attrs, host) {
    const { axis, k } = topkGeometry(x!, attrs, host);
    const { len, inner } = around(x!.shape, axis);
    const n = x!.shape.reduce((a, b) => a * b, 1);
    const scratch = [values, indices].map((t) => t?.buffer ?? rt.pool.acquire(Math.max(4, (n / len) * k * 4)));
    rt.dispatch({
      name: `TopK[${x!.shape.join('x')}]`,
      shader: 'reduce/topk.wgsl',
      defines: { T: x!.dtype },
      uniforms: { n, len, inner, k, largest: intAttr(attrs, 'largest', 1, 'TopK') ? 1 : 0 },
      buffers: { x: x!.buffer, values: scratch[0], indices: scratch[1] },
      workgroups: linearGrid(n, 256),
    });
    if (!values) rt.pool.release(scratch[0]);
    if (!indices) rt.pool.release(scratch[1]);
  },
};

export const softmaxKernels: OpKernel[] = [
  softmax('Softmax'),
  softmax('LogSoftmax'),
  arg('ArgMax'),
  arg('ArgMin'),
  ...Object.keys(REDUCE_CODES).map(reduce),
  cumSum,
  topK,
];
