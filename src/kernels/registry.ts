import { WgsegError } from '../errors';
import { elementwiseKernels } from './elementwise';
import type { OpKernel } from './types';

/** op type -> kernel. The one place that knows every op; the executor looks ops up here. */
export const registry = new Map<string, OpKernel>();

for (const k of [...elementwiseKernels]) {
  if (registry.has(k.op)) throw new Error(`kernel ${k.op} registered twice`);
  registry.set(k.op, k);
}

export function kernelFor(op: string): OpKernel {
  const k = registry.get(op);
  if (!k) throw new WgsegError('UNSUPPORTED_OP', `no kernel for op ${op}`);
  return k;
}
