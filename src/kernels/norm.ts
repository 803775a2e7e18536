import type { OpKernel } from './types';

export const normKernels: OpKernel[] = [];
