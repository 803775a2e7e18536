import type { OpKernel } from './types';

export const poolKernels: OpKernel[] = [];
