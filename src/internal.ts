// Not public API; for bench/, tools/, scripts/ and tests; may change without notice.
// What the repository's own tools need beyond src/index.ts: the kernel-level API flat (public as the
// `kernels` namespace), tuning knobs, importers, the host-side helpers they drive, the pipeline cache.
// Browser-safe (bench/peers and demos/bench run in a page): nothing from src/cli/ or node: modules.
// A root module: nothing in src/ imports it. Node-only tools may also import src/cli/ (tools/fuzz uses its feed reader).
export * from './kernel-api';

// Tuning knobs (bench/*-perf.ts, bench/conv-compile.ts set them from the environment)
export { convTuning } from './kernels/conv';
export { convTransposeTuning } from './kernels/conv-transpose';
export { GEMM_TILE } from './kernels/matmul';

// Element-type helpers
export { numel, toHalf, fromHalf } from './core/dtype';

// Device facts of a GPUDevice wgseg did not create (the bench pages report the adapter)
export { deviceInfo, dawnAdapterName, SWIFTSHADER_ICD } from './gpu/device';
export { PipelineCache } from './gpu/pipeline-cache';

// Importers and file formats below Session (ONNX protobuf, npy)
export { importOnnx } from './import/onnx';
export { importTflite } from './import/tflite';
export { decodeModel, type OnnxAttr, type OnnxModel, type TensorData } from './import/onnx-proto';
export { ONNX_SCHEMA } from './import/onnx-schema';
export { readNpy, writeNpy, type NpyArray, type NpyDtype } from './import/npy';

// Graph passes (fuzzing picks ops by what folds on the host)
export { foldableOps } from './graph/fold';
