import { WgsegError } from '../core/errors';
import type { ConstData, ElemType } from '../core/dtype';
import type { Dim, Graph, Node, ValueDesc } from '../graph/ir';
import type { AttrValue, Attrs } from '../core/attrs';
import { opAtOpsetError, opsetError } from './onnx-opset';
import {
  checkDims,
  decodeModel,
  type OnnxAttr,
  type OnnxDType,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type TensorData,
  type ExternalData,
} from './onnx-proto';

/** onnxruntime contrib ops (domain com.microsoft) read as the ops of the same name. */
const MS_DOMAIN = new Set(['QLinearAdd', 'QLinearMul']);

/**
 * ONNX ModelProto bytes -> graph IR (src/graph/ir.ts). Decoding is onnx-proto.ts; this file checks
 * what wgseg can take (opset 11-25, and 9-10 op by op: onnx-opset.ts; default domain only, no
 * subgraphs, no sparse data; external data through `external`, which a loader gives where it can
 * read files beside the model; sizes under 2 GiB), turns initializers and Constant nodes into host constants, converts attributes
 * to kernel attributes, and orders the nodes topologically. It never looks at the kernel registry:
 * whether each op has a kernel is the graph layer's question (unsupportedOps).
 * Every error is a WgsegError whose message starts with `source`.
 */

export { MAX_OPSET, MIN_OPSET, OLDEST_OPSET } from './onnx-opset';

const ELEM: Partial<Record<OnnxDType, ElemType>> = {
  float: 'float32',
  float16: 'float16',
  double: 'float64',
  bfloat16: 'float32',
  int64: 'int64',
  uint64: 'uint64',
  int32: 'int32',
  uint32: 'uint32',
  int16: 'int16',
  uint16: 'uint16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

/** Decoder storage -> ConstData: floats Float32Array (float64 stays Float64Array), int64/uint64/uint32 Float64Array, other ints Int32Array, uint8/bool Uint8Array. */
function constData(t: TensorData, type: ElemType): ConstData {
  const d = t.data;
  if (type === 'float32' || type === 'float16') return d instanceof Float32Array ? d : Float32Array.from(d);
  if (type === 'float64' || type === 'int64' || type === 'uint64' || type === 'uint32')
    return d instanceof Float64Array ? d : Float64Array.from(d);
  if (type === 'uint8' || type === 'bool') return d instanceof Uint8Array ? d : Uint8Array.from(d);
  return d instanceof Int32Array ? d : Int32Array.from(d);
}

export function importOnnx(bytes: Uint8Array, source: string, external?: ExternalData): Graph {
  const fail = (code: WgsegError['code'], msg: string): never => {
    throw new WgsegError(code, `${source}: ${msg}`);
  };
  if (bytes.byteLength === 0) fail('MALFORMED_FILE', 'empty file (0 bytes), not an ONNX model');
  let model: OnnxModel;
  try {
    model = decodeModel(bytes, external);
  } catch (e) {
    // protobuf decoding errors arrive as WgsegError (onnx-proto.ts); anything else is a bug to fix, not to rename
    if (e instanceof WgsegError) fail(e.code, e.message.replace(/^ONNX /, ''));
    throw e;
  }
  return new Importer(model, source, fail).run();
}

type Fail = (code: WgsegError['code'], msg: string) => never;

class Importer {
  private values = new Map<string, ValueDesc>();
  /** value name -> what defines it, for duplicate-producer messages */
  private definedBy = new Map<string, string>();
  constructor(
    private model: OnnxModel,
    private source: string,
    private fail: Fail,
  ) {}

  run(): Graph {
    const { model, fail } = this;
    const g = model.graph;
    const bad = opsetError(model.opset);
    if (bad) fail('UNSUPPORTED_OP', bad);
    if (g.sparseInitializers?.length)
      fail('UNSUPPORTED_DTYPE', `sparse initializer "${g.sparseInitializers[0]}": sparse tensors are not supported`);
    if (g.nodes.length === 0) fail('MALFORMED_FILE', `graph "${g.name}" is empty (no nodes)`);
    if (g.outputs.length === 0) fail('MALFORMED_FILE', `graph "${g.name}" has no outputs`);

    for (const t of g.initializers)
      this.define(t.name, `initializer "${t.name}"`, this.tensorValue(t, `initializer "${t.name}"`));
    const inputs: string[] = [];
    for (const v of g.inputs) {
      if (this.values.has(v.name)) continue; // IR < 4: initializers are listed as inputs too
      const what = `input "${v.name}"`;
      if (!v.name) fail('MALFORMED_FILE', 'a graph input has no name');
      if (!v.dtype) fail('UNSUPPORTED_DTYPE', `${what} is not a tensor`);
      const type = ELEM[v.dtype!];
      if (!type || v.dtype === 'bfloat16')
        fail('UNSUPPORTED_DTYPE', `${what} has element type ${v.dtype}, which wgseg does not take as an input`);
      this.define(v.name, what, {
        name: v.name,
        type: type!,
        ...(v.shape ? { shape: this.inputShape(v.shape, what) } : {}),
      });
      inputs.push(v.name);
    }

    const nodes: Node[] = [];
    g.nodes.forEach((n, i) => {
      const name = n.name || n.outputs[0] || `#${i}`;
      const where = `node ${name} (${n.opType})`;
      if (n.domain !== '' && !(MS_DOMAIN.has(n.opType) && n.domain === 'com.microsoft'))
        fail('UNSUPPORTED_OP', `${where}: domain "${n.domain}" is not supported (only the default ONNX domain)`);
      const old = opAtOpsetError(n.opType, model.opset, n.attrs);
      if (old) fail(old.code, `${where}: ${old.msg}`);
      if (n.outputs.length === 0 || n.outputs.every((o) => o === '')) fail('MALFORMED_FILE', `${where} has no outputs`);
      if (n.opType === 'Constant') {
        if (n.outputs.length !== 1) fail('MALFORMED_FILE', `${where} must have exactly one output`);
        this.define(n.outputs[0], where, this.constantValue(n, where));
        return;
      }
      for (const o of n.outputs) if (o !== '') this.define(o, where);
      nodes.push(this.convertNode(n, name, where));
    });

    const sorted = this.topoSort(nodes);
    const outputs = g.outputs.map((o) => {
      if (!this.definedBy.has(o.name))
        fail('MALFORMED_FILE', `graph output "${o.name}" is not produced by any node, initializer or input`);
      return o.name;
    });
    return { source: this.source, nodes: sorted, values: this.values, inputs, outputs };
  }

  /** Registers a value name; a second definition is an error. Node outputs get no ValueDesc here (their type and shape come from inference). */
  private define(name: string, by: string, desc?: ValueDesc): void {
    if (!name) this.fail('MALFORMED_FILE', `${by} defines a value with an empty name`);
    const prev = this.definedBy.get(name);
    if (prev !== undefined) this.fail('MALFORMED_FILE', `value "${name}" is defined twice: by ${prev} and by ${by}`);
    this.definedBy.set(name, by);
    if (desc) this.values.set(name, desc);
  }

  private inputShape(shape: (number | string)[], what: string): Dim[] {
    for (const d of shape) {
      if (typeof d !== 'number') continue;
      if (d < 0 || !Number.isSafeInteger(d))
        this.fail('BAD_SHAPE', `${what} has an invalid dim ${d} in [${shape.join(',')}]`);
    }
    const fixed = shape.filter((d): d is number => typeof d === 'number');
    try {
      checkDims(fixed, 'float', what);
    } catch {
      this.fail('BAD_SHAPE', `${what}: shape [${shape.join(',')}] is over the limit of 2^31 elements / 2 GiB`);
    }
    return shape;
  }

  private tensorValue(t: TensorData, what: string): ValueDesc {
    const type = ELEM[t.dtype] ?? this.fail('UNSUPPORTED_DTYPE', `${what} has element type ${t.dtype}`);
    return { name: t.name, type, shape: t.dims, data: constData(t, type) };
  }

  /** Constant node -> host value (value, value_float(s), value_int(s)); strings and sparse values are rejected. */
  private constantValue(n: OnnxNode, where: string): ValueDesc {
    const name = n.outputs[0];
    const a = n.attrs;
    const keys = Object.keys(a);
    if (keys.length !== 1)
      this.fail('MALFORMED_FILE', `${where} must have exactly one value attribute, has [${keys.join(', ')}]`);
    const v = a[keys[0]];
    switch (keys[0]) {
      case 'value': {
        const t = v as TensorData;
        if (typeof t !== 'object' || Array.isArray(t) || !('data' in t))
          this.fail('BAD_ATTRIBUTE', `${where}: attribute value must be a tensor`);
        return { ...this.tensorValue(t, where), name };
      }
      case 'value_float':
      case 'value_int':
        if (typeof v !== 'number') this.fail('BAD_ATTRIBUTE', `${where}: attribute ${keys[0]} must be a number`);
        return {
          name,
          type: keys[0] === 'value_int' ? 'int64' : 'float32',
          shape: [],
          data: keys[0] === 'value_int' ? Float64Array.of(v as number) : Float32Array.of(v as number),
        };
      case 'value_floats':
      case 'value_ints': {
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'number'))
          this.fail('BAD_ATTRIBUTE', `${where}: attribute ${keys[0]} must be a list of numbers`);
        const xs = v as number[];
        return {
          name,
          type: keys[0] === 'value_ints' ? 'int64' : 'float32',
          shape: [xs.length],
          data: keys[0] === 'value_ints' ? Float64Array.from(xs) : Float32Array.from(xs),
        };
      }
      default:
        return this.fail(
          'UNSUPPORTED_DTYPE',
          `${where}: attribute ${keys[0]} is not supported (value, value_float(s) and value_int(s) are)`,
        );
    }
  }

  /**
   * Attributes -> kernel Attrs (+ `__opset`, and `__outputs` where the node has several outputs:
   * Split without sizes splits into that many); tensors -> node.tensors; graphs are rejected.
   */
  private convertNode(n: OnnxNode, name: string, where: string): Node {
    const attrs: Attrs = {
      __opset: this.model.opset,
      ...(n.outputs.length > 1 ? { __outputs: n.outputs.length } : {}),
    };
    let tensors: Node['tensors'];
    for (const [k, v] of Object.entries(n.attrs) as [string, OnnxAttr][]) {
      if (typeof v === 'number' || typeof v === 'string') attrs[k] = v;
      else if (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string'))
        attrs[k] = v as AttrValue;
      else if (isGraph(v) || (Array.isArray(v) && v.some(isGraph))) {
        this.fail(
          'UNSUPPORTED_OP',
          `${where}: attribute ${k} is a subgraph; control flow (If/Loop/Scan) is not supported`,
        );
      } else if (!Array.isArray(v) && 'data' in v) {
        const t = this.tensorValue(v, `${where}: attribute ${k}`);
        (tensors ??= {})[k] = { type: t.type, shape: t.shape as number[], data: t.data! };
      } else this.fail('BAD_ATTRIBUTE', `${where}: attribute ${k} is a list of tensors, which no supported op takes`);
    }
    return {
      op: n.opType,
      name,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs,
      ...(tensors ? { tensors } : {}),
    };
  }

  /**
   * Nodes in an order where every input is defined before use (the file order when it already is
   * one). Inputs nobody defines and cycles are MALFORMED_FILE naming the node.
   */
  private topoSort(nodes: Node[]): Node[] {
    const producer = new Map<string, number>();
    nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
    for (const n of nodes) {
      for (const x of n.inputs) {
        if (x !== '' && !this.definedBy.has(x)) {
          this.fail(
            'MALFORMED_FILE',
            `node ${n.name} (${n.op}): input "${x}" is not produced by any node, initializer or graph input`,
          );
        }
      }
    }
    const state = new Uint8Array(nodes.length); // 0 new, 1 on the stack, 2 emitted
    const out: Node[] = [];
    for (let root = 0; root < nodes.length; root++) {
      if (state[root]) continue;
      const stack: [number, number][] = [[root, 0]];
      state[root] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1];
        const n = nodes[top[0]];
        if (top[1] < n.inputs.length) {
          const dep = producer.get(n.inputs[top[1]++]);
          if (dep === undefined || state[dep] === 2) continue;
          if (state[dep] === 1)
            this.fail(
              'MALFORMED_FILE',
              `node ${n.name} (${n.op}): cycle through input "${n.inputs[top[1] - 1]}" (produced by node ${nodes[dep].name})`,
            );
          state[dep] = 1;
          stack.push([dep, 0]);
        } else {
          state[top[0]] = 2;
          out.push(n);
          stack.pop();
        }
      }
    }
    return out;
  }
}

const isGraph = (v: unknown): v is OnnxGraph =>
  typeof v === 'object' && v !== null && 'nodes' in v && 'initializers' in v;
