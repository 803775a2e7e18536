// Nearest-cell bilateral splat as a gather over the cell's pixels (crf/cells.wgsl):
// grid[cell][k] = sum over its pixels of round(q[c0 + k] * scale), in i32 fixed point, so the sum
// does not depend on the pixels' order. Empty cells get 0 (no separate clear).
// #include common/index.wgsl

struct Params {
  n: u32,
  c0: u32,
  cc: u32,
  cells: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> offsets: array<u32>;
@group(0) @binding(1) var<storage, read> list: array<u32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read_write> grid: array<i32>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.cells * params.cc) { return; }
  let cell = i / params.cc;
  let row = (params.c0 + i % params.cc) * params.n;
  var s = 0;
  for (var j = offsets[cell]; j < offsets[cell + 1u]; j++) { s += i32(q[row + list[j]] * params.scale + 0.5); }
  grid[i] = s;
}
