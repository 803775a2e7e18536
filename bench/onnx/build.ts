import * as protobuf from 'protobufjs/light.js';
import { ONNX_SCHEMA, toHalf } from '../../src/internal';

/**
 * A tiny programmatic ONNX model builder for tests, the peer benchmark and its page: assembles a ModelProto as a plain object and
 * encodes it with protobufjs through the schema in src/import/onnx-schema.ts (no hand-written
 * protobuf).
 *
 * ```ts
 * const b = new OnnxBuilder({ opset: 17 });
 * const x = b.input('x', [1, 3, 32, 32]);                       // float32 unless a type is given; 'N' = symbolic dim
 * const w = b.init('w', rng(1).array(8 * 27), [8, 3, 3, 3]);    // float32 initializer (raw_data)
 * const s = b.initInt64('shape', [1, -1]);                     // int64 initializer, dims default [n]
 * const y = b.node('Conv', [x, w, ''], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
 * const z = b.node('Relu', [y], {}, { output: 'z', name: 'relu0' });  // chosen output / node names
 * const [a, c] = b.node('Split', [y], { axis: 1 }, { outputs: 2 });   // several outputs -> string[]
 * b.output(y);                                                 // float32 of unknown shape unless given
 * const bytes: Uint8Array = b.bytes();
 * ```
 *
 * Attribute types, unambiguously:
 * - a wrapper always wins: `f(1)` FLOAT, `i(2)` INT, `fs([1, 2])` FLOATS, `is([1])` INTS,
 *   `tensor(data, dims, type)` TENSOR, `graph(subBuilder)` GRAPH;
 * - else a name in FLOAT_ATTRS (alpha, beta, epsilon, ...) is FLOAT / FLOATS;
 * - else a number is INT when Number.isInteger, FLOAT otherwise (arrays: FLOATS if any element is
 *   not an integer); a string is STRING, a string[] STRINGS.
 *
 * For malformed-model tests, `b.model()` returns the plain ModelProto object to edit before
 * `encodeModel(obj)`.
 */

/** Graph element types the builder knows (ir.ts ElemType plus 'string' for rejection tests). */
export type BuildType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool' | 'string';
export const ONNX_DTYPE: Record<BuildType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
};

/** Attribute names whose numbers are floats in the ONNX spec (so `{ alpha: 1 }` is FLOAT 1.0). */
export const FLOAT_ATTRS = new Set([
  'alpha',
  'beta',
  'gamma',
  'epsilon',
  'momentum',
  'bias',
  'lambd',
  'ratio',
  'spatial_scale',
  'extrapolation_value',
  'cubic_coeff_a',
  'value_float',
  'value_floats',
  'scales',
  'min',
  'max',
  'scale',
  'threshold',
  'fmod_float',
]);

class Wrapped {
  constructor(
    readonly kind: 'f' | 'i' | 'fs' | 'is',
    readonly v: number | number[],
  ) {}
}
export class TensorAttr {
  constructor(
    readonly data: ArrayLike<number>,
    readonly dims: number[],
    readonly type: BuildType,
  ) {}
}
export class GraphAttr {
  constructor(readonly g: object) {}
}
export const f = (v: number) => new Wrapped('f', v);
export const i = (v: number) => new Wrapped('i', v);
export const fs = (v: number[]) => new Wrapped('fs', v);
export const is = (v: number[]) => new Wrapped('is', v);
export const tensor = (data: ArrayLike<number>, dims: number[], type: BuildType = 'float32') =>
  new TensorAttr(data, dims, type);
export const graph = (sub: OnnxBuilder) => new GraphAttr(sub.graphProto());
export type AttrInput = number | string | number[] | string[] | Wrapped | TensorAttr | GraphAttr;

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** TensorProto object: floats/ints as raw_data by default, or typed fields with storage 'typed'. */
export function tensorProto(
  name: string,
  data: ArrayLike<number>,
  dims: number[],
  type: BuildType,
  storage: 'raw' | 'typed' = 'raw',
): Record<string, unknown> {
  const dataType = ONNX_DTYPE[type];
  const xs = Array.from(data);
  const base = { name, dims, dataType };
  if (storage === 'typed') {
    switch (type) {
      case 'float32':
        return { ...base, floatData: xs };
      case 'float64':
        return { ...base, doubleData: xs };
      case 'int64':
        return { ...base, int64Data: xs };
      case 'float16':
        return { ...base, int32Data: xs.map(toHalf) };
      case 'string':
        return { ...base, stringData: xs.map((x) => new TextEncoder().encode(String(x))) };
      default:
        return { ...base, int32Data: xs.map((x) => (type === 'bool' ? +!!x : x)) };
    }
  }
  switch (type) {
    case 'float32':
      return { ...base, rawData: bytesOf(Float32Array.from(xs)) };
    case 'float64':
      return { ...base, rawData: bytesOf(Float64Array.from(xs)) };
    case 'float16':
      return { ...base, rawData: bytesOf(Uint16Array.from(xs.map(toHalf))) };
    case 'int64':
      return { ...base, rawData: bytesOf(BigInt64Array.from(xs.map((x) => BigInt(x)))) };
    case 'int32':
      return { ...base, rawData: bytesOf(Int32Array.from(xs)) };
    case 'int8':
      return { ...base, rawData: bytesOf(Int8Array.from(xs)) };
    case 'uint8':
    case 'bool':
      return { ...base, rawData: Uint8Array.from(xs.map((x) => (type === 'bool' ? +!!x : x))) };
    default:
      return tensorProto(name, data, dims, type, 'typed');
  }
}

function attrProto(name: string, v: AttrInput): Record<string, unknown> {
  if (v instanceof Wrapped) {
    if (v.kind === 'f') return { name, type: 1, f: v.v };
    if (v.kind === 'i') return { name, type: 2, i: v.v };
    if (v.kind === 'fs') return { name, type: 6, floats: v.v };
    return { name, type: 7, ints: v.v };
  }
  if (v instanceof TensorAttr) return { name, type: 4, t: tensorProto('', v.data, v.dims, v.type) };
  if (v instanceof GraphAttr) return { name, type: 5, g: v.g };
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  const isFloat = FLOAT_ATTRS.has(name);
  if (typeof v === 'number') return isFloat || !Number.isInteger(v) ? { name, type: 1, f: v } : { name, type: 2, i: v };
  if (v.length > 0 && typeof v[0] === 'string')
    return { name, type: 8, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
  const ns = v as number[];
  return isFloat || ns.some((x) => !Number.isInteger(x)) ? { name, type: 6, floats: ns } : { name, type: 7, ints: ns };
}

function valueInfo(name: string, type: BuildType, shape?: (number | string)[]) {
  const dim = shape?.map((d) => (typeof d === 'number' ? { dimValue: d } : d === '?' ? {} : { dimParam: d }));
  return { name, type: { tensorType: { elemType: ONNX_DTYPE[type], ...(dim ? { shape: { dim } } : {}) } } };
}

let root: protobuf.Root | null = null;
/**
 * The protobufjs type for an onnx message, e.g. onnxType('ModelProto'), to encode (and, in tests, to
 * decode as an independent reference). protobufjs is a dev dependency: the library decodes with
 * src/import/protobuf.ts.
 */
export function onnxType(
  name: 'ModelProto' | 'TensorProto' | 'GraphProto' | 'NodeProto' | 'AttributeProto',
): protobuf.Type {
  return (root ??= protobuf.Root.fromJSON(ONNX_SCHEMA as protobuf.INamespace)).lookupType(`onnx.${name}`);
}

type Obj = Record<string, unknown>;
/** GraphProto / ModelProto as plain objects (protobufjs field names), for editing before encodeModel. */
export interface GraphObject {
  name: string;
  node: Obj[];
  initializer: Obj[];
  input: Obj[];
  output: Obj[];
  [k: string]: unknown;
}
export interface ModelObject {
  irVersion: number;
  producerName: string;
  opsetImport: { domain: string; version: number }[];
  graph: GraphObject;
  [k: string]: unknown;
}

/** Encode a plain ModelProto object (as from `b.model()`) to bytes. */
export function encodeModel(model: object): Uint8Array {
  const T = onnxType('ModelProto');
  return T.encode(T.fromObject(model)).finish();
}

export class OnnxBuilder {
  private nodes: Record<string, unknown>[] = [];
  private inits: Record<string, unknown>[] = [];
  private inputs: Record<string, unknown>[] = [];
  private outputs: Record<string, unknown>[] = [];
  private count = 0;
  readonly opset: number;
  private opts: { opset?: number; irVersion?: number; domains?: Record<string, number>; name?: string };

  constructor(opts: { opset?: number; irVersion?: number; domains?: Record<string, number>; name?: string } = {}) {
    this.opts = opts;
    this.opset = opts.opset ?? 17;
  }

  /** A graph input; dims may be numbers, names (symbolic) or '?' (unnamed). */
  input(name: string, dims?: (number | string)[], type: BuildType = 'float32'): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** A float initializer (or another type); data is stored as raw_data unless storage is 'typed'. */
  init(
    name: string,
    data: ArrayLike<number>,
    dims: number[],
    type: BuildType = 'float32',
    storage: 'raw' | 'typed' = 'raw',
  ): string {
    this.inits.push(tensorProto(name, data, dims, type, storage));
    return name;
  }

  /** An int64 initializer (shapes, axes, pads...); dims default to [data.length]. */
  initInt64(name: string, data: number[], dims: number[] = [data.length]): string {
    return this.init(name, data, dims, 'int64');
  }

  /**
   * A node; returns its output name (`output` names it), or names when `outputs` is a count > 1
   * or a list. Output names default to `<op>_<n>`; `name` defaults to the same.
   */
  node(
    op: string,
    inputs: string[],
    attrs?: Record<string, AttrInput>,
    opts?: { outputs?: 1; output?: string; name?: string; domain?: string },
  ): string;
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrInput> | undefined,
    opts: { outputs: number | string[]; name?: string; domain?: string },
  ): string[];
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrInput> = {},
    opts: { outputs?: number | string[]; output?: string; name?: string; domain?: string } = {},
  ): string | string[] {
    const id = `${op.toLowerCase()}_${this.count++}`;
    const outs = Array.isArray(opts.outputs)
      ? opts.outputs
      : opts.outputs && opts.outputs > 1
        ? Array.from({ length: opts.outputs }, (_, k) => `${id}_${k}`)
        : [opts.output ?? id];
    this.nodes.push({
      opType: op,
      name: opts.name ?? id,
      input: inputs,
      output: outs,
      ...(opts.domain !== undefined ? { domain: opts.domain } : {}),
      attribute: Object.entries(attrs)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => attrProto(k, v)),
    });
    return Array.isArray(opts.outputs) || (opts.outputs ?? 1) > 1 ? outs : outs[0];
  }

  /** Marks a value as graph output (type float32 unless given; shape optional). */
  output(name: string, type: BuildType = 'float32', shape?: (number | string)[]): string {
    this.outputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** The GraphProto object (also what `graph(sub)` embeds as a subgraph attribute). */
  graphProto(): GraphObject {
    return {
      name: this.opts.name ?? 'g',
      node: this.nodes,
      initializer: this.inits,
      input: this.inputs,
      output: this.outputs,
    };
  }

  /** The ModelProto plain object, to edit for malformed-model tests before encodeModel(). */
  model(): ModelObject {
    const opsetImport = [
      { domain: '', version: this.opset },
      ...Object.entries(this.opts.domains ?? {}).map(([domain, version]) => ({ domain, version })),
    ];
    const graph = this.graphProto();
    return { irVersion: this.opts.irVersion ?? 8, producerName: 'wgseg-test', opsetImport, graph };
  }

  bytes(): Uint8Array {
    return encodeModel(this.model());
  }
}
