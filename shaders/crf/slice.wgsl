// Bilateral grid slice: out[c0 + k, pixel] = scale * multilinear interpolation (32 corners) of the
// blurred grid at the pixel's 5-D feature.
// #include common/index.wgsl
// #include crf/grid.wgsl

struct Params {
  n: u32,
  w: u32,
  c0: u32,
  cc: u32,
  dims: vec4<u32>,
  dim_b: u32,
  inv_xy: f32,
  inv_rgb: f32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> img: array<{{I}}>;
@group(0) @binding(1) var<storage, read> grid: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let p = pixelFeature(i, params.n, params.w, params.inv_xy, params.inv_rgb);
  let dims = array<u32, 5>(params.dims.x, params.dims.y, params.dims.z, params.dims.w, params.dim_b);
  var lo: array<u32, 5>;
  var fr: array<f32, 5>;
  for (var k = 0u; k < 5u; k++) {
    let f = floor(p.f[k]);
    lo[k] = u32(f);
    fr[k] = p.f[k] - f;
  }
  var idx: array<u32, 32>;
  var wt: array<f32, 32>;
  for (var corner = 0u; corner < 32u; corner++) {
    var c: array<u32, 5>;
    var w = params.scale;
    for (var k = 0u; k < 5u; k++) {
      let up = (corner >> k) & 1u;
      c[k] = lo[k] + up;
      w *= select(1.0 - fr[k], fr[k], up == 1u);
    }
    idx[corner] = cellIndex(c, dims) * params.cc;
    wt[corner] = w;
  }
  for (var k = 0u; k < params.cc; k++) {
    var s = 0.0;
    for (var corner = 0u; corner < 32u; corner++) { s += wt[corner] * grid[idx[corner] + k]; }
    out[(params.c0 + k) * params.n + i] = s;
  }
}
