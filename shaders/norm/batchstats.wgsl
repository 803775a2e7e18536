// BatchNormalization, training_mode=1: per channel, the batch mean and (population) variance over
// N and the spatial dims (two-pass, f32), and the running statistics
// input * momentum + batch * (1 - momentum). One workgroup per channel.
// #include norm/moments.wgsl

struct Params {
  batch: u32,
  channels: u32,
  inner: u32,    // product of the dims after C
  momentum: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> mean: array<{{P}}>;
@group(0) @binding(2) var<storage, read> variance: array<{{P}}>;
@group(0) @binding(3) var<storage, read_write> batch_mean: array<{{P}}>;
@group(0) @binding(4) var<storage, read_write> batch_var: array<{{P}}>;
@group(0) @binding(5) var<storage, read_write> running_mean: array<{{P}}>;
@group(0) @binding(6) var<storage, read_write> running_var: array<{{P}}>;
@group(0) @binding(7) var<uniform> params: Params;

override WG: u32 = 128u;  // power of two

fn elem(c: u32, j: u32) -> f32 {
  let n = j / params.inner;
  return f32(x[(n * params.channels + c) * params.inner + j % params.inner]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  if (c >= params.channels) { return; }
  let mv = moments(lid, c, params.batch * params.inner);  // (batch mean, batch variance)
  if (lid == 0u) {
    batch_mean[c] = {{P}}(mv.x);
    batch_var[c] = {{P}}(mv.y);
    running_mean[c] = {{P}}(f32(mean[c]) * params.momentum + mv.x * (1.0 - params.momentum));
    running_var[c] = {{P}}(f32(variance[c]) * params.momentum + mv.y * (1.0 - params.momentum));
  }
}
