import type { KernelContext } from '../core/op';
import { WgsegError } from '../core/errors';
import { BYTES, numel, stridesOf, type DType } from '../core/dtype';
import type { GpuTensor } from '../core/op';
import { floatAttr, intAttr } from '../core/attrs';
import { linearGrid } from './dispatch';
import type { Attrs } from '../core/attrs';
import type { HostValues, OpKernel, TensorInfo } from '../core/op';

const UNARY_CODES: Record<string, number> = {
  Identity: 0, Relu: 1, Clip: 2, LeakyRelu: 3, Sigmoid: 4, HardSigmoid: 5, HardSwish: 6, Tanh: 7,
  Exp: 16, Neg: 17, Abs: 18, Sqrt: 19, Log: 20, Reciprocal: 21, Floor: 22, Ceil: 23, Swish: 24, Elu: 25, Round: 26,
};

const FLT_MAX = 3.4028234663852886e38;

function unaryParams(op: string, attrs: Attrs, host: HostValues): [number, number] {
  switch (op) {
    case 'Clip': {
      const lo = host[1]?.[0] ?? (attrs.min as number | undefined) ?? -FLT_MAX;
      const hi = host[2]?.[0] ?? (attrs.max as number | undefined) ?? FLT_MAX;
      return [lo, hi];
    }
    case 'LeakyRelu': return [floatAttr(attrs, 'alpha', 0.01, op), 0];
    case 'HardSigmoid': return [floatAttr(attrs, 'alpha', 0.2, op), floatAttr(attrs, 'beta', 0.5, op)];
    case 'Elu': return [floatAttr(attrs, 'alpha', 1, op), 0];
    case 'Swish': return [floatAttr(attrs, 'alpha', 1, op), 0];
    default: return [0, 0];
  }
}

function unary(op: string): OpKernel {
  return {
    op,
    hostInputs: op === 'Clip' ? [1, 2] : undefined,
    infer(inputs: (TensorInfo | undefined)[]) {
      const x = inputs[0];
      if (!x) throw new WgsegError('BAD_INPUT', `${op}: missing input`);
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

// ---- broadcasting ------------------------------------------------------------------------------

/** Numpy/ONNX multidirectional broadcast of `shapes`; throws BAD_SHAPE naming the op. */
export function broadcastShapes(op: string, shapes: readonly number[][]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let d = 0; d < rank; d++) {
    const dims = shapes.map((s) => s[s.length - rank + d] ?? 1).filter((v) => v !== 1);
    if (dims.some((v) => v !== dims[0])) {
      throw new WgsegError('BAD_SHAPE', `${op}: shapes ${shapes.map((s) => `[${s.join(',')}]`).join(', ')} do not broadcast (dim ${d})`);
    }
    out.push(dims[0] ?? 1);
  }
  return out;
}

const MAX_RANK = 8;

/**
 * Index plan for reading each input at the output's coordinates: size-1 output dims dropped and
 * runs of dims that every input walks contiguously merged (equal shapes and scalars give rank 1).
 */
export function broadcastPlan(op: string, out: readonly number[], ins: readonly (readonly number[])[]) {
  const strides = ins.map((s) => {
    const st = stridesOf(s);
    return out.map((o, d) => {
      const k = d - (out.length - s.length);
      return k < 0 || s[k] === 1 ? 0 : st[k];
    });
  });
  const shape: number[] = [];
  const merged: number[][] = ins.map(() => []);
  out.forEach((size, d) => {
    if (size === 1) return;
    const last = shape.length - 1;
    if (last >= 0 && strides.every((st, k) => merged[k][last] === st[d] * size)) {
      shape[last] *= size;
      strides.forEach((st, k) => (merged[k][last] = st[d]));
    } else {
      shape.push(size);
      strides.forEach((st, k) => merged[k].push(st[d]));
    }
  });
  if (shape.length > MAX_RANK) throw new WgsegError('BAD_SHAPE', `${op}: broadcast of rank ${shape.length} exceeds ${MAX_RANK} after merging dims`);
  if (shape.length === 0) return { rank: 1, shape: [1], strides: ins.map(() => [0]) };
  return { rank: shape.length, shape, strides: merged };
}

/** Two vec4 uniform fields `${name}0`, `${name}1` holding up to 8 values. */
export function vec8(name: string, xs: readonly number[], fill = 0): Record<string, number[]> {
  const v = [...xs, ...new Array(8 - xs.length).fill(fill)];
  return { [`${name}0`]: v.slice(0, 4), [`${name}1`]: v.slice(4, 8) };
}

// ---- binary, variadic, Where -----------------------------------------------------------------

/** Codes of shaders/elementwise/binary.wgsl's `apply`. Mod is 7 (fmod=1) or 8 (fmod=0). */
const BINARY_CODES: Record<string, number> = {
  Add: 0, Sub: 1, Mul: 2, Div: 3, Pow: 4, Mod: 7, PRelu: 9, Equal: 10, Less: 11, Greater: 12, LessOrEqual: 13, GreaterOrEqual: 14,
};
const MEAN_LAST = 15;
const VARIADIC_CODES: Record<string, number> = { Sum: 0, Mean: 0, Max: 5, Min: 6 };
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']);
const FLOAT = new Set<DType>(['f32', 'f16']);

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

function need(op: string, inputs: (TensorInfo | undefined)[], count: number): TensorInfo[] {
  const xs = inputs.slice(0, count);
  if (xs.length < count || xs.some((x) => !x)) throw new WgsegError('BAD_INPUT', `${op}: needs ${count} inputs, got ${inputs.filter(Boolean).length}`);
  return xs as TensorInfo[];
}

function sameDtype(op: string, xs: TensorInfo[]): DType {
  if (xs.some((x) => x.dtype !== xs[0].dtype)) throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: input dtypes ${xs.map((x) => x.dtype).join(', ')} must match`);
  return xs[0].dtype;
}

function encodeBinary(rt: KernelContext, op: string, code: number, a: GpuTensor, b: GpuTensor, y: GpuTensor, count = 1): void {
  const n = numel(y.shape);
  const plan = broadcastPlan(op, y.shape, [a.shape, b.shape]);
  rt.dispatch({
    name: `${op}${fmt(a.shape)}${fmt(b.shape)}`,
    shader: 'elementwise/binary.wgsl',
    defines: { T: a.dtype, B: b.dtype, O: y.dtype },
    uniforms: { n, op: code, rank: plan.rank, count, ...vec8('shape', plan.shape, 1), ...vec8('sa', plan.strides[0]), ...vec8('sb', plan.strides[1]) },
    buffers: { a: a.buffer, b: b.buffer, y: y.buffer },
    workgroups: linearGrid(n, 256),
  });
}

function modCode(attrs: Attrs, dtype: DType): number {
  const fmod = intAttr(attrs, 'fmod', 0, 'Mod');
  if (fmod !== 0 && fmod !== 1) throw new WgsegError('BAD_ATTRIBUTE', `Mod: attribute fmod must be 0 or 1, got ${fmod}`);
  if (fmod === 0 && FLOAT.has(dtype)) throw new WgsegError('BAD_ATTRIBUTE', `Mod: fmod=0 is for integer inputs; ${dtype} needs fmod=1`);
  return fmod ? 7 : 8;
}

function binary(op: string): OpKernel {
  return {
    op,
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
    infer(inputs) {
      if (inputs.length === 0) throw new WgsegError('BAD_INPUT', `${op}: needs at least one input`);
      const xs = need(op, inputs, inputs.length);
      return [{ shape: broadcastShapes(op, xs.map((x) => x.shape)), dtype: sameDtype(op, xs) }];
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
  infer(inputs) {
    const [c, x, z] = need('Where', inputs, 3);
    if (c.dtype !== 'u32' && c.dtype !== 'i32') throw new WgsegError('UNSUPPORTED_DTYPE', `Where: condition must be bool (u32/i32), got ${c.dtype}`);
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
      uniforms: { n, rank: plan.rank, ...vec8('shape', plan.shape, 1), ...vec8('sc', sc), ...vec8('sx', sx), ...vec8('sz', sz) },
      buffers: { cond: c!.buffer, x: x!.buffer, z: z!.buffer, y: y.buffer },
      workgroups: linearGrid(n, 256),
    });
  },
};

export const elementwiseKernels: OpKernel[] = [
  ...Object.keys(UNARY_CODES).map(unary),
  ...Object.keys(BINARY_CODES).map(binary),
  ...Object.keys(VARIADIC_CODES).map(variadic),
  where,
];
