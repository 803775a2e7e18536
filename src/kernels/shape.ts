import { intAttr, intsAttr, type Attrs } from '../core/attrs';
import { numel, type ElemType } from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { FoldNode, HostTensor, HostValues, OpKernel, OpRecord, TensorInfo } from '../core/op';
import { arg, axesArg, fail, hostAxis, ints, make, outShape } from './host-eval';
import { axesOf, axisOf, bad, fmt, input } from './layout';

// Shape ops: the views (Reshape, Flatten, Squeeze, Unsqueeze: no dispatch, the output shares input
// 0's buffer) and the ops that only exist on the host (Constant, Shape, Size, Range,
// ConstantOfShape: they must fold to constants before anything runs).

// ---- views --------------------------------------------------------------------------------------

function view(
  op: string,
  hostInputs: number[] | undefined,
  shapeOf: (x: TensorInfo, attrs: Attrs, host: HostValues) => number[],
  fold: OpRecord['fold'],
): OpKernel {
  return {
    op,
    hostInputs,
    view: true,
    fold,
    infer: (inputs, attrs, host) => {
      const x = input(op, inputs);
      return [{ shape: shapeOf(x, attrs, host), dtype: x.dtype }];
    },
    encode() {},
  };
}

const reshape = view(
  'Reshape',
  [1],
  (x, attrs, host) => {
    const spec = host[1] ?? (attrs.shape as number[] | undefined) ?? bad('Reshape', 'shape input is required');
    const allowZero = intAttr(attrs, 'allowzero', 0, 'Reshape') === 1;
    if (allowZero && spec.includes(0) && spec.includes(-1))
      bad('Reshape', `allowzero=1 forbids 0 and -1 together in [${spec.join(',')}]`);
    const shape = spec.map((v, i) =>
      v === 0 && !allowZero ? (x.shape[i] ?? bad('Reshape', `0 at index ${i} has no input dim to copy`)) : v,
    );
    const infer = shape.filter((v) => v === -1).length;
    if (infer > 1 || shape.some((v) => v < -1 || !Number.isInteger(v)))
      bad('Reshape', `invalid shape [${spec.join(',')}]`);
    const known = shape.reduce((p, v) => (v === -1 ? p : p * v), 1);
    const total = numel(x.shape);
    if (infer) {
      if (known === 0 || total % known)
        bad('Reshape', `cannot infer -1 reshaping ${fmt(x.shape)} to [${spec.join(',')}]`);
      shape[shape.indexOf(-1)] = total / known;
    } else if (known !== total) bad('Reshape', `${fmt(x.shape)} (${total} elements) cannot become [${spec.join(',')}]`);
    return shape;
  },
  (xs, a, n) => {
    const x = arg(n.op, xs, 0),
      spec = ints(xs[1]) ?? (a.shape as number[]);
    return { ...x, shape: reshapeTo(n.op, x, spec, a.allowzero === 1) };
  },
);

const flatten = view(
  'Flatten',
  undefined,
  (x, attrs) => {
    const a = axisOf('Flatten', intAttr(attrs, 'axis', 1, 'Flatten'), x.shape.length, true);
    return [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))];
  },
  (xs, a, n) => {
    const x = arg(n.op, xs, 0),
      r = x.shape.length,
      given = (a.axis as number | undefined) ?? 1,
      ax = given < 0 ? given + r : given;
    return { ...x, shape: [numel(x.shape.slice(0, ax)), numel(x.shape.slice(ax))] };
  },
);

const squeeze = view(
  'Squeeze',
  [1],
  (x, attrs, host) => {
    const given = host[1] ?? (attrs.axes as number[] | undefined);
    const axes = given ? axesOf('Squeeze', given, x.shape.length) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const a of axes) if (x.shape[a] !== 1) bad('Squeeze', `dim ${a} of ${fmt(x.shape)} is not 1`);
    return x.shape.filter((_, i) => !axes.includes(i));
  },
  (xs, a, n) => {
    const x = arg(n.op, xs, 0),
      given = axesArg(xs, a);
    const axes = given
      ? given.map((v) => hostAxis(n.op, v, x.shape.length))
      : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    return { ...x, shape: x.shape.filter((_, i) => !axes.includes(i)) };
  },
);

const unsqueeze = view(
  'Unsqueeze',
  [1],
  (x, attrs, host) => {
    const given = host[1] ?? intsAttr(attrs, 'axes', undefined, 'Unsqueeze');
    const r = x.shape.length + given.length;
    const axes = axesOf('Unsqueeze', given, r);
    const rest = [...x.shape];
    return Array.from({ length: r }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!));
  },
  (xs, a, n) => {
    const x = arg(n.op, xs, 0),
      given = axesArg(xs, a) ?? fail(n.op, 'axes are required');
    const r = x.shape.length + given.length,
      axes = given.map((v) => hostAxis(n.op, v, r)),
      rest = [...x.shape];
    return { ...x, shape: Array.from({ length: r }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!)) };
  },
);

// ---- host only ----------------------------------------------------------------------------------

function reshapeTo(op: string, x: HostTensor, spec: number[], allowZero: boolean): number[] {
  const shape = spec.map((v, i) => (v === 0 && !allowZero ? x.shape[i] : v));
  const known = shape.reduce((p, v) => (v === -1 ? p : p * v), 1);
  const total = numel(x.shape);
  const k = shape.indexOf(-1);
  if (k >= 0) shape[k] = known === 0 ? 0 : total / known;
  if (numel(shape) !== total || shape.some((v) => !Number.isInteger(v) || v < 0))
    fail(op, `${fmt(x.shape)} cannot become [${spec.join(',')}]`);
  return shape;
}

function constantOf(n: FoldNode): HostTensor {
  const t = n.tensors?.value;
  if (t) return { type: t.type, shape: [...t.shape], data: t.data };
  const a = n.attrs;
  if (typeof a.value_float === 'number') return make('float32', [], [a.value_float]);
  if (Array.isArray(a.value_floats)) return make('float32', [a.value_floats.length], a.value_floats as number[]);
  if (typeof a.value_int === 'number') return make('int64', [], [a.value_int]);
  if (Array.isArray(a.value_ints)) return make('int64', [a.value_ints.length], a.value_ints as number[]);
  throw new WgsegError(
    'UNSUPPORTED_DTYPE',
    `Constant: attributes {${Object.keys(a)
      .filter((k) => k !== '__opset')
      .join(',')}} not supported`,
  );
}

const hostOnly: OpRecord[] = [
  { op: 'Constant', fold: (_xs, _a, n) => constantOf(n) },
  {
    op: 'Shape',
    shapeOnly: true,
    foldCost: 'output',
    fold: (xs, a, n) => {
      const s = arg(n.op, xs, 0).shape,
        r = s.length;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      const dims = s.slice(clamp((a.start as number) ?? 0), clamp((a.end as number) ?? r));
      return make('int64', [dims.length], dims);
    },
  },
  {
    op: 'Size',
    shapeOnly: true,
    foldCost: 'output',
    fold: (xs, _a, n) => make('int64', [], [numel(arg(n.op, xs, 0).shape)]),
  },
  {
    op: 'Range',
    fold: (xs, _a, n) => {
      const [s, l, d] = [0, 1, 2].map((i) => Number(arg(n.op, xs, i).data[0]));
      const count = Math.max(0, Math.ceil((l - s) / d));
      if (!Number.isFinite(count)) fail(n.op, `range(${s}, ${l}, ${d}) has no finite length`);
      outShape(n.op, [count]);
      return make(
        xs[0]!.type,
        [count],
        Array.from({ length: count }, (_, i) => s + i * d),
      );
    },
  },
  {
    op: 'ConstantOfShape',
    fold: (xs, a, n) => {
      const shape = ints(xs[0]) ?? fail(n.op, 'shape is required');
      const v = n.tensors?.value ?? {
        type: 'float32' as ElemType,
        data: new Float32Array([Array.isArray(a.value) ? (a.value[0] as number) : 0]),
      };
      outShape(n.op, shape);
      return make(v.type, shape, new Array(numel(shape)).fill(v.data[0] ?? 0));
    },
  },
];

export const shapeOps: OpRecord[] = [reshape, flatten, squeeze, unsqueeze, ...hostOnly];
