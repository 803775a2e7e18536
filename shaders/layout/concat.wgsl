// Concat: copies one input, viewed as [outer, block], into its slab of y viewed as
// [outer, out_block] at column `offset`. One dispatch per input; bitwise ({{T}} u32 or f16).
// #include common/index.wgsl

struct Params {
  n: u32,
  block: u32,
  out_block: u32,
  offset: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let o = i / params.block;
  y[o * params.out_block + params.offset + i % params.block] = x[i];
}
