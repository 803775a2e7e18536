import type { OpKernel } from './types';

export const softmaxKernels: OpKernel[] = [];
