// f64 reference for the elementwise ops, written from the ONNX operator definitions.
export const unaryRef: Record<string, (x: number, a: number, b: number) => number> = {
  Identity: (x) => x,
  Relu: (x) => Math.max(x, 0),
  Clip: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
  LeakyRelu: (x, a) => (x >= 0 ? x : a * x),
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  HardSigmoid: (x, a, b) => Math.max(0, Math.min(1, a * x + b)),
  HardSwish: (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  Tanh: (x) => Math.tanh(x),
  Exp: (x) => Math.exp(x),
  Neg: (x) => -x,
  Abs: (x) => Math.abs(x),
  Sqrt: (x) => Math.sqrt(x),
  Log: (x) => Math.log(x),
  Reciprocal: (x) => 1 / x,
  Floor: (x) => Math.floor(x),
  Ceil: (x) => Math.ceil(x),
  Swish: (x, a) => x / (1 + Math.exp(-a * x)),
  Elu: (x, a) => (x > 0 ? x : a * (Math.exp(x) - 1)),
  Erf: (x) => erfRef(x),
  Gelu: (x, a) =>
    a
      ? 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))
      : 0.5 * x * (1 + erfRef(x / Math.SQRT2)),
  Softplus: (x) => Math.log(1 + Math.exp(x)),
  Softsign: (x) => x / (1 + Math.abs(x)),
  Mish: (x) => x * Math.tanh(Math.log(1 + Math.exp(x))),
  Celu: (x, a) => Math.max(0, x) + Math.min(0, a * (Math.exp(x / a) - 1)),
  Selu: (x, a, g) => (x > 0 ? g * x : g * (a * Math.exp(x) - a)),
  ThresholdedRelu: (x, a) => (x > a ? x : 0),
  // ONNX Round: halves go to the even neighbour
  Round: (x) => {
    const f = Math.floor(x),
      d = x - f;
    return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  },
};

/** erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, by composite Simpson's rule (4000 intervals). */
export function erfRef(x: number): number {
  const steps = 4000,
    h = x / steps;
  let s = 1 + Math.exp(-x * x);
  for (let k = 1; k < steps; k++) s += (k % 2 ? 4 : 2) * Math.exp(-((k * h) ** 2));
  return ((s * h) / 3) * (2 / Math.sqrt(Math.PI));
}

// ---- binary ops (numbers are the stored values: f32/f16 as floats, i32/u32 as integers) ----------

export type RefDType = 'f32' | 'f16' | 'i32' | 'u32';

/** Wrap an exact integer result into the dtype (two's complement / modulo 2^32), as C does. */
function wrap(v: number, dtype: RefDType): number {
  if (dtype === 'i32') return Number(BigInt.asIntN(32, BigInt(v)));
  if (dtype === 'u32') return Number(BigInt.asUintN(32, BigInt(v)));
  return v;
}
const isInt = (d: RefDType) => d === 'i32' || d === 'u32';

function intPow(base: number, e: number, dtype: RefDType): number {
  if (e < 0) return base === 1 ? 1 : base === -1 ? (e % 2 ? -1 : 1) : 0;
  let r = 1n;
  for (let k = 0; k < e; k++) r *= BigInt(base);
  return Number(dtype === 'i32' ? BigInt.asIntN(32, r) : BigInt.asUintN(32, r));
}

/** op(a, b) per the ONNX definitions; `fmod` is Mod's attribute. */
export function binaryRef(op: string, a: number, b: number, dtype: RefDType, fmod = 0): number {
  switch (op) {
    case 'Add':
      return wrap(isInt(dtype) ? Number(BigInt(a) + BigInt(b)) : a + b, dtype);
    case 'Sub':
      return wrap(isInt(dtype) ? Number(BigInt(a) - BigInt(b)) : a - b, dtype);
    case 'Mul':
      return isInt(dtype) ? wrap(Number(BigInt(a) * BigInt(b)), dtype) : a * b;
    case 'Div':
      return isInt(dtype) ? Math.trunc(a / b) : a / b;
    case 'Pow':
      return isInt(dtype) ? intPow(a, b, dtype) : a ** b;
    case 'Max':
      return Math.max(a, b);
    case 'Min':
      return Math.min(a, b);
    case 'Mod': {
      const r = a % b; // JS % is C fmod (sign of the dividend)
      if (fmod) return r;
      return r !== 0 && r < 0 !== b < 0 ? r + b : r;
    }
    case 'PRelu':
      return a < 0 ? a * b : a;
    case 'Equal':
      return a === b ? 1 : 0;
    case 'Less':
      return a < b ? 1 : 0;
    case 'Greater':
      return a > b ? 1 : 0;
    case 'LessOrEqual':
      return a <= b ? 1 : 0;
    case 'GreaterOrEqual':
      return a >= b ? 1 : 0;
    default:
      throw new Error(`no reference for ${op}`);
  }
}

export interface RefTensor {
  data: ArrayLike<number>;
  shape: number[];
}

/** Numpy broadcasting by explicit coordinates: out[idx] = f(in_0[idx'], in_1[idx'], ...). */
export function broadcastRef(ins: RefTensor[], f: (...v: number[]) => number): RefTensor {
  const rank = Math.max(0, ...ins.map((t) => t.shape.length));
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) {
    let size = 1;
    for (const t of ins) {
      const s = t.shape[d - (rank - t.shape.length)] ?? 1;
      if (s !== 1) {
        if (size !== 1 && size !== s) throw new Error(`shapes do not broadcast`);
        size = s;
      }
    }
    shape.push(size);
  }
  const n = shape.reduce((p, q) => p * q, 1);
  const data = new Float64Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = rank - 1; d >= 0; d--) (idx[d] = rem % shape[d]), (rem = Math.floor(rem / shape[d]));
    const vals = ins.map((t) => {
      let off = 0;
      const lead = rank - t.shape.length;
      for (let d = 0; d < t.shape.length; d++) off = off * t.shape[d] + (t.shape[d] === 1 ? 0 : idx[d + lead]);
      return t.data[off];
    });
    data[i] = f(...vals);
  }
  return { data, shape };
}
