// Public entry point: Session (model -> GPU inference), plus the kernel-level API underneath.
export { Session, Tensor, loadGraph, type SessionOptions, type TensorInput, type ValueInfo, type HostData } from './session';
export type { Graph, Node, ValueDesc, ElemType, Dim, ConstData } from './graph/ir';
export type { NodeTiming } from './graph/executor';
export type { Precision } from './graph/shapes';
export { unsupportedOps } from './graph/support';
export { WgsegError, type WgsegErrorCode } from './errors';
export { getDevice, onDeviceLost, type DeviceInfo, type GetDeviceOptions } from './gpu/device';
export { Runtime, type Program } from './gpu/runtime';
export type { Timing } from './gpu/profiler';
export type { DType, GpuTensor, HostArray } from './gpu/tensor';
export { registry, kernelFor } from './kernels/registry';
export { runKernel } from './kernels/dispatch';
export type { Attrs, OpKernel, TensorInfo } from './kernels/types';
