import { Builder } from 'flatbuffers';

/**
 * Writes small TFLite (schema v3) files for tests with the flatbuffers Builder: tensors, operators
 * with option tables given as (slot, kind, value) fields, float32 / int32 / fp16 / int8 buffers.
 */

export type Field = [slot: number, kind: 'i8' | 'i32' | 'bool', value: number | boolean];
export interface TTensor {
  shape: number[];
  /** TensorType value: 0 FLOAT32 (default), 1 FLOAT16, 2 INT32, 9 INT8 */
  type?: number;
  data?: Uint8Array;
  name?: string;
  quant?: { scale: number[]; zeroPoint: number[]; axis?: number };
}
export interface TOp {
  /** builtin code, or a custom op name */
  op: number | string;
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions union tag and fields */
  optionsType?: number;
  options?: Field[];
  custom?: Uint8Array;
}

export const f32 = (xs: ArrayLike<number>) => new Uint8Array(Float32Array.from(xs).buffer);
export const i32 = (xs: ArrayLike<number>) => new Uint8Array(Int32Array.from(xs).buffer);

export function buildTflite(m: {
  tensors: TTensor[];
  inputs: number[];
  outputs: number[];
  ops: TOp[];
  version?: number;
}): Uint8Array {
  const b = new Builder(1024);
  b.forceDefaults(true); // write every given field, also when it equals a default
  const ints = (xs: number[]) => {
    b.startVector(4, xs.length, 4);
    for (let i = xs.length - 1; i >= 0; i--) b.addInt32(xs[i]);
    return b.endVector();
  };
  const offsets = (xs: number[]) => {
    b.startVector(4, xs.length, 4);
    for (let i = xs.length - 1; i >= 0; i--) b.addOffset(xs[i]);
    return b.endVector();
  };
  const table = (fields: [number, (slot: number) => void][]) => {
    b.startObject(Math.max(0, ...fields.map(([s]) => s + 1)));
    for (const [s, add] of fields) add(s);
    return b.endObject();
  };
  const codes: (number | string)[] = [...new Set(m.ops.map((o) => o.op))];
  const buffers = [table([])];
  const tensors = m.tensors.map((t) => {
    let buf = 0;
    if (t.data) {
      b.startVector(1, t.data.length, 16);
      for (let i = t.data.length - 1; i >= 0; i--) b.addInt8(t.data[i]);
      const v = b.endVector();
      buffers.push(table([[0, (s) => b.addFieldOffset(s, v, 0)]]));
      buf = buffers.length - 1;
    }
    const shape = ints(t.shape);
    const name = b.createString(t.name ?? '');
    let quant = 0;
    if (t.quant) {
      b.startVector(4, t.quant.scale.length, 4);
      for (let i = t.quant.scale.length - 1; i >= 0; i--) b.addFloat32(t.quant.scale[i]);
      const sc = b.endVector();
      b.startVector(8, t.quant.zeroPoint.length, 8);
      for (let i = t.quant.zeroPoint.length - 1; i >= 0; i--) b.addInt64(BigInt(t.quant.zeroPoint[i]));
      const zp = b.endVector();
      quant = table([
        [2, (s) => b.addFieldOffset(s, sc, 0)],
        [3, (s) => b.addFieldOffset(s, zp, 0)],
        [6, (s) => b.addFieldInt32(s, t.quant!.axis ?? 0, 0)],
      ]);
    }
    return table([
      [0, (s) => b.addFieldOffset(s, shape, 0)],
      [1, (s) => b.addFieldInt8(s, t.type ?? 0, 0)],
      [2, (s) => b.addFieldInt32(s, buf, 0)],
      [3, (s) => b.addFieldOffset(s, name, 0)],
      ...(quant ? [[4, (s: number) => b.addFieldOffset(s, quant, 0)] as [number, (s: number) => void]] : []),
    ]);
  });
  const ops = m.ops.map((o) => {
    const opts = o.options
      ? table(
          o.options.map(([slot, kind, v]) => [
            slot,
            (s) => (kind === 'i32' ? b.addFieldInt32(s, Number(v), -1) : b.addFieldInt8(s, Number(v), -1)),
          ]),
        )
      : 0;
    const custom = o.custom ? b.createByteVector(o.custom) : 0;
    const ins = ints(o.inputs),
      outs = ints(o.outputs);
    return table([
      [0, (s) => b.addFieldInt32(s, codes.indexOf(o.op), -1)],
      [1, (s) => b.addFieldOffset(s, ins, 0)],
      [2, (s) => b.addFieldOffset(s, outs, 0)],
      [3, (s) => b.addFieldInt8(s, o.optionsType ?? 0, 0)],
      ...(opts ? [[4, (s: number) => b.addFieldOffset(s, opts, 0)] as [number, (s: number) => void]] : []),
      ...(custom ? [[5, (s: number) => b.addFieldOffset(s, custom, 0)] as [number, (s: number) => void]] : []),
    ]);
  });
  const opcodes = codes.map((c) => {
    const name = typeof c === 'string' ? b.createString(c) : 0;
    const code = typeof c === 'string' ? 32 : c;
    return table([
      [0, (s) => b.addFieldInt8(s, Math.min(code, 127), -1)],
      ...(name ? [[1, (s: number) => b.addFieldOffset(s, name, 0)] as [number, (s: number) => void]] : []),
      [3, (s) => b.addFieldInt32(s, code, -1)],
    ]);
  });
  const tv = offsets(tensors),
    iv = ints(m.inputs),
    ov = ints(m.outputs),
    pv = offsets(ops);
  const sg = table([
    [0, (s) => b.addFieldOffset(s, tv, 0)],
    [1, (s) => b.addFieldOffset(s, iv, 0)],
    [2, (s) => b.addFieldOffset(s, ov, 0)],
    [3, (s) => b.addFieldOffset(s, pv, 0)],
  ]);
  const cv = offsets(opcodes),
    sv = offsets([sg]),
    bv = offsets(buffers);
  const root = table([
    [0, (s) => b.addFieldInt32(s, m.version ?? 3, -1)],
    [1, (s) => b.addFieldOffset(s, cv, 0)],
    [2, (s) => b.addFieldOffset(s, sv, 0)],
    [4, (s) => b.addFieldOffset(s, bv, 0)],
  ]);
  b.finish(root, 'TFL3');
  return b.asUint8Array();
}
