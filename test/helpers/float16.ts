import { fromHalf, toHalf } from '../../src/internal';
import { onnxType } from './onnx-build';

/**
 * A float32 ONNX model rewritten as float16 the way onnxconverter-common's convert_float_to_float16
 * lays it out (the converter users run on PyTorch exports; it is a pip package, so this is its
 * layout written again for the tests): float initializers, Constant tensors, Cast targets and
 * value types become float16; Resize's scales stay float32 (ONNX requires it). `keepIoTypes`:
 * graph inputs/outputs stay float32 with a Cast to float16 after each input and a Cast back to
 * float32 before each output, as `keep_io_types=True` writes them; else the I/O is float16 too.
 */
export function toFloat16Model(bytes: Uint8Array, keepIoTypes: boolean): Uint8Array {
  const T = onnxType('ModelProto');
  // biome-ignore lint/suspicious/noExplicitAny: a decoded protobuf message, edited field by field
  const m = T.toObject(T.decode(bytes), { bytes: Array, longs: Number, defaults: false }) as any;
  const g = m.graph;
  const keepF32 = new Set<string>();
  for (const n of g.node) if (n.opType === 'Resize' && n.input[2]) keepF32.add(n.input[2]);
  const half = (t: { dataType: number; rawData?: number[]; floatData?: number[]; name?: string }) => {
    if (t.dataType !== 1 || keepF32.has(t.name ?? '')) return;
    const xs = t.rawData ? new Float32Array(Uint8Array.from(t.rawData).buffer) : Float32Array.from(t.floatData ?? []);
    t.dataType = 10;
    t.rawData = Array.from(new Uint8Array(Uint16Array.from(xs, toHalf).buffer));
    delete t.floatData;
  };
  for (const t of g.initializer ?? []) half(t);
  for (const n of g.node) {
    for (const a of n.attribute ?? []) {
      if (n.opType === 'Constant' && a.t && !keepF32.has(n.output[0])) half(a.t);
      if (n.opType === 'Cast' && a.name === 'to' && a.i === 1) a.i = 10;
    }
  }
  const floatIo = (v: { type: { tensorType: { elemType: number } } }) => v.type.tensorType.elemType === 1;
  for (const v of g.valueInfo ?? []) if (floatIo(v)) v.type.tensorType.elemType = 10;
  if (!keepIoTypes) {
    for (const v of [...g.input, ...g.output]) if (floatIo(v)) v.type.tensorType.elemType = 10;
  } else {
    const casts: object[] = [];
    for (const v of g.input.filter(floatIo)) {
      const inner = `${v.name}_f16`;
      for (const n of g.node) n.input = (n.input ?? []).map((x: string) => (x === v.name ? inner : x));
      casts.push({
        opType: 'Cast',
        name: `${v.name}_cast`,
        input: [v.name],
        output: [inner],
        attribute: [{ name: 'to', type: 2, i: 10 }],
      });
    }
    g.node.unshift(...casts);
    for (const v of g.output.filter(floatIo)) {
      const inner = `${v.name}_f16`;
      for (const n of g.node) n.output = (n.output ?? []).map((x: string) => (x === v.name ? inner : x));
      g.node.push({
        opType: 'Cast',
        name: `${v.name}_cast`,
        input: [inner],
        output: [v.name],
        attribute: [{ name: 'to', type: 2, i: 1 }],
      });
    }
  }
  return T.encode(T.fromObject(m)).finish();
}

/** Values rounded to float16 (what a float16 model's inputs and weights hold). */
export const roundHalf = (xs: ArrayLike<number>) => Float32Array.from(xs, (v) => fromHalf(toHalf(v)));

/** float16 bit patterns of the values (a float16 tensor for onnxruntime) */
export const halfBits = (xs: ArrayLike<number>) => Uint16Array.from(xs, toHalf);
