import { stridesOf } from '../core/dtype';
import { WgsegError } from '../core/errors';

/** Numpy/ONNX multidirectional broadcast of `shapes`; throws BAD_SHAPE naming the op. */
export function broadcastShapes(op: string, shapes: readonly number[][]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let d = 0; d < rank; d++) {
    const dims = shapes.map((s) => s[s.length - rank + d] ?? 1).filter((v) => v !== 1);
    if (dims.some((v) => v !== dims[0])) {
      throw new WgsegError(
        'BAD_SHAPE',
        `${op}: shapes ${shapes.map((s) => `[${s.join(',')}]`).join(', ')} do not broadcast (dim ${d})`,
      );
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
    return out.map((_o, d) => {
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
  if (shape.length > MAX_RANK)
    throw new WgsegError(
      'BAD_SHAPE',
      `${op}: broadcast of rank ${shape.length} exceeds ${MAX_RANK} after merging dims`,
    );
  if (shape.length === 0) return { rank: 1, shape: [1], strides: ins.map(() => [0]) };
  return { rank: shape.length, shape, strides: merged };
}

/** Two vec4 uniform fields `${name}0`, `${name}1` holding up to 8 values. */
export function vec8(name: string, xs: readonly number[], fill = 0): Record<string, number[]> {
  const v = [...xs, ...new Array(8 - xs.length).fill(fill)];
  return { [`${name}0`]: v.slice(0, 4), [`${name}1`]: v.slice(4, 8) };
}
