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

/**
 * Dropout at inference is the identity (a view). `training_mode` (opset 12+ input 2) must be absent
 * or false, or the ratio (input 1) 0: torchvision's Swin exports `training_mode=true, ratio=0`, the
 * identity too. The mask output is not produced (a graph that reads it gets UNSUPPORTED_OP).
 */
const TRAINING = 'training_mode=true with a non-zero ratio is not inference; export the model in eval mode';
const dropout = view(
  'Dropout',
  [1, 2],
  (x, _attrs, host) => {
    if (host[2]?.[0] && (host[1]?.[0] ?? 0.5) !== 0) bad('Dropout', TRAINING);
    return x.shape;
  },
  (xs, _a, n) => {
    if (xs[2]?.data[0] && Number(xs[1]?.data[0] ?? 0.5) !== 0) fail(n.op, TRAINING);
    return arg(n.op, xs, 0);
  },
);

/**
 * ScatterND on the host: `data` with `updates` written at `indices` (reduction none/add/mul/max/min).
 * Exports build masks this way from shapes alone (Swin's shifted-window attention mask), so it
 * folds; a ScatterND on a computed tensor is unsupported.
 */
const scatterND: OpRecord = {
  op: 'ScatterND',
  fold: (xs, a, n) => {
    const data = arg(n.op, xs, 0),
      idx = arg(n.op, xs, 1),
      upd = arg(n.op, xs, 2);
    const q = idx.shape.length,
      k = idx.shape[q - 1] ?? fail(n.op, 'indices must have rank >= 1'),
      r = data.shape.length;
    if (k > r) fail(n.op, `indices' last dim ${k} exceeds data rank ${r}`);
    const slice = numel(data.shape.slice(k)),
      count = numel(idx.shape.slice(0, -1));
    const want = [...idx.shape.slice(0, -1), ...data.shape.slice(k)];
    if (upd.shape.join() !== want.join())
      fail(n.op, `updates shape [${upd.shape.join(',')}] must be [${want.join(',')}]`);
    const out = Array.from(data.data, Number);
    const strides = data.shape.map((_, i) => numel(data.shape.slice(i + 1)));
    const reduce = (a.reduction as string | undefined) ?? 'none';
    const combine: Record<string, (x: number, y: number) => number> = {
      none: (_x, y) => y,
      add: (x, y) => x + y,
      mul: (x, y) => x * y,
      max: Math.max,
      min: Math.min,
    };
    const f = combine[reduce] ?? fail(n.op, `reduction '${reduce}' is not none, add, mul, max or min`);
    for (let i = 0; i < count; i++) {
      let base = 0;
      for (let j = 0; j < k; j++) {
        const v = Number(idx.data[i * k + j]),
          d = data.shape[j];
        if (v < -d || v >= d) fail(n.op, `index ${v} out of range for dim ${j} of size ${d}`);
        base += (v < 0 ? v + d : v) * strides[j];
      }
      for (let e = 0; e < slice; e++) out[base + e] = f(out[base + e], Number(upd.data[i * slice + e]));
    }
    return make(data.type, data.shape, out);
  },
};

export const shapeOps: OpRecord[] = [reshape, flatten, squeeze, unsqueeze, dropout, scatterND, ...hostOnly];
