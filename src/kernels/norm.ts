import { WgsegError } from '../core/errors';
import { numel, type DType } from '../core/dtype';
import { floatAttr, intAttr } from '../core/attrs';
import { linearGrid } from './dispatch';
import type { OpKernel, TensorInfo } from '../core/op';

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

export const normKernels: OpKernel[] = [batchNorm, instanceNorm];
