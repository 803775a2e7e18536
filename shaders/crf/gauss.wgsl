// One axis of the separable position kernel on planar [C,H,W]:
// y[c,y,x] = sum_d exp(-d^2 * inv2s2) * x[c, y(+d), x(+d)], |d| <= radius, zero outside the image.
// Unnormalised, as the CRF's Gaussian kernel is (its value at d = 0 is 1).
// #include common/index.wgsl

struct Params {
  w: u32,
  h: u32,
  total: u32,
  axis: u32,
  radius: i32,
  inv2s2: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.total) { return; }
  let along_x = params.axis == 0u;
  let pos = i32(select((i / params.w) % params.h, i % params.w, along_x));
  let len = i32(select(params.h, params.w, along_x));
  let stride = i32(select(params.w, 1u, along_x));
  let lo = max(-params.radius, -pos);
  let hi = min(params.radius, len - 1 - pos);
  // Gaussian weights by recurrence: w(d+1) = w(d) * r(d), r(d+1) = r(d) * exp(-2 inv2s2)
  let inv = params.inv2s2;
  var w = exp(-f32(lo * lo) * inv);
  var r = exp(-f32(2 * lo + 1) * inv);
  let rr = exp(-2.0 * inv);
  var s = 0.0;
  for (var d = lo; d <= hi; d++) {
    s += w * x[u32(i32(i) + d * stride)];
    w *= r;
    r *= rr;
  }
  y[i] = s;
}
