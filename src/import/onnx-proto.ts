import { WgsegError } from '../core/errors';
import { fromHalf } from '../core/dtype';
import { ONNX_SCHEMA } from './onnx-schema';
import { protoType } from './protobuf';

/**
 * ONNX protobuf reader: bytes in, plain objects out (no GPU, no graph IR). Decoding is done by
 * protobuf.ts (no code generation, so it runs under a strict CSP) from the schema in onnx-schema.ts;
 * this file only turns the messages into typed arrays and plain attribute values. Tests and tools
 * encode ONNX with protobufjs from the same schema (onnxType in bench/onnx/build.ts).
 */

/** ONNX TensorProto.DataType, by enum value. */
// biome-ignore format: a table, kept dense
const DTYPES = ['undefined', 'float', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool', 'float16', 'double', 'uint32', 'uint64', 'complex64', 'complex128', 'bfloat16',
  // IR 9-12 (opsets 19-25): 8/4/2-bit types, named so that they are refused as such
  'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'uint4', 'int4', 'float4e2m1', 'float8e8m0', 'uint2', 'int2'] as const;
/** Types that decode to no array here: refused as UNSUPPORTED_DTYPE wherever they appear. */
// biome-ignore format: a table, kept dense
const UNREAD = new Set<OnnxDType>(['string', 'complex64', 'complex128', 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'uint4', 'int4', 'float4e2m1', 'float8e8m0', 'uint2', 'int2']);
export type OnnxDType = (typeof DTYPES)[number];

/** Element storage per dtype: float16/bfloat16 widen to f32; int64/uint64 to f64 (exact below 2^53); bool is 0/1. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

export interface TensorData {
  name: string;
  dims: number[];
  dtype: OnnxDType;
  data: NumericArray;
}
export interface ValueInfo {
  name: string;
  /** absent when the value's type is not a tensor type */
  dtype?: OnnxDType;
  /** absent when the rank is unknown; symbolic dims are their dim_param (or '?') */
  shape?: (number | string)[];
}
export type OnnxAttr = number | string | number[] | string[] | TensorData | TensorData[] | OnnxGraph | OnnxGraph[];
export interface OnnxNode {
  opType: string;
  /** '' for the default ONNX domain ('ai.onnx' is normalised to '') */
  domain: string;
  name: string;
  /** '' marks an omitted optional input/output */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttr>;
}
export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: TensorData[];
  /** as listed in the file; with IR < 4 this may include initializers */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** names of sparse_initializer tensors (not decoded: wgseg rejects them) */
  sparseInitializers?: string[];
}
export interface OnnxModel {
  irVersion: number;
  /** opset version of the default domain */
  opset: number;
  /** every opset import, domain -> version ('' for the default domain) */
  opsets: Record<string, number>;
  producer: string;
  graph: OnnxGraph;
}
/** Resolves TensorProto external data (location relative to the model file). */
export type ExternalData = (location: string, offset: number, length: number | undefined) => Uint8Array;

/** int64/uint64 fields: numbers, exact below 2^53 (protobuf.ts). */
type Int64 = number;
/** The decoded TensorProto message (field names as in onnx-schema.ts). */
export interface TensorProtoMsg {
  dims: Int64[];
  dataType: number;
  name: string;
  rawData?: Uint8Array;
  floatData: number[];
  int32Data: number[];
  int64Data: Int64[];
  doubleData: number[];
  uint64Data: Int64[];
  stringData: Uint8Array[];
  dataLocation: number;
  externalData: { key: string; value: string }[];
}

type MessageName = 'ModelProto' | 'TensorProto';
const types = new Map<MessageName, ReturnType<typeof protoType>>();

const malformed = (what: string, why: string): never => {
  throw new WgsegError('MALFORMED_FILE', `ONNX ${what}: ${why}`);
};
const utf8 = new TextDecoder();

function decode<T>(name: MessageName, bytes: Uint8Array): T {
  let type = types.get(name);
  if (!type) types.set(name, (type = protoType(ONNX_SCHEMA, `onnx.${name}`)));
  try {
    return type.decode(bytes) as unknown as T;
  } catch (e) {
    return malformed(
      name,
      `cannot decode ${bytes.byteLength} bytes: truncated or not an ONNX file (${(e as Error).message})`,
    );
  }
}

/** A serialized TensorProto (e.g. a backend-test input_0.pb) -> tensor. */
export function decodeTensor(bytes: Uint8Array, external?: ExternalData): TensorData {
  return tensorFromProto(decode<TensorProtoMsg>('TensorProto', bytes), external);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function rawView(raw: Uint8Array, dtype: OnnxDType, n: number, what: string): NumericArray {
  const size = {
    float: 4,
    uint8: 1,
    int8: 1,
    uint16: 2,
    int16: 2,
    int32: 4,
    int64: 8,
    bool: 1,
    float16: 2,
    double: 8,
    uint32: 4,
    uint64: 8,
    bfloat16: 2,
  }[dtype as string];
  if (size === undefined) return malformed(what, `raw_data for dtype ${dtype}`);
  if (raw.byteLength !== n * size) malformed(what, `raw_data has ${raw.byteLength} bytes, want ${n} x ${size}`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const fill = <A extends NumericArray>(out: A, get: (i: number) => number): A => {
    for (let i = 0; i < n; i++) out[i] = get(i);
    return out;
  };
  switch (dtype) {
    // one block copy (aligned, and never a view into a Node Buffer pool)
    case 'float':
      return LITTLE_ENDIAN
        ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
        : fill(new Float32Array(n), (i) => dv.getFloat32(i * 4, true));
    case 'double':
      return fill(new Float64Array(n), (i) => dv.getFloat64(i * 8, true));
    case 'float16':
      return fill(new Float32Array(n), (i) => fromHalf(dv.getUint16(i * 2, true)));
    case 'bfloat16':
      return fill(
        new Float32Array(n),
        (i) => new Float32Array(new Uint32Array([dv.getUint16(i * 2, true) << 16]).buffer)[0],
      );
    case 'int8':
      return fill(new Int8Array(n), (i) => dv.getInt8(i));
    case 'uint8':
      return fill(new Uint8Array(n), (i) => dv.getUint8(i));
    case 'bool':
      return fill(new Uint8Array(n), (i) => (dv.getUint8(i) ? 1 : 0));
    case 'int16':
      return fill(new Int16Array(n), (i) => dv.getInt16(i * 2, true));
    case 'uint16':
      return fill(new Uint16Array(n), (i) => dv.getUint16(i * 2, true));
    case 'int32':
      return fill(new Int32Array(n), (i) => dv.getInt32(i * 4, true));
    case 'uint32':
      return fill(new Uint32Array(n), (i) => dv.getUint32(i * 4, true));
    case 'int64':
      return fill(new Float64Array(n), (i) => Number(dv.getBigInt64(i * 8, true)));
    default:
      return fill(new Float64Array(n), (i) => Number(dv.getBigUint64(i * 8, true)));
  }
}

/** Typed-field storage (float_data, int32_data, int64_data, double_data, uint64_data) -> array. */
function fieldView(t: TensorProtoMsg, dtype: OnnxDType, n: number, what: string): NumericArray {
  // the stored values are counted before anything is allocated for the declared dims
  const [src, make]: [ArrayLike<Int64>, (n: number) => NumericArray] = (() => {
    switch (dtype) {
      case 'float':
        return [t.floatData, (k) => new Float32Array(k)];
      case 'double':
        return [t.doubleData, (k) => new Float64Array(k)];
      case 'int64':
        return [t.int64Data, (k) => new Float64Array(k)];
      case 'uint32':
        return [t.uint64Data, (k) => new Uint32Array(k)];
      case 'uint64':
        return [t.uint64Data, (k) => new Float64Array(k)];
      case 'int8':
        return [t.int32Data, (k) => new Int8Array(k)];
      case 'uint8':
        return [t.int32Data, (k) => new Uint8Array(k)];
      case 'bool':
        return [t.int32Data, (k) => new Uint8Array(k)];
      case 'int16':
        return [t.int32Data, (k) => new Int16Array(k)];
      case 'uint16':
        return [t.int32Data, (k) => new Uint16Array(k)];
      case 'int32':
        return [t.int32Data, (k) => new Int32Array(k)];
      case 'float16':
      case 'bfloat16':
        return [t.int32Data, (k) => new Float32Array(k)];
      default:
        return malformed(what, `no typed field for dtype ${dtype}`);
    }
  })();
  if (src.length !== n) malformed(what, `${src.length} values stored for ${n} elements of ${dtype}`);
  const out = make(n);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    out[i] =
      dtype === 'float16'
        ? fromHalf(v & 0xffff)
        : dtype === 'bfloat16'
          ? new Float32Array(new Uint32Array([(v & 0xffff) << 16]).buffer)[0]
          : dtype === 'bool'
            ? +(v !== 0)
            : v;
  }
  return out;
}

/** Largest tensor wgseg accepts: 2^31 elements and 2 GiB (WebGPU buffers are addressed with 32-bit offsets). */
export const MAX_NUMEL = 2 ** 31;
export const MAX_BYTES = 2 ** 31;
const ELEM_BYTES: Partial<Record<OnnxDType, number>> = {
  double: 8,
  int64: 8,
  uint64: 8,
  float16: 2,
  bfloat16: 2,
  int16: 2,
  uint16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Dims must be non-negative integers with a numel and byte size wgseg can hold: else BAD_SHAPE naming `what`. */
export function checkDims(dims: number[], dtype: OnnxDType, what: string): void {
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new WgsegError('BAD_SHAPE', `ONNX ${what}: invalid dims [${dims.join(',')}]`);
  const n = dims.reduce((a, b) => a * b, 1);
  const bytes = n * (ELEM_BYTES[dtype] ?? 4);
  if (n > MAX_NUMEL || bytes > MAX_BYTES) {
    throw new WgsegError(
      'BAD_SHAPE',
      `ONNX ${what}: dims [${dims.join(',')}] hold ${n} elements (${bytes} bytes), over the limit of 2^31 elements / 2 GiB`,
    );
  }
}

/** Decoded TensorProto message -> {dims, dtype, data}. */
export function tensorFromProto(t: TensorProtoMsg, external?: ExternalData): TensorData {
  const what = `tensor "${t.name ?? ''}"`;
  const dtype = DTYPES[t.dataType];
  if (dtype === undefined || dtype === 'undefined') malformed(what, `unknown data_type ${t.dataType}`);
  if (UNREAD.has(dtype)) {
    throw new WgsegError('UNSUPPORTED_DTYPE', `ONNX ${what}: dtype ${dtype} is not supported`);
  }
  const dims = [...t.dims];
  checkDims(dims, dtype, what);
  const n = dims.reduce((a, b) => a * b, 1);
  let data: NumericArray;
  if (t.dataLocation === 1) {
    const kv = Object.fromEntries(t.externalData.map((e) => [e.key, e.value]));
    if (!kv.location) malformed(what, 'external data without a location');
    const resolve =
      external ??
      malformed(
        what,
        `stored in external file "${kv.location}": external data is not supported; re-export with the weights inside the file`,
      );
    let raw: Uint8Array;
    try {
      raw = resolve(kv.location, Number(kv.offset ?? 0), kv.length === undefined ? undefined : Number(kv.length));
    } catch (e) {
      throw e instanceof WgsegError ? new WgsegError(e.code, `ONNX ${what}: ${e.message}`) : e;
    }
    data = rawView(raw, dtype, n, what);
  } else if (t.rawData && t.rawData.byteLength > 0) {
    data = rawView(t.rawData, dtype, n, what);
  } else {
    data = fieldView(t, dtype, n, what);
  }
  return { name: t.name ?? '', dims, dtype, data };
}

interface AttrMsg {
  name: string;
  sparseTensor?: unknown;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t?: TensorProtoMsg;
  g?: GraphMsg;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProtoMsg[];
  graphs: GraphMsg[];
}
interface ValueInfoMsg {
  name: string;
  type?: { tensorType?: { elemType: number; shape?: { dim: { dimValue?: Int64; dimParam?: string }[] } } };
}
interface NodeMsg {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: AttrMsg[];
}
interface GraphMsg {
  name: string;
  node: NodeMsg[];
  initializer: TensorProtoMsg[];
  input: ValueInfoMsg[];
  output: ValueInfoMsg[];
  sparseInitializer: { values?: TensorProtoMsg }[];
}
interface ModelMsg {
  irVersion: Int64;
  opsetImport: { domain: string; version: Int64 }[];
  producerName: string;
  graph?: GraphMsg;
}

/** AttributeType: FLOAT=1 INT=2 STRING=3 TENSOR=4 GRAPH=5 FLOATS=6 INTS=7 STRINGS=8 TENSORS=9 GRAPHS=10. */
function attrValue(a: AttrMsg, ext: ExternalData | undefined, where: string): OnnxAttr {
  const has = (k: keyof AttrMsg) => Object.hasOwn(a, k);
  // IR v1 files have no type discriminator: infer it from the field that is set.
  const type =
    a.type ||
    (has('sparseTensor')
      ? 11
      : has('f')
        ? 1
        : has('i')
          ? 2
          : has('s')
            ? 3
            : has('t')
              ? 4
              : has('g')
                ? 5
                : a.floats.length
                  ? 6
                  : a.ints.length
                    ? 7
                    : a.strings.length
                      ? 8
                      : a.tensors.length
                        ? 9
                        : a.graphs.length
                          ? 10
                          : 0);
  switch (type) {
    case 1:
      return a.f;
    case 2:
      return a.i;
    case 3:
      return a.s instanceof Uint8Array ? utf8.decode(a.s) : ''; // unset bytes: the proto2 default, empty
    case 4:
      return a.t ? tensorFromProto(a.t, ext) : malformed(where, `tensor attribute ${a.name} has no tensor`);
    case 5:
      return a.g ? graphFrom(a.g, ext) : malformed(where, `graph attribute ${a.name} has no graph`);
    case 6:
      return [...a.floats];
    case 7:
      return [...a.ints];
    case 8:
      return a.strings.map((s) => utf8.decode(s));
    case 9:
      return a.tensors.map((t) => tensorFromProto(t, ext));
    case 10:
      return a.graphs.map((g) => graphFrom(g, ext));
    case 11:
    case 12:
      throw new WgsegError(
        'UNSUPPORTED_DTYPE',
        `ONNX ${where}: attribute ${a.name} is a sparse tensor; sparse tensors are not supported`,
      );
    default:
      throw new WgsegError('BAD_ATTRIBUTE', `ONNX ${where}: attribute ${a.name} has unsupported type ${type}`);
  }
}

function valueInfo(v: ValueInfoMsg): ValueInfo {
  const tt = v.type?.tensorType;
  if (!tt) return { name: v.name };
  const shape = tt.shape?.dim.map((d) => (Object.hasOwn(d, 'dimValue') ? d.dimValue! : d.dimParam || '?'));
  return { name: v.name, dtype: DTYPES[tt.elemType] ?? 'undefined', ...(shape ? { shape } : {}) };
}

function graphFrom(g: GraphMsg, ext: ExternalData | undefined): OnnxGraph {
  const nodes = g.node.map((n, i): OnnxNode => {
    const where = `node ${n.name || i} (${n.opType})`;
    if (!n.opType) malformed(`node ${n.name || i}`, 'missing op_type');
    const attrs: Record<string, OnnxAttr> = {};
    for (const a of n.attribute) attrs[a.name] = attrValue(a, ext, where);
    return {
      opType: n.opType,
      domain: n.domain === 'ai.onnx' ? '' : (n.domain ?? ''),
      name: n.name ?? '',
      inputs: [...n.input],
      outputs: [...n.output],
      attrs,
    };
  });
  return {
    name: g.name ?? '',
    nodes,
    initializers: g.initializer.map((t) => tensorFromProto(t, ext)),
    inputs: g.input.map(valueInfo),
    outputs: g.output.map(valueInfo),
    sparseInitializers: g.sparseInitializer.map((t) => t.values?.name ?? ''),
  };
}

/** A serialized ModelProto (.onnx file) -> model; malformed bytes throw WgsegError('MALFORMED_FILE'). */
export function decodeModel(bytes: Uint8Array, external?: ExternalData): OnnxModel {
  const m = decode<ModelMsg>('ModelProto', bytes);
  if (!m.graph) malformed('ModelProto', 'no graph: not an ONNX model');
  const irVersion = m.irVersion ?? 0;
  const opsets: Record<string, number> = {};
  for (const o of m.opsetImport) opsets[o.domain === 'ai.onnx' ? '' : (o.domain ?? '')] = o.version;
  // IR < 3 predates opset_import: those models are opset 1.
  const opset = opsets[''] ?? (irVersion < 3 ? 1 : malformed('ModelProto', 'no opset_import for the default domain'));
  return { irVersion, opset, opsets, producer: m.producerName ?? '', graph: graphFrom(m.graph!, external) };
}
