// InstanceNormalization: per (n, c) plane, y = scale[c] * (x - mean) / sqrt(var + eps) + bias[c]
// with the plane's mean and (population) variance. One workgroup per plane, two-pass in f32.
// #include norm/moments.wgsl

struct Params {
  planes: u32,   // N * C
  size: u32,     // elements per plane (product of the spatial dims)
  channels: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> scale: array<{{P}}>;
@group(0) @binding(2) var<storage, read> bias: array<{{P}}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 128u;  // power of two

fn elem(p: u32, i: u32) -> f32 {
  return f32(x[p * params.size + i]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let p = wid.x + wid.y * nwg.x;
  if (p >= params.planes) { return; }
  let base = p * params.size;
  let mv = moments(lid, p, params.size);  // (mean, variance)
  let c = p % params.channels;
  let k = f32(scale[c]) * inverseSqrt(mv.y + params.eps);
  let b = f32(bias[c]);
  for (var i = lid; i < params.size; i += WG) { y[base + i] = {{T}}((f32(x[base + i]) - mv.x) * k + b); }
}
