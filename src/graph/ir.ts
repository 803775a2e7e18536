import type { Attrs } from '../kernels/types';

/**
 * The graph IR every importer produces and the executor consumes: plain data, no GPU, no file
 * format. Values are named; nodes name their inputs/outputs ('' marks an omitted optional input).
 * Shapes are static once bound: a dim is a number, or a string (symbolic, e.g. 'batch') until
 * `bindInputs` replaces it with the size of the first input given.
 */

/**
 * Element type at the graph level (what the model file says). The GPU stores floats as f32/f16, bool
 * as u32 and every integer type as i32: values outside int32 (uint32/uint64/int64 above 2^31 - 1)
 * are refused when they are uploaded or fed.
 */
export type ElemType = 'float32' | 'float16' | 'float64' | 'int64' | 'uint64' | 'int32' | 'uint32' | 'int16' | 'uint16' | 'int8' | 'uint8' | 'bool';
export type Dim = number | string;
/** Host data of a constant: floats as Float32Array, integers (64-bit and uint32 included, exact below 2^53) as Float64Array or Int32Array, bool as Uint8Array. */
export type ConstData = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface ValueDesc {
  name: string;
  type: ElemType;
  /** undefined until inferred */
  shape?: Dim[];
  /** host data for initializers / folded constants (row-major, numel(shape) entries) */
  data?: ConstData;
}

export interface Node {
  op: string;
  /** node name from the file, or its first output */
  name: string;
  inputs: string[];
  outputs: string[];
  /** kernel attributes (ONNX names); `__opset` is set by the importer where semantics changed across opsets */
  attrs: Attrs;
  /** tensor-valued attributes kept on the host (Constant `value`, ConstantOfShape `value`) */
  tensors?: Record<string, { type: ElemType; shape: number[]; data: ConstData }>;
}

export interface Graph {
  /** file name or URL, for error messages */
  source: string;
  nodes: Node[];
  values: Map<string, ValueDesc>;
  /** names of the graph inputs the caller feeds (initializers excluded) */
  inputs: string[];
  outputs: string[];
}

/** `where` prefix for errors: "model.onnx: node conv1 (Conv)". */
export const nodeWhere = (g: Graph, n: Node) => `${g.source}: node ${n.name} (${n.op})`;
