// The kernel-level API, public as the `kernels` namespace of src/index.ts (`import { kernels } from 'wgseg'`):
// a Runtime (device, buffer pool, pipeline cache, profiler), the op registry and its records, and
// runKernel to record one op's dispatches without a graph. A root module: nothing in src/ imports it.
export { Runtime, type RuntimeOptions } from './gpu/runtime';
export type { Timing } from './gpu/profiler';
export { registry, kernelFor } from './kernels/registry';
export { runKernel } from './kernels/dispatch';
export type { Attrs, AttrValue } from './core/attrs';
export type {
  GpuTensor,
  HostTensor,
  HostValues,
  KernelContext,
  OpKernel,
  OpRecord,
  Packed,
  Program,
  TensorInfo,
  Variant,
} from './core/op';
