import { WgsegError } from '../core/errors';
import { convKernels } from './conv';
import { convTransposeKernels } from './conv-transpose';
import { gridSampleKernels } from './grid-sample';
import { resizeKernels } from './resize';
import { poolKernels } from './pool';
import { normKernels } from './norm';
import { softmaxKernels } from './softmax';
import { elementwiseKernels } from './elementwise';
import { layoutKernels } from './layout';
import { matmulKernels } from './matmul';
import type { OpKernel } from '../core/op';

/** op type -> kernel. The one place that knows every op; the executor looks ops up here. */
export const registry = new Map<string, OpKernel>();

const families = [convKernels, convTransposeKernels, gridSampleKernels, resizeKernels, poolKernels, normKernels, softmaxKernels, elementwiseKernels, layoutKernels, matmulKernels];
for (const k of families.flat()) {
  if (registry.has(k.op)) throw new Error(`kernel ${k.op} registered twice`);
  registry.set(k.op, k);
}

export function kernelFor(op: string): OpKernel {
  const k = registry.get(op);
  if (!k) throw new WgsegError('UNSUPPORTED_OP', `no kernel for op ${op}`);
  return k;
}
