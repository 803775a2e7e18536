// y = cond ? x : z with numpy broadcasting of all three; cond is bool stored as u32/i32 (nonzero = true).
// #include common/index.wgsl
// #include elementwise/broadcast.wgsl

struct Params {
  n: u32,
  rank: u32,
  shape0: vec4<u32>,
  shape1: vec4<u32>,
  sc0: vec4<u32>,
  sc1: vec4<u32>,
  sx0: vec4<u32>,
  sx1: vec4<u32>,
  sz0: vec4<u32>,
  sz1: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> cond: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read> z: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let off = bcastOffsets(i, params.rank, params.shape0, params.shape1, params.sc0, params.sc1,
                         params.sx0, params.sx1, params.sz0, params.sz1);
  y[i] = select(z[off.z], x[off.y], cond[off.x] != 0u);
}
