import { BYTES, type DType } from '../gpu/tensor';
import { registry } from '../kernels/registry';
import type { Graph } from './ir';

/**
 * The memory plan of a resolved graph: one GPU buffer slot per live intermediate value, reused once
 * the value is dead (last use over the node order decides). View ops (Reshape, Flatten, Squeeze,
 * Unsqueeze) alias their input's slot and extend its life. Graph inputs get slots of their own
 * that are never reused (a caller's buffer may stand in for them); constants are not planned.
 * Pure: no GPU, testable on its own.
 */

export interface MemoryPlan {
  /** slot sizes in bytes (16-byte multiples) */
  slots: number[];
  /** value name -> slot index (views share their source's slot) */
  slotOf: Map<string, number>;
  /** slots holding graph inputs (not counted in peakBytes) */
  inputSlots: Set<number>;
  /** total bytes of the intermediate slots: what one inference needs beyond inputs and constants */
  peakBytes: number;
  /** sum of every intermediate value's size, as if none were reused */
  sumBytes: number;
}

const align = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);

export function valueBytes(shape: readonly number[], dtype: DType): number {
  return align(shape.reduce((a, b) => a * b, 1) * BYTES[dtype]);
}

/** `isView(op)` defaults to the kernel registry's `view` flag. */
export function planMemory(g: Graph, gpu: Map<string, DType>, isView: (op: string) => boolean = (op) => !!registry.get(op)?.view): MemoryPlan {
  const isConst = (name: string) => !!g.values.get(name)?.data;
  const bytesOf = (name: string) => valueBytes(g.values.get(name)!.shape as number[], gpu.get(name)!);
  // root: the value that owns the storage (a view's root is its input's root)
  const root = new Map<string, string>();
  const rootOf = (v: string) => root.get(v) ?? v;
  const last = new Map<string, number>();
  const end = g.nodes.length;
  g.nodes.forEach((n, i) => {
    for (const x of n.inputs) if (x && !isConst(x)) last.set(rootOf(x), i);
    if (isView(n.op) && n.inputs[0] && !isConst(n.inputs[0])) {
      for (const o of n.outputs) if (o) root.set(o, rootOf(n.inputs[0]));
    }
  });
  for (const o of g.outputs) if (!isConst(o)) last.set(rootOf(o), end);

  const dies = new Map<number, string[]>();
  for (const [r, at] of last) dies.set(at, [...(dies.get(at) ?? []), r]);
  const slots: number[] = [];
  const slotOf = new Map<string, number>();
  const inputSlots = new Set<number>();
  const free: number[] = [];
  let sumBytes = 0;
  for (const name of g.inputs) {
    if (isConst(name)) continue; // an input pinned to a value at plan time
    slotOf.set(name, slots.push(bytesOf(name)) - 1);
    inputSlots.add(slots.length - 1);
  }
  /** best fit: the smallest free slot that is big enough, else the largest one grown, else a new one */
  const take = (bytes: number): number => {
    let best = -1;
    for (const s of free) if (slots[s] >= bytes && (best < 0 || slots[s] < slots[best])) best = s;
    if (best < 0) for (const s of free) if (best < 0 || slots[s] > slots[best]) best = s;
    if (best < 0) return slots.push(bytes) - 1;
    free.splice(free.indexOf(best), 1);
    slots[best] = Math.max(slots[best], bytes);
    return best;
  };
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (!o || isConst(o)) continue;
      const r = rootOf(o);
      if (r !== o) {
        slotOf.set(o, slotOf.get(r)!);
        continue;
      }
      const bytes = bytesOf(o);
      sumBytes += bytes;
      slotOf.set(o, take(bytes));
      if (!last.has(o)) dies.set(i, [...(dies.get(i) ?? []), o]); // produced, never read
    }
    const dying = new Set<number>();
    for (const r of dies.get(i) ?? []) if (slotOf.has(r) && !inputSlots.has(slotOf.get(r)!)) dying.add(slotOf.get(r)!);
    free.push(...dying);
  });
  const peakBytes = slots.reduce((s, b, k) => (inputSlots.has(k) ? s : s + b), 0);
  return { slots, slotOf, inputSlots, peakBytes, sumBytes };
}
