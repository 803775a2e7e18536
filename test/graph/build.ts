import type { ConstData, ElemType } from '../../src/core/dtype';
import type { Dim, Graph, Node } from '../../src/graph/ir';
import type { Attrs } from '../../src/core/attrs';

/** Hand-built graph IR for graph-layer tests (no file format involved). */
export class GraphBuilder {
  readonly g: Graph = { source: 'test.onnx', nodes: [], values: new Map(), inputs: [], outputs: [] };
  private n = 0;
  input(name: string, shape: Dim[], type: ElemType = 'float32'): string {
    this.g.values.set(name, { name, type, shape });
    this.g.inputs.push(name);
    return name;
  }
  const(name: string, shape: number[], data: number[], type: ElemType = 'int64'): string {
    const d: ConstData = type.startsWith('float')
      ? Float32Array.from(data)
      : type === 'bool'
        ? Uint8Array.from(data)
        : Float64Array.from(data);
    this.g.values.set(name, { name, type, shape, data: d });
    return name;
  }
  node(op: string, inputs: string[], attrs: Attrs = {}, outputs = 1): string {
    const name = `${op.toLowerCase()}_${this.n++}`;
    const outs = Array.from({ length: outputs }, (_, i) => (i ? `${name}:${i}` : name));
    this.g.nodes.push({ op, name, inputs, outputs: outs, attrs } as Node);
    return name;
  }
  output(name: string): this {
    this.g.outputs.push(name);
    return this;
  }
}
