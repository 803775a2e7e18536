import { describe, expect, it } from 'vitest';
import { planMemory, valueBytes, type MemoryPlan } from '../../src/graph/plan';
import { resolve } from '../../src/graph/shapes';
import { GraphBuilder } from './build';

/** Every pair of values whose lifetimes overlap must sit in different slots (views excepted), each slot big enough. */
function checkPlan(
  p: MemoryPlan,
  g: ReturnType<typeof resolve>['graph'],
  gpu: ReturnType<typeof resolve>['gpu'],
  views: Set<string>,
) {
  const life = new Map<string, [number, number]>();
  g.inputs.forEach((x) => life.set(x, [-1, -1]));
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => !views.has(n.op) && life.set(o, [i, i])));
  const owner = (v: string): string => {
    const n = g.nodes.find((m) => m.outputs.includes(v));
    return n && views.has(n.op) ? owner(n.inputs[0]) : v;
  };
  g.nodes.forEach((n, i) => n.inputs.forEach((x) => life.has(owner(x)) && (life.get(owner(x))![1] = i)));
  g.outputs.forEach((o) => (life.get(owner(o))![1] = g.nodes.length));
  const vs = [...life.keys()];
  for (const v of vs)
    expect(p.slots[p.slotOf.get(v)!]).toBeGreaterThanOrEqual(
      valueBytes(g.values.get(v)!.shape as number[], gpu.get(v)!),
    );
  for (const a of vs)
    for (const b of vs) {
      if (a >= b) continue;
      const [s1, e1] = life.get(a)!,
        [s2, e2] = life.get(b)!;
      const overlap = s1 <= e2 && s2 <= e1;
      if (overlap) expect(p.slotOf.get(a), `${a} and ${b} overlap in time`).not.toBe(p.slotOf.get(b));
    }
}

describe('memory plan (no GPU)', () => {
  it('reuses dead buffers: a chain needs two slots, peak < sum', () => {
    const b = new GraphBuilder();
    let v = b.input('x', [1, 8, 32, 32]);
    for (let i = 0; i < 6; i++) v = b.node(i % 2 ? 'Relu' : 'Sigmoid', [v]);
    b.output(v);
    const r = resolve(b.g, {});
    const p = planMemory(r.graph, r.gpu);
    const size = 8 * 32 * 32 * 4;
    expect(p.sumBytes).toBe(6 * size);
    expect(p.peakBytes).toBe(2 * size);
    expect(p.inputSlots.size).toBe(1);
    checkPlan(p, r.graph, r.gpu, new Set(['Reshape']));
  });

  it('views alias their input and keep it alive; skip connections stay live', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 8, 8]);
    const a = b.node('Relu', [x]);
    const flat = b.node('Reshape', [a, b.const('s', [2], [1, -1])]);
    const c = b.node('Sigmoid', [x]);
    const d = b.node('Tanh', [c]);
    const e = b.node('Reshape', [d, b.const('s2', [2], [1, -1])]);
    const sum = b.node('Add', [flat, e]);
    const f = b.node('Relu', [sum]);
    b.output(f).output(c);
    const r = resolve(b.g, {});
    const p = planMemory(r.graph, r.gpu);
    expect(p.slotOf.get(flat)).toBe(p.slotOf.get(a));
    expect(p.slotOf.get(e)).toBe(p.slotOf.get(d));
    checkPlan(p, r.graph, r.gpu, new Set(['Reshape']));
    expect(p.peakBytes).toBeLessThan(p.sumBytes);
  });

  it('a value nobody reads frees its slot at once; the input slot is never reused', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [64]);
    b.node('Relu', [x]); // dead output (no dead-node removal in the planner itself)
    const y = b.node('Sigmoid', [x]);
    const z = b.node('Tanh', [y]);
    b.output(z);
    const r = resolve(b.g, {});
    const p = planMemory(r.graph, r.gpu);
    expect(p.slotOf.get('relu_0')).toBe(p.slotOf.get('sigmoid_1'));
    for (const v of ['relu_0', 'sigmoid_1', 'tanh_2']) expect(p.inputSlots.has(p.slotOf.get(v)!)).toBe(false);
    checkPlan(p, r.graph, r.gpu, new Set());
  });

  it('grows a freed slot rather than adding one when nothing free is big enough', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 4, 4]);
    const a = b.node('Relu', [x]);
    const c = b.node('Concat', [a, a], { axis: 1 });
    const d = b.node('Concat', [c, c], { axis: 1 });
    const e = b.node('Relu', [d]);
    b.output(e);
    const r = resolve(b.g, {});
    const p = planMemory(r.graph, r.gpu);
    checkPlan(p, r.graph, r.gpu, new Set());
    expect(p.slots.length - p.inputSlots.size).toBe(2);
  });
});
