// One axis of the bilateral grid blur: dst = in_scale * sum_d exp(-d^2 * inv2s2) * src[cell + d * stride],
// |d| <= radius, zero outside the grid. Elements are [cell][cc] (class innermost). The first pass reads
// the splat's fixed-point sums ({{S}} = i32; in_scale undoes the fixed-point scale). Cells whose
// `mask` (crf/occupancy.wgsl, dilated up to this axis) is 0 cannot be reached and are written 0.
// #include common/index.wgsl

struct Params {
  total: u32,
  cc: u32,
  len: u32,
  stride: u32,
  radius: i32,
  inv2s2: f32,
  in_scale: f32,
}

@group(0) @binding(0) var<storage, read> src: array<{{S}}>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.total) { return; }
  let cell = i / params.cc;
  if (mask[cell] == 0u) {
    dst[i] = 0.0;
    return;
  }
  let pos = i32((cell / params.stride) % params.len);
  let lo = max(-params.radius, -pos);
  let hi = min(params.radius, i32(params.len) - 1 - pos);
  let step = i32(params.stride * params.cc);
  // Gaussian weights by recurrence: w(d+1) = w(d) * r(d), r(d+1) = r(d) * exp(-2 inv2s2)
  let inv = params.inv2s2;
  var w = exp(-f32(lo * lo) * inv);
  var r = exp(-f32(2 * lo + 1) * inv);
  let rr = exp(-2.0 * inv);
  var s = 0.0;
  for (var d = lo; d <= hi; d++) {
    s += w * f32(src[u32(i32(i) + d * step)]);
    w *= r;
    r *= rr;
  }
  dst[i] = s * params.in_scale;
}
