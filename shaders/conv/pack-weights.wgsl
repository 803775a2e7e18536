// Packs conv weights W [M, Cg, kH, kW] (NCHW API layout) into the GEMM layout of conv2d.wgsl:
// wp[((g * Cg + ci) * kHW + t) * Mq + q] = vec4 of output channels 4q..4q+3 of group g at input
// channel ci and tap t (zero beyond Mg). One invocation per vec4.
// #include common/index.wgsl

struct Params {
  n: u32,
  Cg: u32,
  Mg: u32,
  Mq: u32,
  kHW: u32,
}

@group(0) @binding(0) var<storage, read> w: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> wp: array<vec4<{{T}}>>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let q = i % params.Mq;
  let k = i / params.Mq;           // (g * Cg + ci) * kHW + t
  let t = k % params.kHW;
  let gc = k / params.kHW;         // g * Cg + ci
  let g = gc / params.Cg;
  let ci = gc % params.Cg;
  var v = vec4<{{T}}>();
  for (var c = 0u; c < 4u; c++) {
    let m = q * 4u + c;
    if (m < params.Mg) {
      v[c] = w[((g * params.Mg + m) * params.Cg + ci) * params.kHW + t];
    }
  }
  wp[i] = v;
}
