import type { OpKernel } from './types';

export const convTransposeKernels: OpKernel[] = [];
