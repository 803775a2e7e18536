import { WgsegError } from '../core/errors';
import type { Attrs } from '../core/attrs';
import type { ConstData, ElemType } from '../core/dtype';
import type { Dim, Graph, Node, ValueDesc } from './ir';

/**
 * Build a graph in code (the seed models in src/models/ use it; ONNX import does not). Values are
 * names; `op` appends a node and returns its output name(s). Parameters are named constants whose
 * data may arrive later (Model.load from safetensors): `param` records the name and shape only.
 */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly values = new Map<string, ValueDesc>();
  /** every defined name: values above + node outputs (whose type and shape come from inference) */
  private readonly names = new Set<string>();
  private readonly inputs: string[] = [];
  private readonly outputs: string[] = [];
  /** parameter name -> shape, in creation order (PyTorch state_dict order for the seed models) */
  readonly params = new Map<string, number[]>();
  private n = 0;

  constructor(readonly source: string) {}

  private fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.n++}`;
    while (this.names.has(name));
    return name;
  }

  private define(v: ValueDesc): string {
    if (this.names.has(v.name)) throw new WgsegError('BAD_INPUT', `${this.source}: value ${v.name} defined twice`);
    this.names.add(v.name);
    this.values.set(v.name, v);
    return v.name;
  }

  input(name: string, shape: Dim[], type: ElemType = 'float32'): string {
    this.inputs.push(name);
    return this.define({ name, type, shape: [...shape] });
  }

  /** A constant known now (index tensors, sizes, fixed grids). int64 data as plain numbers. */
  constant(data: ArrayLike<number>, shape: number[], type: ElemType = 'float32', hint = 'const'): string {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n)
      throw new WgsegError('BAD_SHAPE', `${this.source}: constant ${hint}: ${data.length} values for shape [${shape}]`);
    const values: ConstData =
      type === 'float32' || type === 'float16'
        ? Float32Array.from(data)
        : type === 'bool'
          ? Uint8Array.from(data)
          : Float64Array.from(data);
    return this.define({ name: this.fresh(hint), type, shape: [...shape], data: values });
  }

  /** int64 1-D constant (shapes, axes, sizes). */
  ints(values: number[], hint = 'ints'): string {
    return this.constant(values, [values.length], 'int64', hint);
  }

  /** A named float32 parameter; `init` gives its data when no weights are loaded (else Model.load must). */
  param(name: string, shape: number[], init?: Float32Array): string {
    if (this.params.has(name)) throw new WgsegError('BAD_INPUT', `${this.source}: parameter ${name} declared twice`);
    this.params.set(name, [...shape]);
    return this.define({ name, type: 'float32', shape: [...shape], data: init });
  }

  /** Append a node; returns its output (or `outputs` outputs). Omitted optional inputs: undefined or ''. */
  op(op: string, inputs: (string | undefined)[], attrs?: Attrs): string;
  op(op: string, inputs: (string | undefined)[], attrs: Attrs, outputs: number): string[];
  op(op: string, inputs: (string | undefined)[], attrs: Attrs = {}, outputs?: number): string | string[] {
    for (const i of inputs) {
      if (i && !this.names.has(i))
        throw new WgsegError('BAD_INPUT', `${this.source}: ${op} reads ${i}, which is not defined`);
    }
    const outs = Array.from({ length: outputs ?? 1 }, () => this.fresh(op.toLowerCase()));
    for (const o of outs) this.names.add(o);
    this.nodes.push({
      op,
      name: outs[0],
      inputs: inputs.map((i) => i ?? ''),
      outputs: outs,
      attrs: { __opset: 21, ...attrs },
    });
    return outputs === undefined ? outs[0] : outs;
  }

  /** Mark `value` as a graph output under `name` (an Identity renames it when the names differ). */
  output(value: string, name = value): string {
    if (name !== value) {
      if (this.names.has(name))
        throw new WgsegError('BAD_INPUT', `${this.source}: output name ${name} is already a value`);
      this.names.add(name);
      this.nodes.push({ op: 'Identity', name, inputs: [value], outputs: [name], attrs: {} });
    }
    this.outputs.push(name);
    return name;
  }

  build(): Graph {
    if (!this.outputs.length) throw new WgsegError('BAD_INPUT', `${this.source}: graph has no outputs`);
    return {
      source: this.source,
      nodes: [...this.nodes],
      values: new Map(this.values),
      inputs: [...this.inputs],
      outputs: [...this.outputs],
    };
  }
}
