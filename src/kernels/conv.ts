import type { OpKernel } from './types';

export const convKernels: OpKernel[] = [];
