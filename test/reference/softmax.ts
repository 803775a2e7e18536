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
