// Fused activations shared by conv, conv_transpose, gemm and the elementwise kernels.
// kind: 0 none, 1 relu, 2 clip(a=min, b=max), 3 leaky(a=alpha), 4 sigmoid,
//       5 hardsigmoid(a=alpha, b=beta), 6 hardswish, 7 tanh, 8 gelu (a=1: tanh approximation), 9 mish,
//       10 swish (SiLU: x * sigmoid(x));
//       16 + k for a parameterless k (0, 1, 4, 6, 7, 8, 9, 10): a * act_k(x) + b (an affine after the
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
    case 8u: { return gelu(x, a); }
    case 9u: { return x * tanh(min(softplus(x), 15.0)); }
    case 10u: { return x / (1.0 + exp(-x)); }
    default: { return x; }
  }
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7)
fn erf(v: f32) -> f32 {
  let z = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - p * exp(-z * z));
}

// approximate: 0 'none' (erf), 1 'tanh'
fn gelu(v: f32, approximate: f32) -> f32 {
  if (approximate != 0.0) {
    let u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
    return 0.5 * v * (1.0 + tanh(clamp(u, -15.0, 15.0)));
  }
  return 0.5 * v * (1.0 + erf(v * 0.7071067811865476));
}

// log(1 + exp(v)) without overflow; log1p by its series where exp(-|v|) is tiny
fn softplus(v: f32) -> f32 {
  let e = exp(-abs(v));
  let l = select(log(1.0 + e), e - 0.5 * e * e, e < 1e-4);
  return max(v, 0.0) + l;
}
