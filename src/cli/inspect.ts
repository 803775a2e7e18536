import { WgsegError } from '../core/errors';
import type { Dim, Graph } from '../graph/ir';
import { ELEM_TYPES } from '../core/dtype';
import { optimize } from '../graph/fusion-rules';
import { planMemory } from '../graph/plan';
import { resolve } from '../graph/shapes';
import { describeUnsupported } from '../graph/support';
import type { CliIo } from './io';
import { loadModel } from './files';

export const fmtShape = (s: readonly Dim[] | undefined) => (s ? `[${s.join(', ')}]` : '[?]');

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Op name -> count, most frequent first, then by name. */
export function opCounts(g: Graph): [string, number][] {
  const counts = new Map<string, number>();
  for (const n of g.nodes) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Elements and bytes of all host constants (initializers and Constant nodes). */
export function parameters(g: Graph): { count: number; bytes: number } {
  let count = 0,
    bytes = 0;
  for (const v of g.values.values()) {
    if (!v.data) continue;
    count += v.data.length;
    bytes += v.data.length * ELEM_TYPES[v.type].bytes;
  }
  return { count, bytes };
}

/**
 * `wgseg inspect`: everything is read on the host (import, shape inference, memory plan), no GPU.
 * Unsupported ops are listed, not an error: inspect is a diagnostic and exits 0 for any model it
 * can read; a malformed file is still an error.
 */
export async function inspectCommand(
  cmd: { model: string; shapes: Record<string, number[]> },
  io: CliIo,
): Promise<void> {
  const g = await loadModel(cmd.model);
  for (const name of Object.keys(cmd.shapes)) {
    if (!g.inputs.includes(name))
      throw new WgsegError(
        'BAD_INPUT',
        `--shape ${name}: the model has no input "${name}" (inputs: ${g.inputs.join(', ')})`,
      );
  }
  const missing = describeUnsupported(g);
  // shapes and types of every value come from inference, which needs every input dim (--shape
  // binds symbolic ones) and every op supported
  const symbolic = g.inputs.filter(
    (name) => !cmd.shapes[name] && g.values.get(name)?.shape?.some((d) => typeof d !== 'number'),
  );
  const r = missing || symbolic.length ? undefined : optimize(resolve(g, cmd.shapes, 'f32'));
  const desc = (name: string) => {
    const v = r?.graph.values.get(name) ?? g.values.get(name);
    return `  ${name}  ${v?.type ?? '?'}  ${fmtShape(v?.shape)}`;
  };
  const ops = opCounts(g);
  io.out(`model: ${g.source}`);
  io.out(`inputs (${g.inputs.length}):`);
  for (const name of g.inputs) io.out(desc(name));
  io.out(`outputs (${g.outputs.length}):`);
  for (const name of g.outputs) io.out(desc(name));
  io.out(`ops (${g.nodes.length} nodes, ${ops.length} kinds):`);
  for (const [op, n] of ops) io.out(`  ${op}  ${n}`);
  const p = parameters(g);
  io.out(`parameters: ${p.count.toLocaleString('en-US')} (${fmtBytes(p.bytes)})`);
  io.out(`unsupported ops: ${missing || 'none'}`);
  if (r) {
    const plan = planMemory(r.graph, r.gpu);
    io.out(
      `planned peak: ${fmtBytes(plan.peakBytes)} of intermediate buffers at f32 (${fmtBytes(plan.sumBytes)} without reuse; ${r.graph.nodes.length} nodes after folding and fusion)`,
    );
  } else if (missing) {
    io.out('planned peak: unknown (unsupported ops)');
  } else {
    io.out(
      `planned peak: unknown (symbolic dims in ${symbolic.map((n) => `${n} ${fmtShape(g.values.get(n)?.shape)}`).join(', ')}; give --shape ${symbolic[0]}=...)`,
    );
  }
}
