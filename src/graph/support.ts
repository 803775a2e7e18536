import { registry } from '../kernels/registry';
import type { Graph, Node } from './ir';

/** Nodes whose op has no record (every record has a kernel, a host evaluation or both). */
export function unsupportedNodes(g: Graph): Node[] {
  return g.nodes.filter((n) => !registry.has(n.op));
}

/** Distinct unsupported op types, in first-use order (for `wgseg inspect`). */
export function unsupportedOps(g: Graph): string[] {
  return [...new Set(unsupportedNodes(g).map((n) => n.op))];
}

/** "Foo (nodes a, b), Bar (node c)": for the UNSUPPORTED_OP message. */
export function describeUnsupported(g: Graph): string {
  const byOp = new Map<string, string[]>();
  for (const n of unsupportedNodes(g)) byOp.set(n.op, [...(byOp.get(n.op) ?? []), n.name]);
  return [...byOp]
    .map(
      ([op, ns]) =>
        `${op} (node${ns.length > 1 ? 's' : ''} ${ns.slice(0, 5).join(', ')}${ns.length > 5 ? ', ...' : ''})`,
    )
    .join(', ');
}
