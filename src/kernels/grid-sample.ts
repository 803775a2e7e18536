import type { OpKernel } from './types';

export const gridSampleKernels: OpKernel[] = [];
