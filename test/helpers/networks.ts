// The seed networks live in bench/onnx/networks.ts (shared with the peer benchmark and its page).
export * from '../../bench/onnx/networks';
