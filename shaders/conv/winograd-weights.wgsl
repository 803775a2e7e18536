// Winograd F(2x2,3x3), weight transform for weights that are not a constant (constant weights are
// transformed once on the host, conv-winograd.ts): U = G g G^T per (output channel, input channel),
// G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]]. Layout of the 16 transformed planes, as
// winograd-gemm.wgsl reads them: u[((xi * group + g) * Cg + c) * Mp + m], m contiguous (vec4 loads),
// zero for the padding channels Mg <= m < Mp. One invocation per (g, c, m).
// #include common/index.wgsl

struct Params {
  n: u32, Cg: u32, Mg: u32, Mp: u32,
  group: u32,
}

@group(0) @binding(0) var<storage, read> w: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> u: array<{{T}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 64u;

// (r0, (r0 + r1 + r2) / 2, (r0 - r1 + r2) / 2, r2): G applied to one 3-vector
fn g3(r: vec3<f32>) -> vec4<f32> {
  return vec4<f32>(r.x, 0.5 * (r.x + r.y + r.z), 0.5 * (r.x - r.y + r.z), r.z);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let m = i % params.Mp;
  let gc = i / params.Mp;              // g * Cg + c
  let g = gc / params.Cg;
  let c = gc % params.Cg;
  var t: array<vec4<f32>, 4>;          // t[row of G g] = that row times G^T
  if (m < params.Mg) {
    let b = ((g * params.Mg + m) * params.Cg + c) * 9u;
    var k: array<vec3<f32>, 3>;        // kernel rows
    for (var r = 0u; r < 3u; r++) {
      k[r] = vec3<f32>(f32(w[b + 3u * r]), f32(w[b + 3u * r + 1u]), f32(w[b + 3u * r + 2u]));
    }
    t[0] = g3(k[0]);
    t[1] = g3(0.5 * (k[0] + k[1] + k[2]));
    t[2] = g3(0.5 * (k[0] - k[1] + k[2]));
    t[3] = g3(k[2]);
  }
  let plane = params.group * params.Cg * params.Mp;  // stride between transform positions
  let o = gc * params.Mp + m;
  for (var r = 0u; r < 4u; r++) {
    for (var s = 0u; s < 4u; s++) {
      u[(r * 4u + s) * plane + o] = {{T}}(t[r][s]);
    }
  }
}
