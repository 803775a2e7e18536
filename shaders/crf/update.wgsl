// Mean-field update with Potts compatibility, per pixel over the classes:
// Q'(l) = softmax_l(-U(l) + w_gauss * (Mg(l) - Q(l)) + w_bilat * (Mb(l) - Q(l))), where Mg, Mb are the
// filtered Q including the pixel itself (k(f_i, f_i) = 1, hence - Q: the sum is over j != i).
// labels = argmax (first on ties).
// #include common/index.wgsl

struct Params {
  n: u32,
  c: u32,
  w_gauss: f32,
  w_bilat: f32,
}

@group(0) @binding(0) var<storage, read> unary: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> mg: array<f32>;
@group(0) @binding(3) var<storage, read> mb: array<f32>;
@group(0) @binding(4) var<storage, read_write> qout: array<f32>;
@group(0) @binding(5) var<storage, read_write> labels: array<i32>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  let n = params.n;
  if (i >= n) { return; }
  var m = -3.0e38;
  var best = 0;
  for (var l = 0u; l < params.c; l++) {
    let j = l * n + i;
    let v = -unary[j] + params.w_gauss * (mg[j] - q[j]) + params.w_bilat * (mb[j] - q[j]);
    qout[j] = v;
    if (v > m) { m = v; best = i32(l); }
  }
  var s = 0.0;
  for (var l = 0u; l < params.c; l++) { s += exp(qout[l * n + i] - m); }
  for (var l = 0u; l < params.c; l++) {
    let j = l * n + i;
    qout[j] = exp(qout[j] - m) / s;
  }
  labels[i] = best;
}
