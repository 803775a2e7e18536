// Which bilateral grid cells can be non-zero, so the blur skips the (mostly empty) rest:
// `clear` zeroes the mask, `mark` flags the cells a pixel splats to (its nearest cell, or all
// 32 corners when params.linear == 1), `dilate` flags the cells within `radius` of a flagged
// cell along one axis (what that axis's blur pass can reach).
// #include common/index.wgsl
// #include crf/grid.wgsl

struct Params {
  n: u32,
  w: u32,
  dims: vec4<u32>,
  dim_b: u32,
  cells: u32,
  inv_xy: f32,
  inv_rgb: f32,
  linear: u32,
  len: u32,
  stride: u32,
  radius: i32,
}

@group(0) @binding(0) var<storage, read> img: array<{{I}}>;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> mask: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn clear(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i < params.cells) { mask[i] = 0u; }
}

@compute @workgroup_size(WG)
fn mark(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let p = pixelFeature(i, params.n, params.w, params.inv_xy, params.inv_rgb);
  let dims = array<u32, 5>(params.dims.x, params.dims.y, params.dims.z, params.dims.w, params.dim_b);
  let corners = select(1u, 32u, params.linear == 1u);
  for (var corner = 0u; corner < corners; corner++) {
    var c: array<u32, 5>;
    for (var k = 0u; k < 5u; k++) {
      c[k] = select(u32(floor(p.f[k] + 0.5)), u32(floor(p.f[k])) + ((corner >> k) & 1u), params.linear == 1u);
    }
    mask[cellIndex(c, dims)] = 1u; // every writer stores the same value
  }
}

@compute @workgroup_size(WG)
fn dilate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.cells) { return; }
  let pos = i32((i / params.stride) % params.len);
  let lo = max(-params.radius, -pos);
  let hi = min(params.radius, i32(params.len) - 1 - pos);
  var hit = 0u;
  for (var d = lo; d <= hi; d++) { hit |= src[u32(i32(i) + d * i32(params.stride))]; }
  mask[i] = hit;
}
