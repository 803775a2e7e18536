import { WgsegError } from '../errors';
import { numel } from '../gpu/tensor';
import { floatAttr } from './attrs';
import { linearGrid } from './dispatch';
import type { Attrs, HostValues, OpKernel, TensorInfo } from './types';

const UNARY_CODES: Record<string, number> = {
  Identity: 0, Relu: 1, Clip: 2, LeakyRelu: 3, Sigmoid: 4, HardSigmoid: 5, HardSwish: 6, Tanh: 7,
  Exp: 16, Neg: 17, Abs: 18, Sqrt: 19, Log: 20, Reciprocal: 21, Floor: 22, Ceil: 23, Swish: 24, Elu: 25, Round: 26,
};

const FLT_MAX = 3.4028234663852886e38;

function unaryParams(op: string, attrs: Attrs, host: HostValues): [number, number] {
  switch (op) {
    case 'Clip': {
      const lo = host[1]?.[0] ?? (attrs.min as number | undefined) ?? -FLT_MAX;
      const hi = host[2]?.[0] ?? (attrs.max as number | undefined) ?? FLT_MAX;
      return [lo, hi];
    }
    case 'LeakyRelu': return [floatAttr(attrs, 'alpha', 0.01, op), 0];
    case 'HardSigmoid': return [floatAttr(attrs, 'alpha', 0.2, op), floatAttr(attrs, 'beta', 0.5, op)];
    case 'Elu': return [floatAttr(attrs, 'alpha', 1, op), 0];
    default: return [0, 0];
  }
}

function unary(op: string): OpKernel {
  return {
    op,
    hostInputs: op === 'Clip' ? [1, 2] : undefined,
    infer(inputs: (TensorInfo | undefined)[]) {
      const x = inputs[0];
      if (!x) throw new WgsegError('BAD_INPUT', `${op}: missing input`);
      return [{ shape: [...x.shape], dtype: x.dtype }];
    },
    encode(rt, [x], [y], attrs, host) {
      const n = numel(y.shape);
      const [a, b] = unaryParams(op, attrs, host);
      rt.dispatch({
        name: `${op}[${n}]`,
        shader: 'elementwise/unary.wgsl',
        defines: { T: x!.dtype },
        uniforms: { n, op: UNARY_CODES[op], a, b },
        buffers: { x: x!.buffer, y: y.buffer },
        workgroups: linearGrid(n, 256),
      });
    },
  };
}

export const elementwiseKernels: OpKernel[] = Object.keys(UNARY_CODES).map(unary);
