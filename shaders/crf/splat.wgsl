// Multilinear bilateral grid splat (DenseCRF splat: 'linear'; the nearest splat gathers instead,
// crf/gather.wgsl): every pixel adds its class probabilities Q[c0 + k] (k < cc), times the corner
// weights, to the 32 corners of its cell, in fixed point (round(q * w * scale)) so the atomic sums
// are exact and order-free. `clear` zeroes the grid first.
// #include common/index.wgsl
// #include crf/grid.wgsl

struct Params {
  n: u32,
  w: u32,
  c0: u32,
  cc: u32,
  dims: vec4<u32>,
  dim_b: u32,
  cells: u32,
  inv_xy: f32,
  inv_rgb: f32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> img: array<{{I}}>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read_write> grid: array<atomic<i32>>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn clear(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i < params.cells * params.cc) { atomicStore(&grid[i], 0); }
}

@compute @workgroup_size(WG)
fn linear(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let p = pixelFeature(i, params.n, params.w, params.inv_xy, params.inv_rgb);
  let dims = array<u32, 5>(params.dims.x, params.dims.y, params.dims.z, params.dims.w, params.dim_b);
  for (var corner = 0u; corner < 32u; corner++) {
    var c: array<u32, 5>;
    var w = params.scale;
    for (var k = 0u; k < 5u; k++) {
      let f = floor(p.f[k]);
      let up = (corner >> k) & 1u;
      c[k] = u32(f) + up;
      w *= select(1.0 - (p.f[k] - f), p.f[k] - f, up == 1u);
    }
    let base = cellIndex(c, dims) * params.cc;
    for (var k = 0u; k < params.cc; k++) {
      atomicAdd(&grid[base + k], i32(q[(params.c0 + k) * params.n + i] * w + 0.5));
    }
  }
}
