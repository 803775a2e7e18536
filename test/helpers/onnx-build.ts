// The ONNX builder lives in bench/onnx/build.ts (shared with the peer benchmark and its page).
export * from '../../bench/onnx/build';
