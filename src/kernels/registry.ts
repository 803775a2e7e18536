import { WgsegError } from '../core/errors';
import { isKernel, type OpKernel, type OpRecord } from '../core/op';
import { castOps } from './cast';
import { convKernels } from './conv';
import { convTransposeKernels } from './conv-transpose';
import { elementwiseOps } from './elementwise';
import { gridSampleKernels } from './grid-sample';
import { layoutOps } from './layout';
import { matmulKernels } from './matmul';
import { normKernels } from './norm';
import { poolKernels } from './pool';
import { quantOps } from './quant';
import { quantGemmKernels } from './quant-gemm';
import { resizeKernels } from './resize';
import { shapeOps } from './shape';
import { softmaxKernels } from './softmax';

/**
 * op type -> its record. The one place that knows every op: the graph layer (shape inference,
 * folding, support, planning, execution) asks here and never names an op.
 */
export const registry = new Map<string, OpRecord>();

const families: OpRecord[][] = [
  convKernels,
  convTransposeKernels,
  gridSampleKernels,
  resizeKernels,
  poolKernels,
  normKernels,
  softmaxKernels,
  elementwiseOps,
  layoutOps,
  shapeOps,
  castOps,
  matmulKernels,
  quantOps,
  quantGemmKernels,
];
for (const r of families.flat()) {
  if (registry.has(r.op)) throw new Error(`op ${r.op} registered twice`);
  if (!isKernel(r) && !r.fold) throw new Error(`op ${r.op} has neither a kernel nor a host evaluation`);
  registry.set(r.op, r);
}

/** The record of a GPU kernel for `op`; UNSUPPORTED_OP when there is none (unknown, or host only). */
export function kernelFor(op: string): OpKernel {
  const r = registry.get(op);
  if (!isKernel(r)) throw new WgsegError('UNSUPPORTED_OP', `no kernel for op ${op}`);
  return r;
}

/** The record of `op` when it runs on the GPU, else undefined. */
export function kernelOf(op: string): OpKernel | undefined {
  const r = registry.get(op);
  return isKernel(r) ? r : undefined;
}

export { castOp } from './cast';
