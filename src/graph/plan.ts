import { WgsegError } from '../core/errors';
import { BYTES, type DType } from '../core/dtype';
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
export function planMemory(
  g: Graph,
  gpu: Map<string, DType>,
  isView: (op: string) => boolean = (op) => !!registry.get(op)?.view,
): MemoryPlan {
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

/** Largest buffers a plan may allocate: one buffer, and everything a session holds at once. */
export interface BufferLimits {
  /** bytes of one GPU buffer (the smaller of the adapter's binding limit and the caller's) */
  maxBufferBytes: number;
  /** where maxBufferBytes comes from, for messages ("the adapter's maxStorageBufferBindingSize") */
  bufferLimit: string;
  /** bytes of every buffer of the plan together (intermediates, inputs, constants, outputs) */
  maxTotalBytes: number;
  totalLimit: string;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/**
 * Checks, before anything is allocated, that every buffer the executor will create for this plan
 * (slots, constants read by kernels, output copies) fits one buffer's limit and that all of them
 * fit the total; else WgsegError('TOO_LARGE') naming the node (or input/constant), shape, type and
 * bytes. Pure: no GPU.
 */
export function checkLimits(g: Graph, gpu: Map<string, DType>, plan: MemoryPlan, limits: BufferLimits): void {
  const producer = new Map<string, string>();
  const reader = new Map<string, string>();
  for (const n of g.nodes) {
    for (const o of n.outputs) if (o) producer.set(o, `node ${n.name} (${n.op}): output ${o}`);
    n.inputs.forEach((x, i) => x && !reader.has(x) && reader.set(x, `node ${n.name} (${n.op}): input ${i}`));
  }
  const describe = (name: string) => {
    const v = g.values.get(name)!;
    const what = v.data
      ? `constant ${name}`
      : g.inputs.includes(name)
        ? `input ${name}`
        : (producer.get(name) ?? `value ${name}`);
    const read = v.data && reader.has(name) ? ` (read by ${reader.get(name)})` : '';
    return `${what} [${(v.shape ?? []).join(',')}] ${gpu.get(name)}${read}`;
  };
  const tooBig = (what: string, bytes: number) => {
    throw new WgsegError(
      'TOO_LARGE',
      `${g.source}: ${what} needs ${bytes} bytes (${mib(bytes)}), over the limit of ${limits.maxBufferBytes} bytes per buffer (${mib(limits.maxBufferBytes)}: ${limits.bufferLimit})`,
    );
  };
  const sizeOf = (name: string) => valueBytes(g.values.get(name)!.shape as number[], gpu.get(name)!);
  // slots: name the largest value that lives in an oversized slot
  const largest = new Map<number, string>();
  for (const [name, s] of plan.slotOf)
    if (!largest.has(s) || sizeOf(name) > sizeOf(largest.get(s)!)) largest.set(s, name);
  plan.slots.forEach(
    (bytes, s) =>
      bytes > limits.maxBufferBytes && tooBig(largest.has(s) ? describe(largest.get(s)!) : `buffer ${s}`, bytes),
  );
  // constants the kernels read on the GPU, and the output copies
  const gpuConsts = new Set<string>();
  for (const n of g.nodes) {
    const host = registry.get(n.op)?.hostInputs ?? [];
    n.inputs.forEach((x, i) => x && !host.includes(i) && g.values.get(x)?.data && gpuConsts.add(x));
  }
  for (const o of g.outputs) if (g.values.get(o)?.data) gpuConsts.add(o);
  let total = plan.slots.reduce((a, b) => a + b, 0);
  for (const name of [...gpuConsts, ...g.outputs]) {
    const bytes = sizeOf(name);
    if (bytes > limits.maxBufferBytes) tooBig(describe(name), bytes);
    total += bytes;
  }
  if (total > limits.maxTotalBytes) {
    throw new WgsegError(
      'TOO_LARGE',
      `${g.source}: the plan needs ${total} bytes of GPU buffers (${mib(total)}: ${plan.slots.length} planned buffers of ${mib(plan.slots.reduce((a, b) => a + b, 0))}, ${gpuConsts.size} constants, ${g.outputs.length} outputs), over the limit of ${limits.maxTotalBytes} bytes (${mib(limits.maxTotalBytes)}: ${limits.totalLimit})`,
    );
  }
}
