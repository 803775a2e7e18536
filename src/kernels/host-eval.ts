import type { Attrs } from '../core/attrs';
import { hostData, isFloatType, numel, stridesOf, wrapInt, type ElemType } from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { FoldNode, HostTensor, OpRecord } from '../core/op';
import { broadcastShapes } from './broadcast';

/**
 * Helpers for the records' host evaluation (constant folding): the shape arithmetic PyTorch exports
 * put in front of Reshape and Resize (Shape -> Gather -> Unsqueeze -> Concat -> Cast ...), evaluated
 * in f64 on small tensors. Each op's `fold` lives in its record; this file holds what they share.
 */

export type Fold = NonNullable<OpRecord['fold']>;

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

export const make = (type: ElemType, shape: number[], values: ArrayLike<number>): HostTensor => ({
  type,
  shape,
  data: hostData(type, values),
});

/** Most elements one fold computes on the host: a bigger result is left to a kernel, or refused where there is none. */
export const HOST_FOLD_MAX = 1 << 24;
/** the cap of the fold under way (evalOnHost sets it; folds are synchronous) */
let foldCap = HOST_FOLD_MAX;

/** A result shape checked before anything is allocated for it: non-negative integer dims, at most the cap's elements. */
export function outShape(op: string, shape: number[]): number[] {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    fail(op, `result shape [${shape.join(',')}] has a dim that is not a non-negative integer`);
  const n = numel(shape);
  if (n > foldCap)
    throw new WgsegError(
      'TOO_LARGE',
      `${op}: result ${fmt(shape)} has ${n} elements, over the ${foldCap} that constant folding computes on the host`,
    );
  return shape;
}

/**
 * Evaluate one node on the host with its record's `fold`; throws with the op named on bad arguments,
 * and TOO_LARGE (before allocating) when the result would have more than `cap` elements.
 */
export function evalOnHost(
  rec: OpRecord | undefined,
  node: FoldNode,
  inputs: (HostTensor | undefined)[],
  cap = HOST_FOLD_MAX,
): HostTensor {
  if (!rec?.fold) throw new WgsegError('UNSUPPORTED_OP', `${node.op}: cannot be evaluated on the host`);
  foldCap = Math.min(cap, HOST_FOLD_MAX);
  const out = rec.fold(inputs, node.attrs, node);
  if (out.data.length !== numel(out.shape))
    fail(node.op, `folded ${out.data.length} values for shape ${fmt(out.shape)}`);
  return out;
}

export function arg(op: string, xs: (HostTensor | undefined)[], i: number): HostTensor {
  return xs[i] ?? fail(op, `missing input ${i}`);
}
export function fail(op: string, msg: string): never {
  throw new WgsegError('BAD_SHAPE', `${op}: ${msg}`);
}
export const ints = (t: HostTensor | undefined) => (t ? Array.from(t.data, Number) : undefined);
export const hostAxis = (op: string, a: number, rank: number) =>
  !Number.isInteger(a) || a < -rank || a >= rank
    ? fail(op, `axis ${a} out of range for rank ${rank}`)
    : a < 0
      ? a + rank
      : a;
/** Squeeze/Unsqueeze axes: input 1 (opset 13+) or the `axes` attribute. */
export const axesArg = (xs: (HostTensor | undefined)[], a: Attrs) => ints(xs[1]) ?? (a.axes as number[] | undefined);

/** Output coordinates -> flat input index: the one loop Slice, Expand, Transpose and Gather share. */
export function gatherBy(
  op: string,
  shape: number[],
  src: HostTensor,
  type: ElemType,
  at: (c: number[]) => number,
): HostTensor {
  const n = numel(outShape(op, shape)),
    out = new Array<number>(n),
    c = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    out[i] = src.data[at(c)];
    for (let d = shape.length - 1; d >= 0 && ++c[d] === shape[d]; d--) c[d] = 0;
  }
  return make(type, shape, out);
}

/** Broadcast `xs` to a common shape and map them elementwise. */
export function hostElementwise(
  op: string,
  xs: HostTensor[],
  type: ElemType,
  f: (...v: number[]) => number,
): HostTensor {
  const shape = outShape(
    op,
    broadcastShapes(
      op,
      xs.map((x) => x.shape),
    ),
  );
  const sts = xs.map((x) => {
    const st = stridesOf(x.shape),
      lead = shape.length - x.shape.length;
    return shape.map((_, d) => (d < lead || x.shape[d - lead] === 1 ? 0 : st[d - lead]));
  });
  const n = numel(shape),
    out = new Array<number>(n),
    c = new Array<number>(shape.length).fill(0);
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
const intResult = (t: ElemType, v: number) => (isFloatType(t) ? v : wrapInt(Math.trunc(v), t));
export function hostBinary(f: (a: number, b: number) => number, compare = false): Fold {
  return (xs, _a, n) => {
    const a = arg(n.op, xs, 0),
      b = arg(n.op, xs, 1);
    return hostElementwise(n.op, [a, b], compare ? 'bool' : a.type, (x, y) =>
      compare ? f(x, y) : intResult(a.type, f(x, y)),
    );
  };
}
export function hostUnary(f: (a: number) => number, type?: ElemType): Fold {
  return (xs, _a, n) => {
    const x = arg(n.op, xs, 0),
      t = type ?? x.type;
    return make(
      t,
      [...x.shape],
      Array.from(x.data, (v) => intResult(t, f(v))),
    );
  };
}
export function hostVariadic(f: (a: number, b: number) => number): Fold {
  return (xs, _a, n) => {
    const ts = xs.filter((x): x is HostTensor => !!x);
    if (!ts.length) fail(n.op, 'needs at least one input');
    return hostElementwise(n.op, ts, ts[0].type, (...v) => intResult(ts[0].type, v.reduce(f)));
  };
}
