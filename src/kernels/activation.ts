import { WgsegError } from '../core/errors';
import type { Attrs } from '../core/attrs';

/** Codes of shaders/common/activation.wgsl, by ONNX op name (FusedConv's `activation` attribute). */
const KIND: Record<string, number> = {
  '': 0,
  Relu: 1,
  Clip: 2,
  LeakyRelu: 3,
  Sigmoid: 4,
  HardSigmoid: 5,
  HardSwish: 6,
  Tanh: 7,
  Gelu: 8,
  Mish: 9,
  Swish: 10,
};
const DEFAULTS: Record<string, [number, number]> = {
  Clip: [-3.4028234663852886e38, 3.4028234663852886e38],
  LeakyRelu: [0.01, 0],
  HardSigmoid: [0.2, 0.5],
};

/** Activations without parameters: an affine after them fits the kernels' two activation params. */
export const PARAMETERLESS = new Set(['', 'Relu', 'Sigmoid', 'HardSwish', 'Tanh', 'Gelu', 'Mish', 'Swish']);

/**
 * Uniform values {act, act_a, act_b} for a fused activation given as ORT FusedConv does, and
 * wgseg's own `post_affine: [a, b]` (y = a * act(x) + b, fused from a following Mul / Add by
 * scalars) after a parameterless activation.
 */
export function activationUniforms(attrs: Attrs, op: string): { act: number; act_a: number; act_b: number } {
  const name = (attrs.activation as string | undefined) ?? '';
  const kind = KIND[name];
  if (kind === undefined) throw new WgsegError('BAD_ATTRIBUTE', `${op}: unsupported fused activation "${name}"`);
  const post = attrs.post_affine as number[] | undefined;
  if (post !== undefined) {
    if (!PARAMETERLESS.has(name) || post.length !== 2)
      throw new WgsegError(
        'BAD_ATTRIBUTE',
        `${op}: post_affine [a, b] follows only ${[...PARAMETERLESS].filter(Boolean).join(', ')} or no activation`,
      );
    return { act: 16 + kind, act_a: post[0], act_b: post[1] };
  }
  const p = (attrs.activation_params as number[] | undefined) ?? DEFAULTS[name] ?? [0, 0];
  return { act: kind, act_a: p[0] ?? 0, act_b: p[1] ?? 0 };
}

export const ACTIVATION_KINDS = Object.keys(KIND).filter(Boolean);
