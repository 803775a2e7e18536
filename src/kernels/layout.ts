import type { OpKernel } from './types';

export const layoutKernels: OpKernel[] = [];
