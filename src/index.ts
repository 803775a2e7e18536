// Public entry point (kernel level for now; Session/graph API arrives with the executor).
export { WgsegError, type WgsegErrorCode } from './errors';
export { getDevice, onDeviceLost, type DeviceInfo, type GetDeviceOptions } from './gpu/device';
export { Runtime, type Program } from './gpu/runtime';
export type { Timing } from './gpu/profiler';
export type { DType, GpuTensor, HostArray } from './gpu/tensor';
export { registry, kernelFor } from './kernels/registry';
export { runKernel } from './kernels/dispatch';
export type { Attrs, OpKernel, TensorInfo } from './kernels/types';
