// Cast {{T}} -> {{O}} with WGSL conversions (float -> int truncates toward zero, i32 <-> u32
// keep the bits as C does); to_bool writes 0/1 for "x != 0".
// #include common/index.wgsl

struct Params {
  n: u32,
  to_bool: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{O}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let v = x[i];
  y[i] = select({{O}}(v), select({{O}}(0), {{O}}(1), v != {{T}}(0)), params.to_bool != 0u);
}
