// y = f(x) elementwise. op < 16 are the fused activations of common/activation.wgsl (Gelu 8, Mish 9
// among them: they fuse into conv epilogues too).
// #include common/activation.wgsl
// #include common/index.wgsl

struct Params {
  n: u32,
  op: u32,
  a: f32,
  b: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

fn unary(v: f32) -> f32 {
  switch params.op {
    case 16u: { return exp(v); }
    case 17u: { return -v; }
    case 18u: { return abs(v); }
    case 19u: { return sqrt(v); }
    case 20u: { return log(v); }
    case 21u: { return 1.0 / v; }
    case 22u: { return floor(v); }
    case 23u: { return ceil(v); }
    case 24u: { return v * (1.0 / (1.0 + exp(-params.a * v))); }  // swish (SiLU at alpha = 1)
    case 25u: { return select(params.a * (exp(v) - 1.0), v, v > 0.0); } // elu
    case 26u: { return round(v); }
    case 27u: { return erf(v); }
    case 29u: { return softplus(v); }
    case 30u: { return v / (1.0 + abs(v)); }                                  // softsign
    case 32u: { return max(v, 0.0) + min(0.0, params.a * (exp(v / params.a) - 1.0)); } // celu
    case 33u: { return params.b * select(params.a * (exp(v) - 1.0), v, v > 0.0); }    // selu (a alpha, b gamma)
    case 34u: { return select(0.0, v, v > params.a); }                       // thresholded relu
    default: { return activate(v, params.op, params.a, params.b); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  y[i] = {{T}}(unary(f32(x[i])));
}
