// Fused activations shared by conv, conv_transpose, gemm and the elementwise kernels.
// kind: 0 none, 1 relu, 2 clip(a=min, b=max), 3 leaky(a=alpha), 4 sigmoid,
//       5 hardsigmoid(a=alpha, b=beta), 6 hardswish, 7 tanh;
//       16 + k for a parameterless k (0, 1, 4, 6, 7): a * act_k(x) + b (an affine after the
//       activation, fused from a following Mul / Add by scalars: PP-LCNet's learnable affine blocks)
fn activate(x: f32, kind: u32, a: f32, b: f32) -> f32 {
  if (kind >= 16u) { return a * activate_only(x, kind - 16u, 0.0, 0.0) + b; }
  return activate_only(x, kind, a, b);
}

fn activate_only(x: f32, kind: u32, a: f32, b: f32) -> f32 {
  switch kind {
    case 1u: { return max(x, 0.0); }
    case 2u: { return min(max(x, a), b); }
    case 3u: { return select(a * x, x, x >= 0.0); }
    case 4u: { return 1.0 / (1.0 + exp(-x)); }
    case 5u: { return clamp(a * x + b, 0.0, 1.0); }
    case 6u: { return x * clamp(x / 6.0 + 0.5, 0.0, 1.0); }
    case 7u: { return tanh(clamp(x, -15.0, 15.0)); }
    default: { return x; }
  }
}
