import { WgsegError } from '../core/errors';
import { broadcastShapes } from '../kernels/elementwise';
import type { Attrs } from '../core/attrs';
import type { ConstData, ElemType } from '../core/dtype';
import type { Node } from './ir';

/**
 * Constant folding on the host: the shape arithmetic PyTorch exports put in front of Reshape and
 * Resize (Shape -> Gather -> Unsqueeze -> Concat -> Cast ...), evaluated in f64 on small tensors.
 * One table, op -> host function; no GPU. Big float math (Conv on constants...) is not folded.
 */

export interface HostTensor {
  type: ElemType;
  shape: number[];
  data: ConstData;
}

type Fold = (xs: (HostTensor | undefined)[], attrs: Attrs, node: Node) => HostTensor;

const FLOATS = new Set<ElemType>(['float32', 'float16', 'float64']);
export const isFloatType = (t: ElemType) => FLOATS.has(t);
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** Host storage for `type` (floats Float32Array, integers Float64Array, bool Uint8Array). */
export function hostData(type: ElemType, values: ArrayLike<number>): ConstData {
  if (FLOATS.has(type)) return Float32Array.from(values);
  if (type === 'bool') return Uint8Array.from(values, (v) => (v ? 1 : 0));
  return Float64Array.from(values);
}

const make = (type: ElemType, shape: number[], values: ArrayLike<number>): HostTensor => ({ type, shape, data: hostData(type, values) });

/** Most elements one fold computes on the host: a bigger result is left to a kernel, or refused where there is none. */
export const HOST_FOLD_MAX = 1 << 24;
/** the cap of the fold under way (foldNode sets it; folds are synchronous) */
let foldCap = HOST_FOLD_MAX;

/** A result shape checked before anything is allocated for it: non-negative integer dims, at most HOST_FOLD_MAX elements. */
function outShape(op: string, shape: number[]): number[] {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(op, `result shape [${shape.join(',')}] has a dim that is not a non-negative integer`);
  const n = size(shape);
  if (n > foldCap) throw new WgsegError('TOO_LARGE', `${op}: result ${fmt(shape)} has ${n} elements, over the ${foldCap} that constant folding computes on the host`);
  return shape;
}

/** ONNX TensorProto.DataType -> ElemType (the types a folded Cast may produce). */
export const ONNX_TYPE: Record<number, ElemType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
};

/** Integer types: [bits, signed]. */
export const INT_BITS: Partial<Record<ElemType, [number, boolean]>> = {
  int8: [8, true], uint8: [8, false], int16: [16, true], uint16: [16, false], int32: [32, true], uint32: [32, false], int64: [64, true], uint64: [64, false],
};

/** An exact integer wrapped to `type`'s width (two's complement), as C conversions and ONNX integer arithmetic do. */
export function wrapInt(v: number, type: ElemType): number {
  const [bits, signed] = INT_BITS[type] ?? [0, true];
  if (bits === 0 || !Number.isFinite(v) || (bits === 64 && Math.abs(v) <= Number.MAX_SAFE_INTEGER && (signed || v >= 0))) return v;
  const b = BigInt(v);
  return Number(signed ? BigInt.asIntN(bits, b) : BigInt.asUintN(bits, b));
}

function arg(op: string, xs: (HostTensor | undefined)[], i: number): HostTensor {
  return xs[i] ?? fail(op, `missing input ${i}`);
}
function fail(op: string, msg: string): never {
  throw new WgsegError('BAD_SHAPE', `${op}: ${msg}`);
}
const ints = (t: HostTensor | undefined) => (t ? Array.from(t.data, Number) : undefined);
const axisOf = (op: string, a: number, rank: number) => (!Number.isInteger(a) || a < -rank || a >= rank ? fail(op, `axis ${a} out of range for rank ${rank}`) : a < 0 ? a + rank : a);

/** Output coordinates -> flat input index: the one loop Slice, Expand, Transpose and Gather share. */
function gatherBy(op: string, shape: number[], src: HostTensor, type: ElemType, at: (c: number[]) => number): HostTensor {
  const n = size(outShape(op, shape)), out = new Array<number>(n), c = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    out[i] = src.data[at(c)];
    for (let d = shape.length - 1; d >= 0 && ++c[d] === shape[d]; d--) c[d] = 0;
  }
  return make(type, shape, out);
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) (s[i] = acc), (acc *= shape[i]);
  return s;
}

/** Broadcast `xs` to a common shape and map them elementwise. */
function elementwise(op: string, xs: HostTensor[], type: ElemType, f: (...v: number[]) => number): HostTensor {
  const shape = outShape(op, broadcastShapes(op, xs.map((x) => x.shape)));
  const sts = xs.map((x) => {
    const st = strides(x.shape), lead = shape.length - x.shape.length;
    return shape.map((_, d) => (d < lead || x.shape[d - lead] === 1 ? 0 : st[d - lead]));
  });
  const n = size(shape), out = new Array<number>(n), c = new Array<number>(shape.length).fill(0);
  const v = new Array<number>(xs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < xs.length; k++) {
      let o = 0;
      for (let d = 0; d < shape.length; d++) o += c[d] * sts[k][d];
      v[k] = xs[k].data[o];
    }
    out[i] = f(...v);
    for (let d = shape.length - 1; d >= 0 && ++c[d] === shape[d]; d--) c[d] = 0;
  }
  return make(type, shape, out);
}

/** An integer op's result: truncated and wrapped to the type's width (uint8 200 + 100 is 44). */
const intResult = (t: ElemType, v: number) => (FLOATS.has(t) ? v : wrapInt(Math.trunc(v), t));
function binary(f: (a: number, b: number) => number, compare = false): Fold {
  return (xs, _a, n) => {
    const a = arg(n.op, xs, 0), b = arg(n.op, xs, 1);
    return elementwise(n.op, [a, b], compare ? 'bool' : a.type, (x, y) => (compare ? f(x, y) : intResult(a.type, f(x, y))));
  };
}
function unary(f: (a: number) => number, type?: ElemType): Fold {
  return (xs, _a, n) => {
    const x = arg(n.op, xs, 0), t = type ?? x.type;
    return make(t, [...x.shape], Array.from(x.data, (v) => intResult(t, f(v))));
  };
}
function variadic(f: (a: number, b: number) => number): Fold {
  return (xs, _a, n) => {
    const ts = xs.filter((x): x is HostTensor => !!x);
    if (!ts.length) fail(n.op, 'needs at least one input');
    return elementwise(n.op, ts, ts[0].type, (...v) => intResult(ts[0].type, v.reduce(f)));
  };
}

/**
 * ONNX Cast on the host: anything to bool is != 0; integers wrap to the target width; floats
 * truncate toward zero. Out-of-range floats (undefined in ONNX) go as in onnxruntime's wasm build
 * and the GPU kernel: saturate to int32 (signed targets) or uint32 (unsigned), then wrap; NaN is 0.
 */
function castValue(v: number, from: ElemType, to: ElemType): number {
  if (to === 'bool') return v !== 0 ? 1 : 0;
  if (FLOATS.has(to)) return v;
  if (!FLOATS.has(from)) return wrapInt(v, to);
  if (Number.isNaN(v)) return 0;
  const t = Math.trunc(v), [bits, signed] = INT_BITS[to]!;
  if (bits === 64) return signed ? t : Math.max(0, t);
  return wrapInt(signed ? Math.min(Math.max(t, -(2 ** 31)), 2 ** 31 - 1) : Math.min(Math.max(t, 0), 2 ** 32 - 1), to);
}

function reshapeTo(op: string, x: HostTensor, spec: number[], allowZero: boolean): number[] {
  const shape = spec.map((v, i) => (v === 0 && !allowZero ? x.shape[i] : v));
  const known = shape.reduce((p, v) => (v === -1 ? p : p * v), 1);
  const total = size(x.shape);
  const k = shape.indexOf(-1);
  if (k >= 0) shape[k] = known === 0 ? 0 : total / known;
  if (size(shape) !== total || shape.some((v) => !Number.isInteger(v) || v < 0)) fail(op, `${fmt(x.shape)} cannot become [${spec.join(',')}]`);
  return shape;
}

function constantOf(n: Node): HostTensor {
  const t = n.tensors?.value;
  if (t) return { type: t.type, shape: [...t.shape], data: t.data };
  const a = n.attrs;
  if (typeof a.value_float === 'number') return make('float32', [], [a.value_float]);
  if (Array.isArray(a.value_floats)) return make('float32', [a.value_floats.length], a.value_floats as number[]);
  if (typeof a.value_int === 'number') return make('int64', [], [a.value_int]);
  if (Array.isArray(a.value_ints)) return make('int64', [a.value_ints.length], a.value_ints as number[]);
  throw new WgsegError('UNSUPPORTED_DTYPE', `Constant: attributes {${Object.keys(a).filter((k) => k !== '__opset').join(',')}} not supported`);
}

/** Squeeze/Unsqueeze axes: input 1 (opset 13+) or the `axes` attribute. */
const axesArg = (xs: (HostTensor | undefined)[], a: Attrs) => ints(xs[1]) ?? (a.axes as number[] | undefined);

const FOLDS: Record<string, Fold> = {
  Constant: (_xs, _a, n) => constantOf(n),
  Identity: (xs, _a, n) => arg(n.op, xs, 0),
  Shape: (xs, a, n) => {
    const s = arg(n.op, xs, 0).shape, r = s.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const dims = s.slice(clamp((a.start as number) ?? 0), clamp((a.end as number) ?? r));
    return make('int64', [dims.length], dims);
  },
  Size: (xs, _a, n) => make('int64', [], [size(arg(n.op, xs, 0).shape)]),
  Cast: (xs, a, n) => {
    const to = ONNX_TYPE[a.to as number] ?? fail(n.op, `target type ${a.to} not foldable`);
    return unary((v) => castValue(v, arg(n.op, xs, 0).type, to), to)(xs, a, n);
  },
  CastLike: (xs, _a, n) => {
    const to = arg(n.op, xs, 1).type;
    return unary((v) => castValue(v, arg(n.op, xs, 0).type, to), to)(xs, _a, n);
  },
  Gather: (xs, a, n) => {
    const x = arg(n.op, xs, 0), idx = arg(n.op, xs, 1);
    const ax = axisOf(n.op, (a.axis as number) ?? 0, x.shape.length);
    const len = x.shape[ax], q = idx.shape.length;
    const shape = [...x.shape.slice(0, ax), ...idx.shape, ...x.shape.slice(ax + 1)];
    const ist = strides(idx.shape), xst = strides(x.shape);
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
  Unsqueeze: (xs, a, n) => {
    const x = arg(n.op, xs, 0), given = axesArg(xs, a) ?? fail(n.op, 'axes are required');
    const r = x.shape.length + given.length, axes = given.map((v) => axisOf(n.op, v, r)), rest = [...x.shape];
    return { ...x, shape: Array.from({ length: r }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!)) };
  },
  Squeeze: (xs, a, n) => {
    const x = arg(n.op, xs, 0), given = axesArg(xs, a);
    const axes = given ? given.map((v) => axisOf(n.op, v, x.shape.length)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    return { ...x, shape: x.shape.filter((_, i) => !axes.includes(i)) };
  },
  Reshape: (xs, a, n) => {
    const x = arg(n.op, xs, 0), spec = ints(xs[1]) ?? (a.shape as number[]);
    return { ...x, shape: reshapeTo(n.op, x, spec, a.allowzero === 1) };
  },
  Flatten: (xs, a, n) => {
    const x = arg(n.op, xs, 0), r = x.shape.length, given = (a.axis as number | undefined) ?? 1, ax = given < 0 ? given + r : given;
    return { ...x, shape: [size(x.shape.slice(0, ax)), size(x.shape.slice(ax))] };
  },
  Concat: (xs, a, n) => {
    const ts = xs.filter((x): x is HostTensor => !!x);
    if (!ts.length) fail(n.op, 'needs at least one input');
    const ax = axisOf(n.op, a.axis as number, ts[0].shape.length);
    const shape = [...ts[0].shape];
    shape[ax] = ts.reduce((s, t) => s + t.shape[ax], 0);
    for (const t of ts) if (t.shape.length !== shape.length || t.shape.some((d, i) => i !== ax && d !== shape[i])) fail(n.op, `inputs ${ts.map((u) => fmt(u.shape)).join(', ')} do not concatenate on axis ${ax}`);
    outShape(n.op, shape);
    const outer = size(shape.slice(0, ax)), out: number[] = [];
    for (let o = 0; o < outer; o++) {
      for (const t of ts) {
        const block = size(t.shape.slice(ax));
        for (let i = 0; i < block; i++) out.push(t.data[o * block + i]);
      }
    }
    return make(ts[0].type, shape, out);
  },
  Slice: (xs, a, n) => {
    const x = arg(n.op, xs, 0), r = x.shape.length, inputs = xs[1] !== undefined;
    const starts = (inputs ? ints(xs[1]) : (a.starts as number[])) ?? fail(n.op, 'starts are required');
    const ends = (inputs ? ints(xs[2]) : (a.ends as number[])) ?? fail(n.op, 'ends are required');
    const axes = ((inputs ? ints(xs[3]) : (a.axes as number[])) ?? starts.map((_, i) => i)).map((v) => axisOf(n.op, v, r));
    const steps = (inputs ? ints(xs[4]) : undefined) ?? starts.map(() => 1);
    const start = x.shape.map(() => 0), step = x.shape.map(() => 1), shape = [...x.shape];
    axes.forEach((ax, i) => {
      const dim = x.shape[ax], st = steps[i];
      if (!st) fail(n.op, 'step 0');
      let s = starts[i] < 0 ? starts[i] + dim : starts[i], e = ends[i] < 0 ? ends[i] + dim : ends[i];
      [s, e] = st > 0 ? [Math.min(Math.max(s, 0), dim), Math.min(Math.max(e, 0), dim)] : [Math.min(Math.max(s, 0), dim - 1), Math.min(Math.max(e, -1), dim - 1)];
      (start[ax] = s), (step[ax] = st), (shape[ax] = Math.max(0, Math.ceil((e - s) / st)));
    });
    const xst = strides(x.shape);
    return gatherBy(n.op, shape, x, x.type, (c) => c.reduce((o, v, d) => o + (start[d] + v * step[d]) * xst[d], 0));
  },
  Transpose: (xs, a, n) => {
    const x = arg(n.op, xs, 0), r = x.shape.length;
    const perm = (a.perm as number[] | undefined) ?? [...Array(r).keys()].reverse(), xst = strides(x.shape);
    if (perm.length !== r || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) fail(n.op, `perm [${perm.join(',')}] is not a permutation of the ${r} axes`);
    return gatherBy(n.op, perm.map((p) => x.shape[p]), x, x.type, (c) => c.reduce((o, v, d) => o + v * xst[perm[d]], 0));
  },
  Expand: (xs, _a, n) => {
    const x = arg(n.op, xs, 0), to = ints(xs[1]) ?? fail(n.op, 'shape is required');
    if (to.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(n.op, `shape [${to.join(',')}] has a dim that is not a non-negative integer`);
    const shape = outShape(n.op, broadcastShapes(n.op, [x.shape, to]));
    return elementwise(n.op, [x, make(x.type, shape, new Array(size(shape)).fill(0))], x.type, (v) => v);
  },
  Range: (xs, _a, n) => {
    const [s, l, d] = [0, 1, 2].map((i) => Number(arg(n.op, xs, i).data[0]));
    const count = Math.max(0, Math.ceil((l - s) / d));
    if (!Number.isFinite(count)) fail(n.op, `range(${s}, ${l}, ${d}) has no finite length`);
    outShape(n.op, [count]);
    return make(xs[0]!.type, [count], Array.from({ length: count }, (_, i) => s + i * d));
  },
  ConstantOfShape: (xs, a, n) => {
    const shape = ints(xs[0]) ?? fail(n.op, 'shape is required');
    const v = n.tensors?.value ?? { type: 'float32' as ElemType, data: new Float32Array([Array.isArray(a.value) ? (a.value[0] as number) : 0]) };
    outShape(n.op, shape);
    return make(v.type, shape, new Array(size(shape)).fill(v.data[0] ?? 0));
  },
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary((a, b) => a / b),
  Pow: binary((a, b) => a ** b),
  Mod: binary((a, b) => a - Math.floor(a / b) * b),
  Equal: binary((a, b) => +(a === b), true),
  Less: binary((a, b) => +(a < b), true),
  Greater: binary((a, b) => +(a > b), true),
  LessOrEqual: binary((a, b) => +(a <= b), true),
  GreaterOrEqual: binary((a, b) => +(a >= b), true),
  And: binary((a, b) => +(!!a && !!b), true),
  Or: binary((a, b) => +(!!a || !!b), true),
  Min: variadic(Math.min),
  Max: variadic(Math.max),
  Sum: variadic((a, b) => a + b),
  Where: (xs, _a, n) => {
    const [c, x, y] = [0, 1, 2].map((i) => arg(n.op, xs, i));
    return elementwise(n.op, [c, x, y], x.type, (p, u, v) => (p ? u : v));
  },
  Not: unary((v) => +!v, 'bool'),
  Neg: unary((v) => -v),
  Abs: unary(Math.abs),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Round: unary((v) => v - Math.floor(v) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v)),
  Sqrt: unary(Math.sqrt),
  Reciprocal: unary((v) => 1 / v),
  Relu: unary((v) => Math.max(v, 0)),
};

/** Ops the host can evaluate; those without a kernel (Shape, Range, Not...) must fold to run at all. */
export const foldableOps = (): string[] => Object.keys(FOLDS);
export const canFold = (op: string) => op in FOLDS;

/**
 * Evaluate one node on the host; throws with the op named on bad arguments, and TOO_LARGE (before
 * allocating) when the result would have more than `cap` elements.
 */
export function foldNode(node: Node, inputs: (HostTensor | undefined)[], cap = HOST_FOLD_MAX): HostTensor {
  const f = FOLDS[node.op];
  if (!f) throw new WgsegError('UNSUPPORTED_OP', `${node.op}: cannot be evaluated on the host`);
  foldCap = Math.min(cap, HOST_FOLD_MAX);
  const out = f(inputs, node.attrs, node);
  if (out.data.length !== size(out.shape)) fail(node.op, `folded ${out.data.length} values for shape ${fmt(out.shape)}`);
  return out;
}
