import { ByteBuffer } from 'flatbuffers';

/**
 * Read-only accessors for the part of TensorFlow Lite's flatbuffer schema (schema.fbs, version 3)
 * that wgseg imports, on top of the `flatbuffers` runtime's ByteBuffer. A field is named by its
 * slot: its position in the schema's table (flatbuffers identifies fields by position, so the slot
 * numbers below follow schema.fbs' field order; a union field takes two slots, type then value).
 * The runtime does no bounds checking, so every table, vector and string is range-checked here
 * and a bad offset throws `TfliteFormatError` (the importer turns it into MALFORMED_FILE).
 */

export class TfliteFormatError extends Error {}

/** A table of the buffer, with checked field access. */
export class Tab {
  constructor(
    readonly bb: ByteBuffer,
    readonly pos: number,
  ) {
    const cap = bb.capacity();
    if (pos < 0 || pos + 4 > cap)
      throw new TfliteFormatError(`table at byte ${pos} is outside the file (${cap} bytes)`);
    const vt = pos - bb.readInt32(pos);
    if (vt < 0 || vt + 4 > cap) throw new TfliteFormatError(`vtable of the table at byte ${pos} is outside the file`);
    const vtLen = bb.readUint16(vt);
    if (vtLen < 4 || vtLen % 2 || vt + vtLen > cap)
      throw new TfliteFormatError(`vtable of the table at byte ${pos} is malformed`);
    if (pos + bb.readUint16(vt + 2) > cap)
      throw new TfliteFormatError(`table at byte ${pos} runs past the end of the file`);
  }

  /** Absolute position of field `slot`, or 0 when absent. */
  private field(slot: number, size: number): number {
    const o = this.bb.__offset(this.pos, 4 + 2 * slot);
    if (!o) return 0;
    // the runtime reads vtable entries as int16: a field before its table (o < 4, past the soffset) is as corrupt as one past the end
    if (o < 4 || this.pos + o + size > this.bb.capacity())
      throw new TfliteFormatError(`field ${slot} of the table at byte ${this.pos} is outside the file`);
    return this.pos + o;
  }
  has(slot: number): boolean {
    return this.field(slot, 1) !== 0;
  }
  int8(slot: number, dflt = 0): number {
    const p = this.field(slot, 1);
    return p ? this.bb.readInt8(p) : dflt;
  }
  uint8(slot: number, dflt = 0): number {
    const p = this.field(slot, 1);
    return p ? this.bb.readUint8(p) : dflt;
  }
  bool(slot: number): boolean {
    return this.uint8(slot) !== 0;
  }
  int32(slot: number, dflt = 0): number {
    const p = this.field(slot, 4);
    return p ? this.bb.readInt32(p) : dflt;
  }
  uint32(slot: number, dflt = 0): number {
    const p = this.field(slot, 4);
    return p ? this.bb.readUint32(p) : dflt;
  }
  uint64(slot: number): number {
    const p = this.field(slot, 8);
    return p ? Number(this.bb.readUint64(p)) : 0;
  }
  /** Offset target of field `slot` (a sub-table, vector or string), checked to lie in the file. */
  private target(slot: number): number {
    const p = this.field(slot, 4);
    if (!p) return 0;
    const t = this.bb.__indirect(p);
    if (t < 0 || t + 4 > this.bb.capacity())
      throw new TfliteFormatError(`field ${slot} of the table at byte ${this.pos} points outside the file`);
    return t;
  }
  table(slot: number): Tab | null {
    const t = this.target(slot);
    return t ? new Tab(this.bb, t) : null;
  }
  /** [start, length] of a vector of `elem`-byte elements (length 0 when absent). */
  vector(slot: number, elem: number): [number, number] {
    const t = this.target(slot);
    if (!t) return [0, 0];
    const len = this.bb.readInt32(t);
    if (len < 0 || t + 4 + len * elem > this.bb.capacity())
      throw new TfliteFormatError(
        `vector (field ${slot}) of the table at byte ${this.pos} runs past the end of the file`,
      );
    return [t + 4, len];
  }
  tables(slot: number): Tab[] {
    const [s, n] = this.vector(slot, 4);
    return Array.from({ length: n }, (_, i) => {
      const t = this.bb.__indirect(s + 4 * i);
      if (t < 0 || t + 4 > this.bb.capacity())
        throw new TfliteFormatError(`element ${i} of a table vector points outside the file`);
      return new Tab(this.bb, t);
    });
  }
  ints(slot: number): number[] {
    const [s, n] = this.vector(slot, 4);
    return Array.from({ length: n }, (_, i) => this.bb.readInt32(s + 4 * i));
  }
  floats(slot: number): number[] {
    const [s, n] = this.vector(slot, 4);
    return Array.from({ length: n }, (_, i) => this.bb.readFloat32(s + 4 * i));
  }
  longs(slot: number): number[] {
    const [s, n] = this.vector(slot, 8);
    return Array.from({ length: n }, (_, i) => Number(this.bb.readInt64(s + 8 * i)));
  }
  bytes(slot: number): Uint8Array | null {
    const [s, n] = this.vector(slot, 1);
    return s ? this.bb.bytes().subarray(s, s + n) : null;
  }
  string(slot: number): string {
    return this.has(slot) ? (this.bytes(slot) ? new TextDecoder().decode(this.bytes(slot)!) : '') : '';
  }
}

/** TensorType enum -> name (index = value). */
export const TENSOR_TYPES = [
  'FLOAT32',
  'FLOAT16',
  'INT32',
  'UINT8',
  'INT64',
  'STRING',
  'BOOL',
  'INT16',
  'COMPLEX64',
  'INT8',
  'FLOAT64',
  'COMPLEX128',
  'UINT64',
  'RESOURCE',
  'VARIANT',
  'UINT32',
  'UINT16',
  'INT4',
];

/** BuiltinOperator values wgseg knows by name (others are reported by number). */
export const BUILTIN: Record<number, string> = {
  0: 'ADD',
  1: 'AVERAGE_POOL_2D',
  2: 'CONCATENATION',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  5: 'DEPTH_TO_SPACE',
  6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED',
  14: 'LOGISTIC',
  17: 'MAX_POOL_2D',
  18: 'MUL',
  19: 'RELU',
  21: 'RELU6',
  22: 'RESHAPE',
  23: 'RESIZE_BILINEAR',
  25: 'SOFTMAX',
  28: 'TANH',
  32: 'CUSTOM',
  34: 'PAD',
  39: 'TRANSPOSE',
  40: 'MEAN',
  41: 'SUB',
  42: 'DIV',
  49: 'SPLIT',
  67: 'TRANSPOSE_CONV',
  97: 'RESIZE_NEAREST_NEIGHBOR',
  98: 'LEAKY_RELU',
  114: 'QUANTIZE',
  117: 'HARD_SWISH',
};

/** BuiltinOptions union members (tag = index + 1) wgseg reads. */
export const OPTIONS_TAG = {
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ResizeBilinearOptions: 15,
  MulOptions: 21,
  ReducerOptions: 27,
} as const;

export interface TflTensor {
  shape: number[];
  type: string;
  buffer: number;
  name: string;
  /** per-tensor or per-axis quantization (scale, zero_point, quantized_dimension), when present */
  quant?: { scale: number[]; zeroPoint: number[]; axis: number };
}

export interface TflOperator {
  opcode: number;
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions tag (0 = none) and table */
  optionsType: number;
  options: Tab | null;
  custom: Uint8Array | null;
}

export interface TflModel {
  version: number;
  /** builtin code (the larger of the deprecated byte and the int field, as TFLite reads it) and custom name */
  opcodes: { builtin: number; custom: string }[];
  subgraphs: { tensors: TflTensor[]; inputs: number[]; outputs: number[]; operators: TflOperator[]; name: string }[];
  /** raw data of each buffer (empty when none) */
  buffers: Uint8Array[];
}

function readTensor(t: Tab): TflTensor {
  // Tensor: shape, type, buffer, name, quantization, is_variable, sparsity, shape_signature
  const typeId = t.int8(1);
  const out: TflTensor = {
    shape: t.ints(0),
    type: TENSOR_TYPES[typeId] ?? `type ${typeId}`,
    buffer: t.uint32(2),
    name: t.string(3),
  };
  if (t.has(6)) out.type = `sparse ${out.type}`;
  const q = t.table(4); // QuantizationParameters: min, max, scale, zero_point, details_type, details, quantized_dimension
  if (q && q.vector(2, 4)[1] > 0) out.quant = { scale: q.floats(2), zeroPoint: q.longs(3), axis: q.int32(6) };
  return out;
}

function readOperator(t: Tab): TflOperator {
  // Operator: opcode_index, inputs, outputs, builtin_options_type, builtin_options, custom_options, ...
  return {
    opcode: t.uint32(0),
    inputs: t.ints(1),
    outputs: t.ints(2),
    optionsType: t.uint8(3),
    options: t.table(4),
    custom: t.bytes(5),
  };
}

/** Decodes the model's tables (weights stay views into `bytes`). Throws TfliteFormatError on bad offsets. */
export function readModel(bytes: Uint8Array): TflModel {
  const bb = new ByteBuffer(bytes);
  if (bytes.length < 8) throw new TfliteFormatError(`file too short (${bytes.length} bytes)`);
  const root = new Tab(bb, bb.readInt32(0));
  // Model: version, operator_codes, subgraphs, description, buffers, ...
  const opcodes = root.tables(1).map((c) => ({ builtin: Math.max(c.int8(0), c.int32(3)), custom: c.string(1) }));
  const subgraphs = root.tables(2).map((g) => ({
    // SubGraph: tensors, inputs, outputs, operators, name
    tensors: g.tables(0).map(readTensor),
    inputs: g.ints(1),
    outputs: g.ints(2),
    operators: g.tables(3).map(readOperator),
    name: g.string(4),
  }));
  const buffers = root.tables(4).map((b) => {
    // Buffer: data, offset, size (offset/size: data stored after the flatbuffer, in files over 2 GB)
    const off = b.uint64(1);
    if (off > 1) {
      const size = b.uint64(2);
      if (off + size > bytes.length)
        throw new TfliteFormatError(`buffer data at byte ${off} (+${size}) is outside the file`);
      return bytes.subarray(off, off + size);
    }
    return b.bytes(0) ?? new Uint8Array(0);
  });
  return { version: root.uint32(0), opcodes, subgraphs, buffers };
}

/** Option tables, by the op that carries them (fields in schema.fbs order). */
export const opts = {
  conv: (t: Tab) => ({
    padding: t.int8(0),
    strideW: t.int32(1),
    strideH: t.int32(2),
    act: t.int8(3),
    dilW: t.int32(4, 1),
    dilH: t.int32(5, 1),
  }),
  depthwise: (t: Tab) => ({
    padding: t.int8(0),
    strideW: t.int32(1),
    strideH: t.int32(2),
    multiplier: t.int32(3),
    act: t.int8(4),
    dilW: t.int32(5, 1),
    dilH: t.int32(6, 1),
  }),
  pool: (t: Tab) => ({
    padding: t.int8(0),
    strideW: t.int32(1),
    strideH: t.int32(2),
    filterW: t.int32(3),
    filterH: t.int32(4),
    act: t.int8(5),
  }),
  concat: (t: Tab) => ({ axis: t.int32(0), act: t.int8(1) }),
  /** AddOptions / MulOptions / SubOptions / DivOptions: fused_activation_function first */
  act: (t: Tab) => ({ act: t.int8(0) }),
  /** new_height, new_width (deprecated), align_corners, half_pixel_centers */
  resize: (t: Tab) => ({ alignCorners: t.bool(2), halfPixelCenters: t.bool(3) }),
  reducer: (t: Tab) => ({ keepDims: t.bool(0) }),
};
