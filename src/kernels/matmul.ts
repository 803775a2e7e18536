import type { OpKernel } from './types';

export const matmulKernels: OpKernel[] = [];
