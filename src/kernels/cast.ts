import { intAttr } from '../core/attrs';
import {
  BYTES,
  DTYPE_ONNX,
  isFloatType,
  intBits,
  numel,
  onnxCode,
  onnxElemType,
  wrapInt,
  type DType,
  type ElemType,
} from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { OpKernel } from '../core/op';
import { linearGrid } from './dispatch';
import { arg, fail, hostUnary } from './host-eval';
import { input } from './layout';

const isFloat = (to: number) => to === 1 || to === 10 || to === 11;

/**
 * ONNX Cast on the host: anything to bool is != 0; integers wrap to the target width; floats
 * truncate toward zero. Out-of-range floats (undefined in ONNX) go as in onnxruntime's wasm build
 * and the GPU kernel: saturate to int32 (signed targets) or uint32 (unsigned), then wrap; NaN is 0.
 */
function castValue(v: number, from: ElemType, to: ElemType): number {
  if (to === 'bool') return v !== 0 ? 1 : 0;
  if (isFloatType(to)) return v;
  if (!isFloatType(from)) return wrapInt(v, to);
  if (Number.isNaN(v)) return 0;
  const t = Math.trunc(v),
    [bits, signed] = intBits(to)!;
  if (bits === 64) return signed ? t : Math.max(0, t);
  return wrapInt(signed ? Math.min(Math.max(t, -(2 ** 31)), 2 ** 31 - 1) : Math.min(Math.max(t, 0), 2 ** 32 - 1), to);
}

/** ONNX TensorProto.DataType -> engine dtype: every integer type is stored in i32, bool as u32 0/1. */
const CAST_TO: Record<number, DType> = {
  1: 'f32',
  11: 'f32',
  10: 'f16',
  2: 'i32',
  3: 'i32',
  4: 'i32',
  5: 'i32',
  6: 'i32',
  7: 'i32',
  12: 'i32',
  13: 'i32',
  9: 'u32',
};
/** Integer targets: [bits, signed] (64-bit types live in 32 bits). */
const CAST_INT: Record<number, [number, boolean]> = {
  2: [8, false],
  3: [8, true],
  4: [16, false],
  5: [16, true],
  6: [32, true],
  7: [32, true],
  12: [32, false],
  13: [32, false],
};

/** cast.wgsl's mode and bits for target `to`. */
function castMode(to: number): { mode: number; bits: number } {
  if (to === 9) return { mode: 1, bits: 32 };
  const int = CAST_INT[to];
  return int ? { mode: int[1] ? 2 : 3, bits: int[0] } : { mode: 0, bits: 32 };
}

const cast: OpKernel = {
  op: 'Cast',
  // wraps narrow integer types itself
  keepsRange: true,
  outputType: (attrs) => onnxElemType(attrs.to as number) ?? 'float32',
  // a cast to a float type is a cast to the session's one float precision
  planAttrs: (attrs, _ins, precision) =>
    isFloat(attrs.to as number) ? { ...attrs, to: DTYPE_ONNX[precision] } : attrs,
  fold: (xs, a, n) => {
    const to = onnxElemType(a.to as number) ?? fail(n.op, `target type ${a.to} not foldable`);
    return hostUnary((v) => castValue(v, arg(n.op, xs, 0).type, to), to)(xs, a, n);
  },
  infer(inputs, attrs) {
    const x = input('Cast', inputs);
    const to = intAttr(attrs, 'to', NaN, 'Cast');
    const dtype =
      CAST_TO[to] ??
      (() => {
        throw new WgsegError('UNSUPPORTED_DTYPE', `Cast: target type ${to} is not supported`);
      })();
    return [{ shape: [...x.shape], dtype }];
  },
  encode(rt, [x], [y], attrs) {
    const { mode, bits } = castMode(attrs.to as number);
    // same storage and nothing to narrow: a copy (i32 <-> 32-bit targets keep the bits)
    if (x!.dtype === y.dtype && mode !== 1 && (mode === 0 || bits === 32))
      return rt.copy(x!.buffer, y.buffer, numel(y.shape) * BYTES[y.dtype]);
    if ((x!.dtype === 'f16' || y.dtype === 'f16') && !rt.info.f16)
      throw new WgsegError('UNSUPPORTED_DTYPE', 'Cast: this adapter has no shader-f16');
    const n = numel(y.shape);
    rt.dispatch({
      name: `Cast[${n}]${x!.dtype}->${y.dtype}`,
      shader: 'layout/cast.wgsl',
      defines: { T: x!.dtype, O: y.dtype },
      uniforms: { n, mode, bits },
      buffers: { x: x!.buffer, y: y.buffer },
      workgroups: linearGrid(n, 256),
    });
  },
};

/**
 * CastLike: Cast to the type of input 1 (only its type is used): `to` when the graph layer sets it
 * from input 1's element type (narrow integers wrap), else from input 1's storage.
 */
const castLike: OpKernel = {
  op: 'CastLike',
  // `to` from input 1's element type (its storage alone cannot tell uint8 from int32)
  planAttrs(attrs, ins, precision) {
    const like = ins[1];
    if (!like) return attrs;
    return { ...attrs, to: isFloatType(like) ? DTYPE_ONNX[precision] : onnxCode(like) };
  },
  fold: (xs, _a, n) => {
    const to = arg(n.op, xs, 1).type;
    return hostUnary((v) => castValue(v, arg(n.op, xs, 0).type, to), to)(xs, _a, n);
  },
  infer(inputs) {
    const x = input('CastLike', inputs);
    if (!inputs[1]) throw new WgsegError('BAD_INPUT', 'CastLike: missing input 1 (target_type)');
    return [{ shape: [...x.shape], dtype: inputs[1].dtype }];
  },
  encode(rt, [x], [y], attrs) {
    cast.encode(rt, [x], [y], { to: (attrs.to as number | undefined) ?? DTYPE_ONNX[y.dtype] }, []);
  },
};

export const castOps: OpKernel[] = [cast, castLike];
/** The converter the graph layer inserts (narrow-integer wraps, fed tensors of another storage type). */
export const castOp = cast;
