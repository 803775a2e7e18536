import type { OpKernel } from './types';

export const resizeKernels: OpKernel[] = [];
