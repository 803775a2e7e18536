import type { ConstData, ElemType } from '../core/dtype';
import type { Attrs } from '../core/attrs';

/**
 * The graph IR every importer produces and the executor consumes: plain data, no GPU, no file
 * format. Values are named; nodes name their inputs/outputs ('' marks an omitted optional input).
 * Shapes are static once bound: a dim is a number, or a string (symbolic, e.g. 'batch') until
 * `bindInputs` replaces it with the size of the first input given.
 */

export type Dim = number | string;

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
