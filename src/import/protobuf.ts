/**
 * A small proto2 wire-format decoder driven by a protobufjs-style JSON schema (`{ nested: { pkg:
 * { nested: { Msg: { fields: { name: { type, id, rule? } } } } } } }`), for the ONNX importer. It
 * interprets the schema as it reads instead of generating code: no `eval` or `new Function`, so it
 * runs under a Content-Security-Policy without 'unsafe-eval' (protobufjs compiles a decoder per
 * message type with `Function`, which such a page refuses).
 *
 * Messages come out as protobufjs would make them: every repeated field an own array (packed and
 * unpacked encodings both read), a singular field an own property only when it is in the bytes
 * (`Object.hasOwn` tells presence), its proto2 default (0, '', empty bytes, false, null) inherited
 * from a per-type prototype otherwise. int64/uint64 are numbers (exact below 2^53), bytes are views
 * into the input (never copied, never written), strings are UTF-8 decoded. Unknown fields and groups
 * are skipped, and so is a known field written with another wire type; nesting deeper than 100
 * messages, truncation, field number 0 and wire types 6/7 throw an Error. Presence is proto2's
 * (explicit: a field written with its default value is present), where protobufjs 8 reads a JSON
 * schema without an edition with proto3's implicit presence.
 */

export interface ProtoField {
  type: string;
  id: number;
  rule?: 'repeated' | 'optional' | 'required';
}
export interface ProtoType {
  fields: Record<string, ProtoField>;
  nested?: Record<string, ProtoType>;
  oneofs?: Record<string, { oneof: string[] }>;
}
export interface ProtoNamespace {
  nested: Record<string, ProtoType | ProtoNamespace>;
}

/** The scalar types read here -> the wire type they are written with (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
const WIRE: Record<string, number> = {
  int32: 0,
  uint32: 0,
  int64: 0,
  uint64: 0,
  bool: 0,
  float: 5,
  double: 1,
  string: 2,
  bytes: 2,
};
const DEFAULT: Record<string, unknown> = {
  int32: 0,
  uint32: 0,
  int64: 0,
  uint64: 0,
  bool: false,
  float: 0,
  double: 0,
  string: '',
};
const MAX_DEPTH = 100;

interface Field {
  name: string;
  type: string;
  repeated: boolean;
  message?: Compiled;
}
interface Compiled {
  byId: Map<number, Field>;
  proto: object;
}

const utf8 = new TextDecoder();

/** A message type of `schema` by full name (e.g. 'onnx.ModelProto'), ready to decode bytes. */
export function protoType(
  schema: ProtoNamespace,
  fullName: string,
): { decode(bytes: Uint8Array): Record<string, unknown> } {
  const cache = new Map<string, Compiled>();
  const lookup = (path: string[]): ProtoType | undefined => {
    let node: ProtoType | ProtoNamespace | undefined = schema;
    for (const p of path) node = node?.nested?.[p];
    return node && 'fields' in node ? node : undefined;
  };
  // a field's type name is looked up in its message's scope first, then outwards (as protoc does)
  const compile = (path: string[]): Compiled => {
    const key = path.join('.');
    const hit = cache.get(key);
    if (hit) return hit;
    const t = lookup(path);
    if (!t) throw new Error(`protobuf schema: no message type ${key}`);
    const c: Compiled = { byId: new Map(), proto: {} };
    cache.set(key, c);
    const defaults: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(t.fields)) {
      const repeated = f.rule === 'repeated';
      let message: Compiled | undefined;
      if (!(f.type in WIRE)) {
        let scope = path.length;
        while (scope >= 0 && !lookup([...path.slice(0, scope), f.type])) scope--;
        if (scope < 0) throw new Error(`protobuf schema: ${key}.${name} has unknown type ${f.type}`);
        message = compile([...path.slice(0, scope), f.type]);
      }
      c.byId.set(f.id, { name, type: f.type, repeated, message });
      if (!repeated) defaults[name] = message ? null : f.type === 'bytes' ? new Uint8Array(0) : DEFAULT[f.type];
    }
    c.proto = defaults; // not frozen: an inherited read-only property would refuse the decoded value
    return c;
  };
  const root = compile(fullName.split('.'));
  return { decode: (bytes) => new Reader(bytes).message(root, bytes.length, 0) };
}

class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number, end: number): void {
    if (this.pos + n > end) throw new RangeError(`index out of range: ${this.pos} + ${n} > ${end}`);
  }

  /** The high 32 bits (unsigned) of the last varint read. */
  private hi = 0;

  /** A varint's low 32 bits (unsigned); its high 32 bits are left in `hi`. */
  private varint(end: number): number {
    let lo = 0,
      hi = 0;
    for (let i = 0; i < 10; i++) {
      this.need(1, end);
      const b = this.buf[this.pos++];
      if (i < 4) lo |= (b & 127) << (7 * i);
      else if (i === 4) (lo |= (b & 15) << 28), (hi = (b & 127) >> 4);
      else hi |= (b & 127) << (7 * i - 32);
      if (b < 128) return ((this.hi = hi >>> 0), lo >>> 0);
    }
    throw new Error(`invalid varint encoding at ${this.pos}`);
  }

  /** A length prefix: it must fit the bytes left before `end`. */
  private length(end: number): number {
    const n = this.varint(end);
    if (this.hi !== 0) throw new RangeError(`index out of range: length of 2^32 bytes or more at ${this.pos}`);
    this.need(n, end);
    return n;
  }

  private scalar(type: string, end: number): unknown {
    switch (type) {
      case 'float':
        this.need(4, end);
        return ((this.pos += 4), this.view.getFloat32(this.pos - 4, true));
      case 'double':
        this.need(8, end);
        return ((this.pos += 8), this.view.getFloat64(this.pos - 8, true));
      case 'string':
        return utf8.decode(this.bytes(end));
      case 'bytes':
        return this.bytes(end);
    }
    const lo = this.varint(end),
      hi = this.hi;
    switch (type) {
      case 'int32':
        return lo | 0;
      case 'uint32':
        return lo;
      case 'bool':
        return lo !== 0 || hi !== 0;
      case 'uint64':
        return hi * 2 ** 32 + lo;
      // int64: two's complement over 64 bits
      default:
        return hi >= 2 ** 31 ? -((~hi >>> 0) * 2 ** 32 + (~lo >>> 0) + 1) : hi * 2 ** 32 + lo;
    }
  }

  private bytes(end: number): Uint8Array {
    const n = this.length(end);
    this.pos += n;
    return this.buf.subarray(this.pos - n, this.pos);
  }

  message(t: Compiled, end: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw new Error('max depth exceeded');
    const m = Object.create(t.proto) as Record<string, unknown>;
    for (const f of t.byId.values()) if (f.repeated) m[f.name] = [];
    while (this.pos < end) {
      const tag = this.varint(end),
        id = tag >>> 3,
        wire = tag & 7;
      if (id === 0) throw new Error(`illegal tag ${tag} at ${this.pos}: field number 0`);
      const f = t.byId.get(id),
        want = f ? (f.message ? 2 : WIRE[f.type]) : -1;
      if (!f || (wire !== want && !(f.repeated && wire === 2))) {
        this.skip(wire, id, end, depth); // unknown, or not written as the schema says: skipped (as protoc and protobufjs do)
        continue;
      }
      if (f.repeated && wire === 2 && want !== 2) {
        // packed scalars
        const n = this.length(end);
        const stop = this.pos + n,
          out = m[f.name] as unknown[];
        while (this.pos < stop) out.push(this.scalar(f.type, stop));
        continue;
      }
      let v: unknown;
      if (f.message) {
        const n = this.length(end);
        v = this.message(f.message, this.pos + n, depth + 1);
      } else v = this.scalar(f.type, end);
      if (f.repeated) (m[f.name] as unknown[]).push(v);
      else m[f.name] = v;
    }
    if (this.pos !== end) throw new RangeError(`index out of range: message ends at ${end}, read to ${this.pos}`);
    return m;
  }

  /** Skips a field this schema does not name (groups included, as protobufjs does). */
  private skip(wire: number, id: number, end: number, depth: number): void {
    if (depth > MAX_DEPTH) throw new Error('max depth exceeded');
    switch (wire) {
      case 0:
        return void this.varint(end);
      case 1:
        return (this.need(8, end), void (this.pos += 8));
      case 2:
        return void this.bytes(end);
      case 5:
        return (this.need(4, end), void (this.pos += 4));
      case 3:
        for (;;) {
          const tag = this.varint(end),
            inner = tag >>> 3,
            w = tag & 7;
          if (inner === 0) throw new Error('illegal tag: field number 0');
          if (w === 4) {
            if (inner !== id) throw new Error('invalid end group tag');
            return;
          }
          this.skip(w, inner, end, depth + 1);
        }
      default:
        throw new Error(`invalid wire type ${wire} at offset ${this.pos}`);
    }
  }
}
