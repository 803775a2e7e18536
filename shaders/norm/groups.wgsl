// LayerNormalization and GroupNormalization: x seen as `groups` contiguous runs of `size` values,
// each normalised by its own mean and (population) variance, two-pass in f32, one workgroup per
// group: y = (x - mean) / sqrt(var + eps) * scale[s] + bias[s], where for the flat index i,
// s = (i / s_div) % s_mod and bias index (i / s_div) % b_mod (LayerNorm: s_div 1, s_mod size; GroupNorm: per channel or per group).
// `stats` = 1 also writes each group's mean and 1 / sqrt(var + eps) (LayerNorm's optional outputs).
// #include norm/moments.wgsl

struct Params {
  groups: u32,
  size: u32,
  s_div: u32,
  s_mod: u32,
  b_mod: u32,
  has_bias: u32,
  stats: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> scale: array<{{P}}>;
@group(0) @binding(2) var<storage, read> bias: array<{{P}}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> inv_std: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 128u;  // power of two

fn elem(g: u32, j: u32) -> f32 {
  return f32(x[g * params.size + j]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= params.groups) { return; }
  let base = g * params.size;
  let mv = moments(lid, g, params.size);
  let k = inverseSqrt(mv.y + params.eps);
  if (params.stats == 1u && lid == 0u) {
    mean[g] = mv.x;
    inv_std[g] = k;
  }
  for (var j = lid; j < params.size; j += WG) {
    let q = (base + j) / params.s_div;
    let b = select(0.0, f32(bias[q % params.b_mod]), params.has_bias == 1u);
    let s = q % params.s_mod;
    y[base + j] = {{T}}((f32(x[base + j]) - mv.x) * k * f32(scale[s]) + b);
  }
}
