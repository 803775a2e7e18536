// The public API of wgseg (package.json "exports": "."), as explicit names. Layers:
//   Session / Tensor: model file -> GPU inference;   errors, element types, graph IR types;
//   device functions and GPU memory accounting;       seed architectures (graph builders) and safetensors;
//   DenseCRF and OCR pipelines;                       browser helpers of the demos and the widget;
//   `kernels`: the kernel-level API (Runtime, op registry, runKernel), see src/kernel-api.ts.
// The repository's own tools use src/internal.ts for what is not here. A root module: nothing in src/ imports it.

// Sessions
export {
  Session,
  Tensor,
  loadGraph,
  type SessionOptions,
  type TensorInput,
  type ValueInfo,
  type HostData,
} from './session';
export type { NodeTiming } from './graph/executor';
export type { TuneMode, TuningCache, TuningChoice } from './graph/tuning';
export { openTuningCache, memoryTuningCache, type StoredTuning } from './tuning-cache';
export { unsupportedOps } from './graph/support';
export { WgsegError, type WgsegErrorCode } from './core/errors';

// Element types and the graph IR
export type { ElemType, DType, Precision, HostArray, ConstData } from './core/dtype';
export type { Graph, Node, ValueDesc, Dim } from './graph/ir';

// Device and GPU memory
export { getDevice, onDeviceLost, deviceLostReason, type GetDeviceOptions } from './gpu/device';
export type { DeviceInfo } from './core/op';
export { gpuMemory, type GpuMemory } from './gpu/memory';

// Seed architectures (src/models/): built on the graph builder, weights from safetensors by PyTorch state_dict names
export { GraphBuilder } from './graph/builder';
export { Model } from './models/model';
export { readSafetensors, writeSafetensors, type NamedTensor } from './import/safetensors';
export { fcn, type FcnOptions, type FcnVariant } from './models/fcn';
export { deeplabV3, deeplabV3Plus, type DeepLabOptions } from './models/deeplab';
export { unet, type UNetOptions } from './models/unet';
export {
  stnClassifier,
  spatialTransformer,
  spatialTransformerModel,
  IDENTITY_THETA,
  type StnOptions,
  type TransformerOptions,
} from './models/stn';
export { srn, type SrnOptions } from './models/srn';
export * as layers from './models/layers';

// Pipelines: dense CRF post-processing; OCR (PP-OCRv4 detection + rectification + recognition)
export { DenseCRF, type DenseCRFOptions, type CrfResult, type CrfTensor, type HostImage } from './pipelines/crf/crf';
export {
  createOcr,
  Ocr,
  type OcrOptions,
  type OcrLine,
  type OcrTimings,
  type OcrSource,
  type RgbaImage,
  type OcrAsset,
  type Point,
  type Quad,
} from './pipelines/ocr/index';

// Browser helpers (demos/webcam, demos/ocr, <wgseg-view>): camera and video sources, GPU preprocessing of
// frames, mask smoothing and compositing, the per-frame renderer and its segmentation model.
// The <wgseg-view> element itself is its own entry (src/web/widget.ts, `npm run build:widget`).
export { NO_WEBGPU_MESSAGE, requestCamera, openSource, type FrameSource } from './web/sources';
export { Preprocessor, type PreprocessOptions, type InputLayout } from './web/preprocess';
export { MaskSmoother } from './web/smooth';
export {
  Compositor,
  COMPOSITE_MODES,
  coverFit,
  type CompositeMode,
  type CompositeOptions,
  type Background,
} from './web/composite';
export { SegmentRenderer, maskStats, type FrameSample, type FrameInput, type StageTimes } from './web/renderer';
export { loadSegModel, type SegModel } from './web/seg-model';
export { FrameStats, nextFrame } from './web/frame-loop';

// The kernel-level API: kernels.Runtime, kernels.registry, kernels.kernelFor, kernels.runKernel, record types
export * as kernels from './kernel-api';
