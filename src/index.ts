// Public entry point: Session (model -> GPU inference), plus the kernel-level API underneath.
export { Session, Tensor, loadGraph, type SessionOptions, type TensorInput, type ValueInfo, type HostData } from './session';
export type { Graph, Node, ValueDesc, Dim } from './graph/ir';
export type { ElemType, ConstData } from './core/dtype';
export type { NodeTiming } from './graph/executor';
export type { Precision } from './core/dtype';
export { unsupportedOps } from './graph/support';
export { WgsegError, type WgsegErrorCode } from './core/errors';
export { getDevice, onDeviceLost, deviceLostReason, type GetDeviceOptions } from './gpu/device';
export type { DeviceInfo } from './core/op';
export { Runtime, type RuntimeOptions } from './gpu/runtime';
export type { Program } from './core/op';
export { gpuMemory, type GpuMemory } from './gpu/memory';
export type { Timing } from './gpu/profiler';
export type { DType, HostArray } from './core/dtype';
export type { GpuTensor } from './core/op';
export { registry, kernelFor } from './kernels/registry';
export { runKernel } from './kernels/dispatch';
export type { Attrs } from './core/attrs';
export type { OpKernel, TensorInfo } from './core/op';
// Seed architectures (src/models/): built on the graph builder, weights from safetensors by PyTorch state_dict names.
export { GraphBuilder } from './graph/builder';
export { Model } from './models/model';
export { readSafetensors, writeSafetensors, type NamedTensor } from './import/safetensors';
export { fcn, type FcnOptions, type FcnVariant } from './models/fcn';
export { deeplabV3, deeplabV3Plus, type DeepLabOptions } from './models/deeplab';
export { unet, type UNetOptions } from './models/unet';
export { stnClassifier, spatialTransformer, spatialTransformerModel, IDENTITY_THETA, type StnOptions, type TransformerOptions } from './models/stn';
export { srn, type SrnOptions } from './models/srn';
export * as layers from './models/layers';
export { DenseCRF, type DenseCRFOptions, type CrfResult, type HostImage } from './pipelines/crf/crf';
// Browser pieces (webcam demo): GPU preprocessing of video frames, mask smoothing and compositing.
export * from './web/preprocess';
export * from './web/composite';
export * from './web/smooth';
// OCR (src/pipelines/ocr/): PP-OCRv4 detection + rectification + recognition on WebGPU.
export * from './pipelines/ocr/index';
