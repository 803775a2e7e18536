// Pixels grouped by their nearest bilateral grid cell (a counting sort, once per image), so the
// per-iteration splat gathers instead of scattering: `clear` (counts = 0), `count` (pixels per cell, and each pixel's
// cell), `scan` (one workgroup: offsets = exclusive prefix sum of counts, offsets[cells] = N),
// `fill` (list[offsets[cell] ..] = the cell's pixels, in no particular order).
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
}

@group(0) @binding(0) var<storage, read> img: array<{{I}}>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> cell_of: array<u32>;
@group(0) @binding(3) var<storage, read_write> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> cursor: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> list: array<u32>;
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn clear(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i < params.cells) { atomicStore(&counts[i], 0u); }
}

@compute @workgroup_size(WG)
fn count(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let p = pixelFeature(i, params.n, params.w, params.inv_xy, params.inv_rgb);
  var c: array<u32, 5>;
  for (var k = 0u; k < 5u; k++) { c[k] = u32(floor(p.f[k] + 0.5)); }
  let cell = cellIndex(c, array<u32, 5>(params.dims.x, params.dims.y, params.dims.z, params.dims.w, params.dim_b));
  cell_of[i] = cell;
  atomicAdd(&counts[cell], 1u);
}

var<workgroup> partial: array<u32, WG>;

@compute @workgroup_size(WG)
fn scan(@builtin(local_invocation_index) lid: u32) {
  let chunk = (params.cells + WG - 1u) / WG;
  let lo = min(lid * chunk, params.cells);
  let hi = min(lo + chunk, params.cells);
  var s = 0u;
  for (var i = lo; i < hi; i++) { s += atomicLoad(&counts[i]); }
  partial[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    var acc = 0u;
    for (var t = 0u; t < WG; t++) {
      let v = partial[t];
      partial[t] = acc;
      acc += v;
    }
    offsets[params.cells] = acc;
  }
  workgroupBarrier();
  var acc = partial[lid];
  for (var i = lo; i < hi; i++) {
    offsets[i] = acc;
    atomicStore(&cursor[i], acc);
    acc += atomicLoad(&counts[i]);
  }
}

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  list[atomicAdd(&cursor[cell_of[i]], 1u)] = i;
}
