import { floatAttr, intAttr, type Attrs } from '../core/attrs';
import { BYTES, numel, type DType } from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { GpuTensor, HostValues, KernelContext, OpKernel, OpRecord, TensorInfo } from '../core/op';
import { broadcastPlan, broadcastShapes, vec8 } from './broadcast';
import { linearGrid } from './dispatch';
import { arg, hostBinary, hostElementwise, hostUnary, hostVariadic, type Fold } from './host-eval';

/** What a record says beside its kernel: host evaluation and the planning flags (see OpRecord). */
type Extra = Pick<OpRecord, 'fold' | 'foldCost' | 'keepsRange'>;

const UNARY_CODES: Record<string, number> = {
  Identity: 0,
  Relu: 1,
  Clip: 2,
  LeakyRelu: 3,
  Sigmoid: 4,
  HardSigmoid: 5,
  HardSwish: 6,
  Tanh: 7,
  Gelu: 8,
  Mish: 9,
  Exp: 16,
  Neg: 17,
  Abs: 18,
  Sqrt: 19,
  Log: 20,
  Reciprocal: 21,
  Floor: 22,
  Ceil: 23,
  Swish: 24,
  Elu: 25,
  Round: 26,
  Erf: 27,
  Softplus: 29,
  Softsign: 30,
  Celu: 32,
  Selu: 33,
  ThresholdedRelu: 34,
};
const roundEven = (v: number) => (v - Math.floor(v) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
const UNARY_EXTRA: Record<string, Extra> = {
  // Identity folds at any size: the result shares its input's data
  Identity: { fold: (xs, _a, n) => arg(n.op, xs, 0), foldCost: 'free', keepsRange: true },
  Relu: { fold: hostUnary((v) => Math.max(v, 0)), keepsRange: true },
  Clip: { keepsRange: true },
  Neg: { fold: hostUnary((v) => -v) },
  Abs: { fold: hostUnary(Math.abs) },
  Floor: { fold: hostUnary(Math.floor) },
  Ceil: { fold: hostUnary(Math.ceil) },
  Round: { fold: hostUnary(roundEven) },
  Sqrt: { fold: hostUnary(Math.sqrt) },
  Reciprocal: { fold: hostUnary((v) => 1 / v) },
  Erf: { fold: hostUnary(erf) },
};

/** erf in f64 for host folding: its Maclaurin series below 3, 1 - erfc's continued fraction above. */
function erf(v: number): number {
  const z = Math.abs(v);
  if (z < 3) {
    let term = z,
      sum = z;
    for (let k = 1; k < 60 && Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
      term *= (-z * z) / k;
      sum += term / (2 * k + 1);
    }
    return Math.sign(v) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let k = 60; k >= 1; k--) f = k / 2 / (z + f);
  return Math.sign(v) * (1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f));
}

const SELU_ALPHA = 1.6732631921768188;
const SELU_GAMMA = 1.0507010221481323;

const FLT_MAX = 3.4028234663852886e38;

function unaryParams(op: string, attrs: Attrs, host: HostValues): [number, number] {
  switch (op) {
    case 'Clip': {
      const lo = host[1]?.[0] ?? (attrs.min as number | undefined) ?? -FLT_MAX;
      const hi = host[2]?.[0] ?? (attrs.max as number | undefined) ?? FLT_MAX;
      return [lo, hi];
    }
    case 'LeakyRelu':
      return [floatAttr(attrs, 'alpha', 0.01, op), 0];
    case 'HardSigmoid':
      return [floatAttr(attrs, 'alpha', 0.2, op), floatAttr(attrs, 'beta', 0.5, op)];
    case 'Elu':
      return [floatAttr(attrs, 'alpha', 1, op), 0];
    case 'Swish':
      return [floatAttr(attrs, 'alpha', 1, op), 0];
    case 'Gelu': {
      const approximate = (attrs.approximate as string | undefined) ?? 'none';
      if (approximate !== 'none' && approximate !== 'tanh')
        throw new WgsegError('BAD_ATTRIBUTE', `Gelu: approximate "${approximate}" is not "none" or "tanh"`);
      return [approximate === 'tanh' ? 1 : 0, 0];
    }
    case 'Celu': {
      const alpha = floatAttr(attrs, 'alpha', 1, op);
      if (alpha === 0) throw new WgsegError('BAD_ATTRIBUTE', 'Celu: alpha must not be 0');
      return [alpha, 0];
    }
    case 'Selu':
      return [floatAttr(attrs, 'alpha', SELU_ALPHA, op), floatAttr(attrs, 'gamma', SELU_GAMMA, op)];
    case 'ThresholdedRelu':
      return [floatAttr(attrs, 'alpha', 1, op), 0];
    default:
      return [0, 0];
  }
}

function unary(op: string): OpKernel {
  return {
    op,
    ...UNARY_EXTRA[op],
    hostInputs: op === 'Clip' ? [1, 2] : undefined,
    infer(inputs: (TensorInfo | undefined)[], attrs, host) {
      const x = inputs[0];
      if (!x) throw new WgsegError('BAD_INPUT', `${op}: missing input`);
      unaryParams(op, attrs, host);
      return [{ shape: [...x.shape], dtype: x.dtype }];
    },
    encode(rt, [x], [y], attrs, host) {
      const n = numel(y.shape);
      const [a, b] = unaryParams(op, attrs, host);
      rt.dispatch({
        name: `${op}[${n}]`,
        shader: 'elementwise/unary.wgsl',
        defines: { T: x!.dtype },
        uniforms: { n, op: UNARY_CODES[op], a, b },
        buffers: { x: x!.buffer, y: y.buffer },
        workgroups: linearGrid(n, 256),
      });
    },
  };
}

// ---- binary, variadic, Where -----------------------------------------------------------------

/** Codes of shaders/elementwise/binary.wgsl's `apply`. Mod is 7 (fmod=1) or 8 (fmod=0). */
const BINARY_CODES: Record<string, number> = {
  Add: 0,
  Sub: 1,
  Mul: 2,
  Div: 3,
  Pow: 4,
  Mod: 7,
  PRelu: 9,
  Equal: 10,
  Less: 11,
  Greater: 12,
  LessOrEqual: 13,
  GreaterOrEqual: 14,
};
const BINARY_FOLD: Record<string, Fold> = {
  Add: hostBinary((a, b) => a + b),
  Sub: hostBinary((a, b) => a - b),
  Mul: hostBinary((a, b) => a * b),
  Div: hostBinary((a, b) => a / b),
  Pow: hostBinary((a, b) => a ** b),
  Mod: hostBinary((a, b) => a - Math.floor(a / b) * b),
  Equal: hostBinary((a, b) => +(a === b), true),
  Less: hostBinary((a, b) => +(a < b), true),
  Greater: hostBinary((a, b) => +(a > b), true),
  LessOrEqual: hostBinary((a, b) => +(a <= b), true),
  GreaterOrEqual: hostBinary((a, b) => +(a >= b), true),
};
const MEAN_LAST = 15;
const VARIADIC_CODES: Record<string, number> = { Sum: 0, Mean: 0, Max: 5, Min: 6 };
const VARIADIC_EXTRA: Record<string, Extra> = {
  Sum: { fold: hostVariadic((a, b) => a + b) },
  Max: { fold: hostVariadic(Math.max), keepsRange: true },
  Min: { fold: hostVariadic(Math.min), keepsRange: true },
};
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']);
const FLOAT = new Set<DType>(['f32', 'f16']);

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

function need(op: string, inputs: (TensorInfo | undefined)[], count: number): TensorInfo[] {
  const xs = inputs.slice(0, count);
  if (xs.length < count || xs.some((x) => !x))
    throw new WgsegError('BAD_INPUT', `${op}: needs ${count} inputs, got ${inputs.filter(Boolean).length}`);
  return xs as TensorInfo[];
}

function sameDtype(op: string, xs: TensorInfo[]): DType {
  if (xs.some((x) => x.dtype !== xs[0].dtype))
    throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: input dtypes ${xs.map((x) => x.dtype).join(', ')} must match`);
  return xs[0].dtype;
}

function encodeBinary(
  rt: KernelContext,
  op: string,
  code: number,
  a: GpuTensor,
  b: GpuTensor,
  y: GpuTensor,
  count = 1,
): void {
  const n = numel(y.shape);
  const plan = broadcastPlan(op, y.shape, [a.shape, b.shape]);
  rt.dispatch({
    name: `${op}${fmt(a.shape)}${fmt(b.shape)}`,
    shader: 'elementwise/binary.wgsl',
    defines: { T: a.dtype, B: b.dtype, O: y.dtype },
    uniforms: {
      n,
      op: code,
      rank: plan.rank,
      count,
      ...vec8('shape', plan.shape, 1),
      ...vec8('sa', plan.strides[0]),
      ...vec8('sb', plan.strides[1]),
    },
    buffers: { a: a.buffer, b: b.buffer, y: y.buffer },
    workgroups: linearGrid(n, 256),
  });
}

function modCode(attrs: Attrs, dtype: DType): number {
  const fmod = intAttr(attrs, 'fmod', 0, 'Mod');
  if (fmod !== 0 && fmod !== 1)
    throw new WgsegError('BAD_ATTRIBUTE', `Mod: attribute fmod must be 0 or 1, got ${fmod}`);
  if (fmod === 0 && FLOAT.has(dtype))
    throw new WgsegError('BAD_ATTRIBUTE', `Mod: fmod=0 is for integer inputs; ${dtype} needs fmod=1`);
  return fmod ? 7 : 8;
}

function binary(op: string): OpKernel {
  return {
    op,
    fold: BINARY_FOLD[op],
    infer(inputs, attrs) {
      const [a, b] = need(op, inputs, 2);
      // Pow's exponent may have its own dtype (ONNX T1/T2)
      const dtype = op === 'Pow' ? a.dtype : sameDtype(op, [a, b]);
      if (op === 'Mod') modCode(attrs, dtype);
      const shape = broadcastShapes(op, [a.shape, b.shape]);
      if (op === 'PRelu' && fmt(shape) !== fmt(a.shape)) {
        throw new WgsegError('BAD_SHAPE', `PRelu: slope ${fmt(b.shape)} does not broadcast to X ${fmt(a.shape)}`);
      }
      return [{ shape, dtype: COMPARE.has(op) ? 'u32' : dtype }];
    },
    encode(rt, [a, b], [y], attrs) {
      encodeBinary(rt, op, op === 'Mod' ? modCode(attrs, a!.dtype) : BINARY_CODES[op], a!, b!, y);
    },
  };
}

/** Sum, Mean, Max, Min over 1..N inputs: a chain of binary dispatches ping-ponging into y. */
function variadic(op: string): OpKernel {
  return {
    op,
    ...VARIADIC_EXTRA[op],
    infer(inputs) {
      if (inputs.length === 0) throw new WgsegError('BAD_INPUT', `${op}: needs at least one input`);
      const xs = need(op, inputs, inputs.length);
      return [
        {
          shape: broadcastShapes(
            op,
            xs.map((x) => x.shape),
          ),
          dtype: sameDtype(op, xs),
        },
      ];
    },
    encode(rt, inputs, [y]) {
      const xs = inputs as GpuTensor[];
      if (xs.length === 1) return rt.copy(xs[0].buffer, y.buffer, numel(y.shape) * BYTES[y.dtype]);
      const steps = xs.length - 1;
      const tmp = steps > 1 ? rt.alloc(y.shape, y.dtype) : null;
      let acc = xs[0];
      for (let s = 1; s <= steps; s++) {
        const dst = (steps - s) % 2 === 0 ? y : tmp!;
        const code = op === 'Mean' && s === steps ? MEAN_LAST : VARIADIC_CODES[op];
        encodeBinary(rt, op, code, acc, xs[s], dst, xs.length);
        acc = dst;
      }
      if (tmp) rt.pool.release(tmp.buffer);
    },
  };
}

const where: OpKernel = {
  op: 'Where',
  keepsRange: true,
  fold: (xs, _a, n) => {
    const [c, x, y] = [0, 1, 2].map((i) => arg(n.op, xs, i));
    return hostElementwise(n.op, [c, x, y], x.type, (p, u, v) => (p ? u : v));
  },
  infer(inputs) {
    const [c, x, z] = need('Where', inputs, 3);
    if (c.dtype !== 'u32' && c.dtype !== 'i32')
      throw new WgsegError('UNSUPPORTED_DTYPE', `Where: condition must be bool (u32/i32), got ${c.dtype}`);
    return [{ shape: broadcastShapes('Where', [c.shape, x.shape, z.shape]), dtype: sameDtype('Where', [x, z]) }];
  },
  encode(rt, [c, x, z], [y]) {
    const n = numel(y.shape);
    const plan = broadcastPlan('Where', y.shape, [c!.shape, x!.shape, z!.shape]);
    const [sc, sx, sz] = plan.strides;
    rt.dispatch({
      name: `Where${fmt(y.shape)}`,
      shader: 'elementwise/where.wgsl',
      defines: { T: y.dtype },
      uniforms: {
        n,
        rank: plan.rank,
        ...vec8('shape', plan.shape, 1),
        ...vec8('sc', sc),
        ...vec8('sx', sx),
        ...vec8('sz', sz),
      },
      buffers: { cond: c!.buffer, x: x!.buffer, z: z!.buffer, y: y.buffer },
      workgroups: linearGrid(n, 256),
    });
  },
};

/** Boolean logic: no kernel, evaluated on the host only (it must fold). */
const logic: OpRecord[] = [
  { op: 'And', fold: hostBinary((a, b) => +(!!a && !!b), true) },
  { op: 'Or', fold: hostBinary((a, b) => +(!!a || !!b), true) },
  { op: 'Not', fold: hostUnary((v) => +!v, 'bool') },
];

export const elementwiseOps: OpRecord[] = [
  ...Object.keys(UNARY_CODES).map(unary),
  ...Object.keys(BINARY_CODES).map(binary),
  ...Object.keys(VARIADIC_CODES).map(variadic),
  where,
  ...logic,
];
