import { strAttr, type Attrs } from '../core/attrs';
import { numel, stridesOf } from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { GpuTensor, KernelContext, TensorInfo } from '../core/op';
import { vec8 } from './broadcast';
import { linearGrid } from './dispatch';

// Einsum (one or two operands; the forms exports use: batched matmul, transposes, attention scores,
// traces, diagonals, sums): the plan (labels -> sizes and strides), its GEMM form where there is one
// (the record in matmul.ts runs that on the tiled GEMM), and shaders/matmul/einsum.wgsl for any
// equation: a label map, one invocation per output.

const MAX_LABELS = 8;
const bad = (msg: string): never => {
  throw new WgsegError('BAD_ATTRIBUTE', `Einsum: ${msg}`);
};

export interface EinsumPlan {
  out: number[];
  /** per output label: size, stride in a, stride in b */
  outDims: [number, number, number][];
  sumDims: [number, number, number][];
}

/** Labels of one term, '...' expanded to `ell` placeholder labels ('0'..) right-aligned to `rank` dims. */
function termLabels(term: string, rank: number | undefined, ellRank: number): string[] {
  const parts = term.split('...');
  if (parts.length > 2) bad(`term "${term}" has more than one ellipsis`);
  for (const p of parts) if (!/^[a-zA-Z]*$/.test(p)) bad(`term "${term}" has a character that is not a letter`);
  if (parts.length === 1) return [...parts[0]];
  const ell = rank === undefined ? ellRank : rank - parts[0].length - parts[1].length;
  if (ell < 0) bad(`term "${term}" has more labels than its operand has dims (${rank})`);
  const e = Array.from({ length: ell }, (_, k) => String(ellRank - ell + k));
  return [...parts[0], ...e, ...parts[1]];
}

export function einsumPlan(equation: string, shapes: number[][]): EinsumPlan {
  const eq = equation.replace(/\s/g, '');
  const [lhs, rhs] = eq.includes('->') ? eq.split('->') : [eq, undefined];
  const terms = lhs.split(',');
  if (terms.length !== shapes.length)
    bad(`equation "${equation}" has ${terms.length} operand terms for ${shapes.length} inputs`);
  const ellRank = Math.max(
    0,
    ...terms.map((t, k) => (t.includes('...') ? shapes[k].length - t.replace('...', '').length : 0)),
  );
  const labels = terms.map((t, k) => termLabels(t, shapes[k].length, ellRank));
  const size = new Map<string, number>();
  labels.forEach((ls, k) => {
    if (ls.length !== shapes[k].length)
      bad(`term "${terms[k]}" has ${ls.length} labels for an operand of rank ${shapes[k].length}`);
    ls.forEach((l, d) => {
      const n = shapes[k][d],
        s = size.get(l);
      if (s === undefined || s === 1) size.set(l, n);
      else if (n !== s && n !== 1) bad(`label ${l} is ${s} in one place and ${n} in another`);
    });
  });
  const ells = Array.from({ length: ellRank }, (_, k) => String(k));
  let outLabels: string[];
  if (rhs === undefined) {
    // implicit output: the ellipsis dims, then the labels seen once, alphabetically
    const count = new Map<string, number>();
    for (const l of labels.flat()) count.set(l, (count.get(l) ?? 0) + 1);
    outLabels = [
      ...ells,
      ...[...count]
        .filter(([l, c]) => c === 1 && !/\d/.test(l))
        .map(([l]) => l)
        .sort(),
    ];
  } else outLabels = termLabels(rhs, undefined, ellRank);
  if (new Set(outLabels).size !== outLabels.length) bad(`output "${rhs}" repeats a label`);
  for (const l of outLabels) if (!size.has(l)) bad(`output label ${l} appears in no operand`);
  const sumLabels = [...size.keys()].filter((l) => !outLabels.includes(l));
  if (outLabels.length > MAX_LABELS || sumLabels.length > MAX_LABELS)
    bad(`at most ${MAX_LABELS} output and ${MAX_LABELS} summed labels`);
  const strides = shapes.map(stridesOf);
  // a label's stride in operand k: the sum over its dims with that label (diagonals), 0 where broadcast
  const strideOf = (l: string, k: number) =>
    labels[k]?.reduce((s, m, d) => (m === l && shapes[k][d] !== 1 ? s + strides[k][d] : s), 0) ?? 0;
  const dim = (l: string): [number, number, number] => [size.get(l)!, strideOf(l, 0), strideOf(l, 1)];
  return { out: outLabels.map((l) => size.get(l)!), outDims: outLabels.map(dim), sumDims: sumLabels.map(dim) };
}

/** One GEMM over strided operands, as matmul.wgsl sees it: sizes, element strides, batch layout (matmul.ts runs it). */
export interface StridedGemm {
  M: number;
  N: number;
  K: number;
  aRs: number;
  aCs: number;
  bRs: number;
  bCs: number;
  bshape: number[];
  aBs: number[];
  bBs: number[];
}

/**
 * The plan as one batched GEMM, when it is one: two operands; every summed label in both (at most
 * one: K); output labels in both (batch, at most 4) first, then A's own (M), then B's own (N), several
 * of one kind only where contiguous in their operand. Size-1 labels are left out (coordinate 0).
 */
export function einsumAsGemm(p: EinsumPlan, operands: number): StridedGemm | undefined {
  if (operands !== 2) return undefined;
  const out = p.outDims.filter((d) => d[0] !== 1),
    sum = p.sumDims.filter((d) => d[0] !== 1);
  // summed labels contiguous in both operands merge into one K: 'bij,bij->b'
  const ks: [number, number, number][] = [];
  for (const d of sum) {
    const last = ks[ks.length - 1];
    if (last && last[1] === d[0] * d[1] && last[2] === d[0] * d[2]) ks[ks.length - 1] = [last[0] * d[0], d[1], d[2]];
    else ks.push(d);
  }
  if (ks.length > 1 || ks.some((d) => !d[1] || !d[2])) return undefined;
  const role = (d: [number, number, number]) => (d[1] && d[2] ? 0 : d[1] ? 1 : 2);
  // adjacent labels of A's own (or B's own) that are contiguous there merge into one M (or N): 'bnc,cd->bnd'
  const merged: [number, number, number][] = [];
  for (const d of out) {
    const last = merged[merged.length - 1];
    const r = role(d);
    if (last && r && role(last) === r && last[r] === d[0] * d[r])
      merged[merged.length - 1] = [last[0] * d[0], r === 1 ? d[1] : 0, r === 2 ? d[2] : 0];
    else merged.push(d);
  }
  const roles = merged.map(role);
  if (roles.some((r, i) => i > 0 && r < roles[i - 1])) return undefined;
  const batch = merged.filter((d) => role(d) === 0),
    m = merged.find((d) => role(d) === 1),
    n = merged.find((d) => role(d) === 2);
  if (batch.length > 4 || roles.filter((r) => r === 1).length > 1 || roles.filter((r) => r === 2).length > 1)
    return undefined;
  const k = ks[0];
  return {
    M: m?.[0] ?? 1,
    N: n?.[0] ?? 1,
    K: k?.[0] ?? 1,
    aRs: m?.[1] ?? 0,
    aCs: k?.[1] ?? 0,
    bRs: k?.[2] ?? 0,
    bCs: n?.[2] ?? 0,
    bshape: batch.map((d) => d[0]),
    aBs: batch.map((d) => d[1]),
    bBs: batch.map((d) => d[2]),
  };
}

export function einsumOperands(inputs: (TensorInfo | undefined)[]): TensorInfo[] {
  const xs = inputs.filter((t): t is TensorInfo => !!t);
  if (xs.length < 1 || xs.length > 2 || xs.length !== inputs.length)
    throw new WgsegError('BAD_INPUT', `Einsum: ${inputs.length} operands; wgseg runs one or two`);
  if (xs.some((t) => t.dtype !== xs[0].dtype) || (xs[0].dtype !== 'f32' && xs[0].dtype !== 'f16'))
    throw new WgsegError('UNSUPPORTED_DTYPE', `Einsum: operands ${xs.map((t) => t.dtype).join(', ')}; f32 or f16`);
  return xs;
}

export const einsumEquation = (attrs: Attrs) =>
  strAttr(attrs, 'equation', '', 'Einsum') || bad('the equation attribute is required');

/** Any equation on the label-map kernel. */
export function encodeEinsumLabels(
  rt: KernelContext,
  inputs: (GpuTensor | undefined)[],
  y: GpuTensor,
  attrs: Attrs,
): void {
  const xs = einsumOperands(inputs);
  const p = einsumPlan(
    einsumEquation(attrs),
    xs.map((t) => t.shape),
  );
  const n = numel(p.out);
  const col = (ds: [number, number, number][], i: number) => ds.map((d) => d[i]);
  rt.dispatch({
    name: `Einsum(${einsumEquation(attrs)})`,
    shader: 'matmul/einsum.wgsl',
    defines: { T: y.dtype },
    uniforms: {
      n,
      out_rank: p.outDims.length,
      sum_rank: p.sumDims.length,
      terms: numel(col(p.sumDims, 0)),
      two: xs.length === 2 ? 1 : 0,
      ...vec8('out_size', col(p.outDims, 0), 1),
      ...vec8('out_sa', col(p.outDims, 1)),
      ...vec8('out_sb', col(p.outDims, 2)),
      ...vec8('sum_size', col(p.sumDims, 0), 1),
      ...vec8('sum_sa', col(p.sumDims, 1)),
      ...vec8('sum_sb', col(p.sumDims, 2)),
    },
    buffers: { a: inputs[0]!.buffer, b: (inputs[1] ?? inputs[0])!.buffer, y: y.buffer },
    workgroups: linearGrid(n, 64),
  });
}
