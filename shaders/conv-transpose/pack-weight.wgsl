// ConvTranspose weight repack: W [C, Mg, kH, kW] -> wp[grp][mblock][kh][kw][c][MB4] as f32 vec4 over 4
// output channels, zero past Mg. The main kernel then reads 4 channels with one vec4 load.
// #include common/index.wgsl
struct Params {
  dims: vec4<u32>,    // Cg, Mg, kH * kW, groups
  blocks: vec4<u32>,  // channel blocks per group, vec4s per block (MB4), total vec4s, 0
}

@group(0) @binding(0) var<storage, read> w: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> wp: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.blocks.z) { return; }
  let Cg = params.dims.x; let Mg = params.dims.y; let KK = params.dims.z;
  let MB4 = params.blocks.y;
  // i = (((grp * mblocks + mb) * KK + k) * Cg + c) * MB4 + b
  var r = i;
  let b = r % MB4; r /= MB4;
  let c = r % Cg; r /= Cg;
  let k = r % KK; r /= KK;
  let mb = r % params.blocks.x; let grp = r / params.blocks.x;
  let m0 = (mb * MB4 + b) * 4u;
  var v = vec4<f32>();
  for (var l = 0u; l < 4u; l++) {
    if (m0 + l < Mg) { v[l] = f32(w[((grp * Cg + c) * Mg + m0 + l) * KK + k]); }
  }
  wp[i] = v;
}
