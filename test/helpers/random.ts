// The seeded rng lives in bench/onnx/random.ts (shared with the ONNX builders and the peer benchmark).
export * from '../../bench/onnx/random';
