import { WgsegError } from '../core/errors';
import { numel, type DType } from '../core/dtype';
import { floatAttr, intAttr } from '../core/attrs';
import { linearGrid } from './dispatch';
import type { Attrs } from '../core/attrs';
import type { GpuTensor, KernelContext, OpKernel, TensorInfo } from '../core/op';

// BatchNormalization (inference) and InstanceNormalization. Per-channel tensors may have a float
// dtype of their own (ONNX T1/T2), shared by all of them: the {{P}} define.

const FLOAT: DType[] = ['f32', 'f16'];

/** X [N, C, ...] plus per-channel inputs of shape [C], all float; returns the channel dtype. */
function checkInputs(op: string, inputs: (TensorInfo | undefined)[], names: string[]): { x: TensorInfo; p: DType } {
  const x = inputs[0];
  if (!x) throw new WgsegError('BAD_INPUT', `${op}: missing input X`);
  if (!FLOAT.includes(x.dtype))
    throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: X dtype ${x.dtype} not supported (f32/f16)`);
  if (x.shape.length < 2) throw new WgsegError('BAD_SHAPE', `${op}: X must be [N,C,...], got [${x.shape.join(',')}]`);
  const c = x.shape[1];
  const params = names.map((name, i) => {
    const t = inputs[i + 1];
    if (!t) throw new WgsegError('BAD_INPUT', `${op}: missing input ${name}`);
    if (t.shape.length !== 1 || t.shape[0] !== c)
      throw new WgsegError(
        'BAD_SHAPE',
        `${op}: ${name} must be [${c}] for X [${x.shape.join(',')}], got [${t.shape.join(',')}]`,
      );
    return t;
  });
  const p = params[0].dtype;
  if (!FLOAT.includes(p) || params.some((t) => t.dtype !== p)) {
    throw new WgsegError(
      'UNSUPPORTED_DTYPE',
      `${op}: ${names.join('/')} must share one float dtype, got ${params.map((t) => t.dtype).join('/')}`,
    );
  }
  return { x, p };
}

const BN = 'BatchNormalization';

/** Inference: Y only. training_mode=1 (opset 14+): Y from the batch statistics, plus running_mean and running_var. */
const batchNorm: OpKernel = {
  op: BN,
  infer(inputs, attrs) {
    if (intAttr(attrs, 'spatial', 1, BN) !== 1)
      throw new WgsegError('BAD_ATTRIBUTE', `${BN}: spatial=0 (per-activation statistics, opset < 9) not supported`);
    const { x, p } = checkInputs(BN, inputs, ['scale', 'B', 'input_mean', 'input_var']);
    const y = { shape: [...x.shape], dtype: x.dtype };
    if (intAttr(attrs, 'training_mode', 0, BN) === 0) return [y];
    return [y, { shape: [x.shape[1]], dtype: p }, { shape: [x.shape[1]], dtype: p }];
  },
  encode(rt, [x, scale, bias, mean, variance], [y, runMean, runVar], attrs) {
    const [c, inner] = [x!.shape[1], numel(x!.shape.slice(2))];
    const defines = { T: x!.dtype, P: scale!.dtype };
    let [m, v] = [mean!.buffer, variance!.buffer];
    const scratch: GPUBuffer[] = [];
    if (runMean && runVar) {
      scratch.push(rt.pool.acquire(c * 4), rt.pool.acquire(c * 4));
      [m, v] = scratch;
      rt.dispatch({
        name: `${BN}.stats[${x!.shape.join('x')}]`,
        shader: 'norm/batchstats.wgsl',
        defines,
        overrides: { WG: 128 },
        uniforms: { batch: x!.shape[0], channels: c, inner, momentum: floatAttr(attrs, 'momentum', 0.9, BN) },
        buffers: {
          x: x!.buffer,
          mean: mean!.buffer,
          variance: variance!.buffer,
          batch_mean: m,
          batch_var: v,
          running_mean: runMean.buffer,
          running_var: runVar.buffer,
        },
        workgroups: [c],
      });
    }
    const n = numel(x!.shape);
    rt.dispatch({
      name: `${BN}[${x!.shape.join('x')}]`,
      shader: 'norm/batchnorm.wgsl',
      defines,
      uniforms: { n, channels: c, inner, eps: floatAttr(attrs, 'epsilon', 1e-5, BN) },
      buffers: { x: x!.buffer, scale: scale!.buffer, bias: bias!.buffer, mean: m, variance: v, y: y.buffer },
      workgroups: linearGrid(n, 256),
    });
    for (const b of scratch) rt.pool.release(b);
  },
};

const instanceNorm: OpKernel = {
  op: 'InstanceNormalization',
  infer(inputs) {
    const { x } = checkInputs('InstanceNormalization', inputs, ['scale', 'B']);
    if (x.shape.length < 3)
      throw new WgsegError('BAD_SHAPE', `InstanceNormalization: X must be [N,C,D1,...], got [${x.shape.join(',')}]`);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  },
  encode(rt, [x, scale, bias], [y], attrs) {
    const planes = x!.shape[0] * x!.shape[1];
    rt.dispatch({
      name: `InstanceNormalization[${x!.shape.join('x')}]`,
      shader: 'norm/instance.wgsl',
      defines: { T: x!.dtype, P: scale!.dtype },
      overrides: { WG: 128 },
      uniforms: {
        planes,
        size: numel(x!.shape.slice(2)),
        channels: x!.shape[1],
        eps: floatAttr(attrs, 'epsilon', 1e-5, 'InstanceNormalization'),
      },
      buffers: { x: x!.buffer, scale: scale!.buffer, bias: bias!.buffer, y: y.buffer },
      workgroups: linearGrid(planes, 1),
    });
  },
};

// ---- LayerNormalization, GroupNormalization: contiguous groups (norm/groups.wgsl) -------------

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** `groups` runs of `size`; scale index (i / sDiv) % sMod, bias index (i / sDiv) % bMod. */
interface Groups {
  groups: number;
  size: number;
  sDiv: number;
  sMod: number;
  bMod: number;
}

function encodeGroups(
  rt: KernelContext,
  op: string,
  g: Groups,
  [x, scale, bias]: (GpuTensor | undefined)[],
  [y, mean, invStd]: (GpuTensor | undefined)[],
  eps: number,
): void {
  // outputs the node does not name: scratch each (two writable bindings must not alias)
  const [m, v] = [mean, invStd].map((t) => t?.buffer ?? rt.pool.acquire(4 * g.groups));
  rt.dispatch({
    name: `${op}[${x!.shape.join('x')}]`,
    shader: 'norm/groups.wgsl',
    defines: { T: x!.dtype, P: scale!.dtype },
    overrides: { WG: 128 },
    uniforms: {
      groups: g.groups,
      size: g.size,
      s_div: g.sDiv,
      s_mod: g.sMod,
      b_mod: g.bMod,
      has_bias: bias ? 1 : 0,
      stats: mean || invStd ? 1 : 0,
      eps,
    },
    buffers: {
      x: x!.buffer,
      scale: scale!.buffer,
      bias: (bias ?? scale)!.buffer,
      y: y!.buffer,
      mean: m,
      inv_std: v,
    },
    workgroups: linearGrid(g.groups, 1),
  });
  if (!mean) rt.pool.release(m);
  if (!invStd) rt.pool.release(v);
}

const LN = 'LayerNormalization';

/** Groups of LayerNormalization: X's dims from `axis` on; Scale/B broadcast over them (trailing dims). */
function layerGroups(inputs: (TensorInfo | undefined)[], attrs: Attrs): Groups & { axis: number } {
  const x = inputs[0];
  if (!x) throw new WgsegError('BAD_INPUT', `${LN}: missing input X`);
  if (!FLOAT.includes(x.dtype))
    throw new WgsegError('UNSUPPORTED_DTYPE', `${LN}: X dtype ${x.dtype} not supported (f32/f16)`);
  const r = x.shape.length;
  const a = intAttr(attrs, 'axis', -1, LN);
  if (!Number.isInteger(a) || a < -r || a >= r)
    throw new WgsegError('BAD_ATTRIBUTE', `${LN}: axis ${a} out of range for X ${fmt(x.shape)}`);
  const axis = a < 0 ? a + r : a;
  const norm = x.shape.slice(axis);
  const size = numel(norm);
  const params = [inputs[1], inputs[2]];
  if (!params[0]) throw new WgsegError('BAD_INPUT', `${LN}: missing input Scale`);
  for (const [i, t] of params.entries()) {
    if (!t) continue;
    // unidirectional broadcast to the normalised dims; only leading 1s repeat (index = j % numel)
    const dims = t.shape.slice(t.shape.findIndex((d) => d !== 1));
    const ok = t.shape.length <= norm.length && (numel(t.shape) === 1 || fmt(dims) === fmt(norm.slice(-dims.length)));
    if (!ok)
      throw new WgsegError(
        'BAD_SHAPE',
        `${LN}: ${i ? 'B' : 'Scale'} ${fmt(t.shape)} does not broadcast to the normalised dims ${fmt(norm)} of X ${fmt(x.shape)}`,
      );
    if (!FLOAT.includes(t.dtype) || t.dtype !== params[0].dtype)
      throw new WgsegError('UNSUPPORTED_DTYPE', `${LN}: Scale/B dtypes must be one float type`);
  }
  const [sMod, bMod] = params.map((t) => (t ? numel(t.shape) : 1));
  return { axis, groups: numel(x.shape.slice(0, axis)), size, sDiv: 1, sMod, bMod };
}

/** Y, plus Mean and InvStdDev ([X's leading dims, 1, ...], f32: stash_type) when the node names them. */
const layerNorm: OpKernel = {
  op: LN,
  infer(inputs, attrs) {
    const g = layerGroups(inputs, attrs);
    const x = inputs[0]!;
    if (intAttr(attrs, 'stash_type', 1, LN) !== 1)
      throw new WgsegError('BAD_ATTRIBUTE', `${LN}: stash_type ${attrs.stash_type} not supported (1: float32)`);
    const stat = { shape: x.shape.map((d, i) => (i < g.axis ? d : 1)), dtype: 'f32' as DType };
    return [{ shape: [...x.shape], dtype: x.dtype }, stat, { ...stat }];
  },
  encode(rt, inputs, outputs, attrs) {
    const g = layerGroups(inputs, attrs);
    encodeGroups(rt, LN, g, inputs, outputs, floatAttr(attrs, 'epsilon', 1e-5, LN));
  },
};

const GN = 'GroupNormalization';

/** Groups of GroupNormalization: N * num_groups runs of C / G channels; scale/bias per group (opset 18) or per channel (21). */
function groupGroups(inputs: (TensorInfo | undefined)[], attrs: Attrs): Groups {
  const x = inputs[0];
  if (!x) throw new WgsegError('BAD_INPUT', `${GN}: missing input X`);
  if (!FLOAT.includes(x.dtype))
    throw new WgsegError('UNSUPPORTED_DTYPE', `${GN}: X dtype ${x.dtype} not supported (f32/f16)`);
  if (x.shape.length < 2) throw new WgsegError('BAD_SHAPE', `${GN}: X must be [N,C,...], got ${fmt(x.shape)}`);
  const [n, c] = x.shape;
  const spatial = numel(x.shape.slice(2));
  const G = intAttr(attrs, 'num_groups', NaN, GN);
  if (!Number.isInteger(G) || G < 1 || c % G)
    throw new WgsegError('BAD_ATTRIBUTE', `${GN}: num_groups ${attrs.num_groups} must divide the ${c} channels`);
  const [scale, bias] = [inputs[1], inputs[2]];
  if (!scale || !bias) throw new WgsegError('BAD_INPUT', `${GN}: needs inputs X, scale and bias`);
  for (const t of [scale, bias]) {
    if (t.shape.length !== 1 || (t.shape[0] !== c && t.shape[0] !== G))
      throw new WgsegError(
        'BAD_SHAPE',
        `${GN}: scale/bias ${fmt(t.shape)} must be [${G}] (per group, opset 18) or [${c}] (per channel, opset 21) for X ${fmt(x.shape)}`,
      );
  }
  if (scale.shape[0] !== bias.shape[0] || !FLOAT.includes(scale.dtype) || scale.dtype !== bias.dtype)
    throw new WgsegError('BAD_SHAPE', `${GN}: scale ${fmt(scale.shape)} and bias ${fmt(bias.shape)} must match`);
  const size = (c / G) * spatial;
  const perChannel = scale.shape[0] === c;
  const sMod = perChannel ? c : G;
  return { groups: n * G, size, sDiv: perChannel ? spatial : size, sMod, bMod: sMod };
}

const groupNorm: OpKernel = {
  op: GN,
  infer(inputs, attrs) {
    groupGroups(inputs, attrs);
    return [{ shape: [...inputs[0]!.shape], dtype: inputs[0]!.dtype }];
  },
  encode(rt, inputs, outputs, attrs) {
    encodeGroups(rt, GN, groupGroups(inputs, attrs), inputs, outputs, floatAttr(attrs, 'epsilon', 1e-5, GN));
  },
};

export const normKernels: OpKernel[] = [batchNorm, instanceNorm, layerNorm, groupNorm];
