import type { HostTensor } from '../core/op';
import { evalOnHost } from '../kernels/host-eval';
import { registry } from '../kernels/registry';
import type { Node } from './ir';

/**
 * Constant folding on the host: each op's record says whether and how (its `fold`); this file only
 * asks. Big float math (Conv on constants...) is not folded.
 */

/** Ops the host can evaluate; those without a kernel (Shape, Range, Not...) must fold to run at all. */
export const foldableOps = (): string[] => [...registry.values()].filter((r) => r.fold).map((r) => r.op);
export const canFold = (op: string) => !!registry.get(op)?.fold;

/**
 * Evaluate one node on the host; throws with the op named on bad arguments, and TOO_LARGE (before
 * allocating) when the result would have more than `cap` elements.
 */
export function foldNode(node: Node, inputs: (HostTensor | undefined)[], cap?: number): HostTensor {
  return evalOnHost(registry.get(node.op), node, inputs, cap);
}
