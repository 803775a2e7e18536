// DB probability map -> one byte per pixel, four pixels per u32 (little-endian): bit 7 is the
// binary map (p > thresh), bits 0-6 the probability as round(p * 127). The host labels the set
// pixels and averages the probabilities for box scores, reading a quarter of the map's bytes.
// #include common/index.wgsl

struct Params {
  n: u32,
  thresh: f32,
}

@group(0) @binding(0) var<storage, read> prob: array<f32>;
@group(0) @binding(1) var<storage, read_write> bytes: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = flatIndex(gid, nwg, WG);
  if (4u * w >= params.n) { return; }
  var word = 0u;
  for (var k = 0u; k < 4u; k++) {
    let i = 4u * w + k;
    if (i < params.n) {
      let p = prob[i];
      let b = select(0u, 128u, p > params.thresh) | u32(clamp(round(p * 127.0), 0.0, 127.0));
      word |= b << (8u * k);
    }
  }
  bytes[w] = word;
}
