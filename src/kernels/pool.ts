import { WgsegError } from '../core/errors';
import { numel, type DType } from '../core/dtype';
import { intAttr, intsAttr, strAttr } from '../core/attrs';
import { ceilDiv, linearGrid } from './dispatch';
import { dispatchSegmented, dispatchSplit } from './softmax';
import { withVariants } from './variants';
import type { Attrs } from '../core/attrs';
import type { GpuTensor, KernelContext, OpKernel, TensorInfo } from '../core/op';

// MaxPool / AveragePool (2-D, 1-D as H = 1, 3-D with a depth axis in pool.wgsl only): variants 'window' (pool.wgsl, an output per lane,
// the default) and 'row4' (pool-row.wgsl, 4 adjacent outputs per lane reading shared input columns
// once; unit width dilation). The global pools are reductions over the spatial dims
// (shaders/reduce/reduce.wgsl): 'planes' first (1-32 lanes per plane, several planes per workgroup;
// measured faster on lavapipe and SwiftShader for 1x960x8x8, 1x72x32x32 and 1x16x128x128: the
// squeeze-excitation gates of MobileNetV3), then 'reduce' (a workgroup per long plane, else a lane).

interface Axis {
  size: number;
  out: number;
  k: number;
  s: number;
  d: number;
  begin: number;
  end: number;
}

/** One spatial axis, ONNX rules: auto_pad SAME_UPPER, SAME_LOWER or VALID, explicit pads, ceil_mode (last window must start inside input + begin pad). */
function axisGeometry(
  op: string,
  size: number,
  k: number,
  s: number,
  d: number,
  begin: number,
  end: number,
  autoPad: string,
  ceil: boolean,
): Axis {
  const span = (k - 1) * d + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const out = Math.ceil(size / s);
    const total = Math.max(0, (out - 1) * s + span - size);
    const small = Math.floor(total / 2);
    return autoPad === 'SAME_UPPER'
      ? { size, out, k, s, d, begin: small, end: total - small }
      : { size, out, k, s, d, begin: total - small, end: small };
  }
  if (autoPad === 'VALID') (begin = 0), (end = 0);
  const exact = (size + begin + end - span) / s + 1;
  let out = ceil && autoPad === 'NOTSET' ? Math.ceil(exact) : Math.floor(exact);
  if (ceil && autoPad === 'NOTSET' && (out - 1) * s >= size + begin) out--;
  if (out < 1)
    throw new WgsegError(
      'BAD_SHAPE',
      `${op}: window of ${span} (kernel ${k}, dilation ${d}) does not fit an axis of ${size} padded by ${begin}+${end}`,
    );
  return { size, out, k, s, d, begin, end };
}

function geometry(op: string, x: TensorInfo, attrs: Attrs): Axis[] {
  const rank = x.shape.length;
  if (rank < 3 || rank > 5)
    throw new WgsegError(
      'BAD_SHAPE',
      `${op}: input must be [N,C,W], [N,C,H,W] or [N,C,D,H,W], got [${x.shape.join(',')}]`,
    );
  const sd = rank - 2;
  const ints = (name: string, dflt: number[] | undefined, len: number, min: number) => {
    const v = intsAttr(attrs, name, dflt, op);
    if (v.length !== len || v.some((e) => !Number.isInteger(e) || e < min)) {
      throw new WgsegError(
        'BAD_ATTRIBUTE',
        `${op}: ${name} [${v.join(',')}] must be ${len} integers >= ${min} for a ${sd}-D pool`,
      );
    }
    return v;
  };
  const k = ints('kernel_shape', undefined, sd, 1);
  const s = ints('strides', Array(sd).fill(1), sd, 1);
  const d = ints('dilations', Array(sd).fill(1), sd, 1);
  const p = ints('pads', Array(2 * sd).fill(0), 2 * sd, 0);
  const autoPad = strAttr(attrs, 'auto_pad', 'NOTSET', op);
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad))
    throw new WgsegError(
      'BAD_ATTRIBUTE',
      `${op}: auto_pad "${autoPad}" is not NOTSET, SAME_UPPER, SAME_LOWER or VALID`,
    );
  const ceil = intAttr(attrs, 'ceil_mode', 0, op) !== 0;
  const axes = x.shape
    .slice(2)
    .map((size, i) => axisGeometry(op, size, k[i], s[i], d[i], p[i], p[i + sd], autoPad, ceil));
  return sd === 1 ? [UNIT, axes[0]] : axes;
}

const UNIT: Axis = { size: 1, out: 1, k: 1, s: 1, d: 1, begin: 0, end: 0 };

/** Depth, height and width axes (a unit depth below 3-D). */
function dhw(op: string, x: TensorInfo, attrs: Attrs): [Axis, Axis, Axis] {
  const g = geometry(op, x, attrs);
  return g.length === 3 ? [g[0], g[1], g[2]] : [UNIT, g[0], g[1]];
}

function checkDtype(op: string, x: TensorInfo | undefined, ok: DType[]): TensorInfo {
  if (!x) throw new WgsegError('BAD_INPUT', `${op}: missing input 0`);
  if (!ok.includes(x.dtype))
    throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: input dtype ${x.dtype} not supported (${ok.join('/')})`);
  return x;
}

/** Windowed pools, variant 'window' (pool.wgsl, an output per lane) or 'row4' (pool-row.wgsl, 4 adjacent outputs per lane sharing their input columns). */
function encodePool(
  rt: KernelContext,
  op: 'MaxPool' | 'AveragePool',
  row: boolean,
  x: GpuTensor,
  y: GpuTensor,
  indices: GpuTensor | undefined,
  attrs: Attrs,
) {
  const [dd, h, w] = dhw(op, x, attrs);
  const OQ = row ? ceilDiv(w.out, 4) : w.out;
  const n = row ? y.shape[0] * y.shape[1] * h.out * OQ : numel(y.shape);
  const mode = op === 'MaxPool' ? 0 : intAttr(attrs, 'count_include_pad', 0, op) !== 0 ? 2 : 1;
  const scratch = indices ? null : rt.pool.acquire(4);
  rt.dispatch({
    name: `${op}${row ? 'Row' : ''}[${x.shape.join('x')}]`,
    shader: row ? 'pool/pool-row.wgsl' : 'pool/pool.wgsl',
    defines: { T: x.dtype },
    uniforms: {
      in_shape: [x.shape[0], x.shape[1], h.size, w.size],
      out_shape: [y.shape[0], y.shape[1], h.out, w.out],
      kernel: [h.k, w.k, h.s, w.s],
      dil_pad: [h.d, w.d, h.begin, w.begin],
      pad_end: [h.end, w.end, 0, 0],
      n,
      mode,
      col_major: intAttr(attrs, 'storage_order', 0, op),
      with_idx: indices ? 1 : 0,
      ...(row ? { OQ } : { depth: [dd.size, dd.out, dd.k, dd.s], depth2: [dd.d, dd.begin, dd.end, 0] }),
    },
    buffers: { x: x.buffer, y: y.buffer, idx: indices?.buffer ?? scratch! },
    workgroups: linearGrid(n, 64),
  });
  if (scratch) rt.pool.release(scratch);
}

function pool(op: 'MaxPool' | 'AveragePool'): OpKernel {
  const dtypes: DType[] = op === 'MaxPool' ? ['f32', 'f16', 'i32', 'u32'] : ['f32', 'f16'];
  return withVariants({
    op,
    keepsRange: op === 'MaxPool',
    infer(inputs, attrs) {
      const x = checkDtype(op, inputs[0], dtypes);
      const outs = geometry(op, x, attrs).map((a) => a.out);
      const order = intAttr(attrs, 'storage_order', 0, op);
      if (order !== 0 && order !== 1)
        throw new WgsegError('BAD_ATTRIBUTE', `${op}: storage_order ${order} must be 0 or 1`);
      const shape = [x.shape[0], x.shape[1], ...(x.shape.length === 3 ? outs.slice(-1) : outs)];
      const y = { shape, dtype: x.dtype };
      // Indices (second output) unless the caller says only one output is used (`__outputs: 1`)
      return op === 'MaxPool' && intAttr(attrs, '__outputs', 2, op) > 1 ? [y, { shape, dtype: 'i32' }] : [y];
    },
    variants: [
      { name: 'window', encode: (rt, [x], [y, indices], attrs) => encodePool(rt, op, false, x!, y, indices, attrs) },
      {
        name: 'row4',
        // it feeds each input column to the outputs whose window holds it: columns must be unit-dilated; 2-D and 1-D only
        applies: (inputs, attrs) => inputs[0]!.shape.length < 5 && geometry(op, inputs[0]!, attrs)[1].d === 1,
        encode: (rt, [x], [y, indices], attrs) => encodePool(rt, op, true, x!, y, indices, attrs),
      },
    ],
  });
}

function globalPool(op: 'GlobalAveragePool' | 'GlobalMaxPool'): OpKernel {
  const spatial = (x: TensorInfo) => new Set(x.shape.map((_, d) => d).filter((d) => d >= 2));
  const code = { op: op === 'GlobalMaxPool' ? 2 : 1 };
  return withVariants({
    op,
    infer(inputs) {
      const x = checkDtype(op, inputs[0], ['f32', 'f16']);
      if (x.shape.length < 3)
        throw new WgsegError('BAD_SHAPE', `${op}: input must be [N,C,D1,...], got [${x.shape.join(',')}]`);
      return [{ shape: x.shape.map((s, d) => (d < 2 ? s : 1)), dtype: x.dtype }];
    },
    variants: [
      {
        name: 'planes',
        encode: (rt, [x], [y]) => dispatchSegmented(rt, op, 'reduce/reduce.wgsl', x!, y, spatial(x!), code),
      },
      {
        name: 'reduce',
        encode: (rt, [x], [y]) => dispatchSplit(rt, op, 'reduce/reduce.wgsl', x!, y, spatial(x!), code),
      },
    ],
  });
}

/**
 * MaxUnpool: X and MaxPool's Indices (flat over the whole output) scattered into zeros. Output
 * spatial size (in - 1) * stride + kernel - pads, or the optional output_shape input (host).
 */
const UNPOOL = 'MaxUnpool';
function unpoolShape(
  x: TensorInfo,
  idx: TensorInfo | undefined,
  attrs: Attrs,
  outShape: number[] | undefined,
): number[] {
  if (!idx) throw new WgsegError('BAD_INPUT', `${UNPOOL}: needs inputs X and I`);
  if (idx.dtype !== 'i32' && idx.dtype !== 'u32')
    throw new WgsegError('UNSUPPORTED_DTYPE', `${UNPOOL}: indices must be int64/int32, got ${idx.dtype}`);
  if (idx.shape.join() !== x.shape.join())
    throw new WgsegError(
      'BAD_SHAPE',
      `${UNPOOL}: I [${idx.shape.join(',')}] must have X's shape [${x.shape.join(',')}]`,
    );
  const sd = x.shape.length - 2;
  if (sd < 1) throw new WgsegError('BAD_SHAPE', `${UNPOOL}: X must be [N,C,D1,...], got [${x.shape.join(',')}]`);
  const k = intsAttr(attrs, 'kernel_shape', undefined, UNPOOL);
  const s = intsAttr(attrs, 'strides', Array(sd).fill(1), UNPOOL);
  const p = intsAttr(attrs, 'pads', Array(2 * sd).fill(0), UNPOOL);
  if (k.length !== sd || s.length !== sd || p.length !== 2 * sd)
    throw new WgsegError('BAD_ATTRIBUTE', `${UNPOOL}: kernel_shape/strides/pads do not fit ${sd} spatial dims`);
  const shape = [x.shape[0], x.shape[1], ...x.shape.slice(2).map((n, i) => (n - 1) * s[i] + k[i] - p[i] - p[i + sd])];
  if (outShape) {
    if (outShape.length !== x.shape.length || outShape[0] !== x.shape[0] || outShape[1] !== x.shape[1])
      throw new WgsegError(
        'BAD_SHAPE',
        `${UNPOOL}: output_shape [${outShape.join(',')}] does not fit X [${x.shape.join(',')}]`,
      );
    return [...outShape];
  }
  if (shape.some((d) => d < 1)) throw new WgsegError('BAD_SHAPE', `${UNPOOL}: output [${shape.join(',')}] is empty`);
  return shape;
}

const maxUnpool: OpKernel = {
  op: UNPOOL,
  hostInputs: [2],
  keepsRange: true,
  infer([x, idx], attrs, host) {
    const t = checkDtype(UNPOOL, x, ['f32', 'f16', 'i32', 'u32']);
    return [{ shape: unpoolShape(t, idx, attrs, host[2]), dtype: t.dtype }];
  },
  encode(rt, [x, idx], [y]) {
    const total = numel(y.shape);
    const n = numel(x!.shape);
    const buffers = { x: x!.buffer, indices: idx!.buffer, y: y.buffer };
    const name = `${UNPOOL}[${x!.shape.join('x')}]->[${y.shape.join('x')}]`;
    const defines = { T: x!.dtype === 'f16' ? 'f16' : x!.dtype };
    rt.dispatch({
      name,
      shader: 'pool/unpool.wgsl',
      entry: 'clear',
      defines,
      uniforms: { n: total, total },
      buffers,
      workgroups: linearGrid(total, 256),
    });
    if (n > 0)
      rt.dispatch({
        name,
        shader: 'pool/unpool.wgsl',
        entry: 'scatter',
        defines,
        uniforms: { n, total },
        buffers,
        workgroups: linearGrid(n, 256),
      });
  },
};

export const poolKernels: OpKernel[] = [
  pool('MaxPool'),
  pool('AveragePool'),
  globalPool('GlobalAveragePool'),
  globalPool('GlobalMaxPool'),
  maxUnpool,
];
