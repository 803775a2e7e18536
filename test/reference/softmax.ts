// f64 references for Softmax/LogSoftmax, ArgMax/ArgMin and the Reduce* ops, from the ONNX definitions.

/** Groups flat indices of `shape` by their coordinates outside `axes` (in row-major order of the rest). */
function groups(shape: number[], axes: Set<number>): { key: number; members: number[] }[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const byKey = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let rem = i,
      key = 0,
      mul = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
      if (!axes.has(d)) (key += c * mul), (mul *= shape[d]);
    }
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push(i);
  }
  return [...byKey.entries()].sort((a, b) => a[0] - b[0]).map(([key, members]) => ({ key, members }));
}

/** softmax(x)_i = exp(x_i) / sum_j exp(x_j) over the group (computed stably in f64). */
export function softmaxRef(x: ArrayLike<number>, shape: number[], axes: number[], log = false): Float64Array {
  const y = new Float64Array(x.length);
  for (const { members } of groups(shape, new Set(axes))) {
    const m = Math.max(...members.map((i) => x[i]));
    const s = members.reduce((a, i) => a + Math.exp(x[i] - m), 0);
    for (const i of members) y[i] = log ? x[i] - m - Math.log(s) : Math.exp(x[i] - m) / s;
  }
  return y;
}

/** Index along `axis` of the max (min) element; ties: first, or last with selectLast. */
export function argRef(
  x: ArrayLike<number>,
  shape: number[],
  axis: number,
  isMin: boolean,
  selectLast: boolean,
): number[] {
  return groups(shape, new Set([axis])).map(({ members }) => {
    let best = 0;
    for (let j = 1; j < members.length; j++) {
      const v = x[members[j]],
        b = x[members[best]];
      if ((isMin ? v < b : v > b) || (v === b && selectLast)) best = j;
    }
    return best;
  });
}

export const reduceRef: Record<string, (v: number[]) => number> = {
  ReduceSum: (v) => v.reduce((a, b) => a + b, 0),
  ReduceMean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  ReduceMax: (v) => Math.max(...v),
  ReduceMin: (v) => Math.min(...v),
  ReduceProd: (v) => v.reduce((a, b) => a * b, 1),
  ReduceSumSquare: (v) => v.reduce((a, b) => a + b * b, 0),
  ReduceL1: (v) => v.reduce((a, b) => a + Math.abs(b), 0),
  ReduceL2: (v) => Math.sqrt(v.reduce((a, b) => a + b * b, 0)),
  ReduceLogSum: (v) => Math.log(v.reduce((a, b) => a + b, 0)),
  ReduceLogSumExp: (v) => Math.log(v.reduce((a, b) => a + Math.exp(b), 0)),
};

/** Reduce over `axes` (all values of one output), outputs in row-major order of the kept dims. */
export function reduceAll(op: string, x: ArrayLike<number>, shape: number[], axes: number[]): number[] {
  return groups(shape, new Set(axes)).map(({ members }) => reduceRef[op](members.map((i) => x[i])));
}

/** The runs of `shape` along `axis`: for each, the flat indices of its elements in order. */
function runsAlong(shape: number[], axis: number): number[][] {
  const len = shape[axis],
    inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1),
    outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const runs: number[][] = [];
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) runs.push(Array.from({ length: len }, (_, a) => (o * len + a) * inner + i));
  return runs;
}

/** ONNX CumSum: y[j] = sum of x over the run up to j (exclusive: before j; reverse: from the end). */
export function cumSumRef(x: ArrayLike<number>, shape: number[], axis: number, exclusive = false, reverse = false) {
  const y = new Array<number>(x.length).fill(0);
  for (const run of runsAlong(shape, axis < 0 ? axis + shape.length : axis)) {
    const order = reverse ? [...run].reverse() : run;
    let acc = 0;
    for (const j of order) {
      if (exclusive) (y[j] = acc), (acc += x[j]);
      else (acc += x[j]), (y[j] = acc);
    }
  }
  return y;
}

/** ONNX TopK, sorted: per run the k largest (or smallest) values, ties to the lower index; values and indices of shape with k on the axis. */
export function topKRef(x: ArrayLike<number>, shape: number[], axis: number, k: number, largest = true) {
  const a = axis < 0 ? axis + shape.length : axis;
  const out = shape.map((d, i) => (i === a ? k : d));
  const values = new Array<number>(out.reduce((p, q) => p * q, 1)),
    indices = new Array<number>(values.length);
  const dst = runsAlong(out, a);
  runsAlong(shape, a).forEach((run, r) => {
    const order = run.map((j, pos) => ({ v: x[j], pos }));
    order.sort((p, q) => (p.v === q.v ? p.pos - q.pos : largest ? q.v - p.v : p.v - q.v));
    for (let t = 0; t < k; t++) (values[dst[r][t]] = order[t].v), (indices[dst[r][t]] = order[t].pos);
  });
  return { values, indices, shape: out };
}
