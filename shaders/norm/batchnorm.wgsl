// BatchNormalization, inference: y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c].
// x/y in {{T}}, the four per-channel tensors in {{P}}; f32 arithmetic.
// #include common/index.wgsl

struct Params {
  n: u32,
  channels: u32,
  inner: u32,   // product of the dims after C
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> scale: array<{{P}}>;
@group(0) @binding(2) var<storage, read> bias: array<{{P}}>;
@group(0) @binding(3) var<storage, read> mean: array<{{P}}>;
@group(0) @binding(4) var<storage, read> variance: array<{{P}}>;
@group(0) @binding(5) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let c = (i / params.inner) % params.channels;
  let k = f32(scale[c]) * inverseSqrt(f32(variance[c]) + params.eps);
  y[i] = {{T}}((f32(x[i]) - f32(mean[c])) * k + f32(bias[c]));
}
