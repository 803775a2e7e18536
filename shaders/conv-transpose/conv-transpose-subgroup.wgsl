enable subgroups;
// ConvTranspose 2-D, subgroup variant of conv-transpose.wgsl (same stride-phase decomposition,
// uniforms and packed weights). Instead of every lane loading the same weight vec4, lane l of a
// subgroup loads scalar weight l of an 8-channel group and subgroupBroadcast hands all 8 to every
// lane: on lavapipe one per-lane load is much cheaper than two uniform vec4 loads. Broadcasts need
// uniform control flow, so borders are handled by clamped indices + select, never by branches.
// Needs a subgroup size >= 8.
// #include conv-transpose/common.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> wp: array<f32>;   // the packed vec4s, read as scalars
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WGX: u32 = 16u;
override WGY: u32 = 4u;
// Register block: PX pixels x 8*MB8 output channels per invocation.
override MB8: u32 = 2u;
override PX: u32 = 4u;
const MAX_MB8: u32 = 3u;
const MAX_PX: u32 = 4u;

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(subgroup_invocation_id) sid: u32) {
  let C = params.x_dims.y; let H = params.x_dims.z; let W = params.x_dims.w;
  let M = params.y_dims.x; let OH = params.y_dims.y; let OW = params.y_dims.z; let Mg = params.y_dims.w;
  let Cg = params.part.x; let groups = params.part.y; let mblocks = params.part.z; let kW = params.part.w;
  let sh = u32(params.geo_h.x); let sw = u32(params.geo_w.x);

  // workgroup z = ((n * groups + grp) * mblocks + mb) * sh + ph  (uniform)
  var z = params.z_base + wid.z;
  let ph = z % sh; z /= sh;
  let mb = z % mblocks; z /= mblocks;
  let grp = z % groups; let n = z / groups;

  let oh = ph + sh * gid.y;
  let qw0 = gid.x * PX;
  let th = phaseTaps(i32(ph), params.geo_h, params.tap_h);
  let ih0 = i32(gid.y) + th.base;

  let KK = u32(params.tap_h.w) * kW;
  let HW = H * W;
  let xg = (n * C + grp * Cg) * HW;
  let wg = (grp * mblocks + mb) * KK;
  let OHW = OH * OW;
  let yrow = (n * M + grp * Mg) * OHW + oh * OW;
  let m0 = mb * 8u * MB8;
  let lane = sid % 8u;

  for (var pw = 0u; pw < sw; pw++) {
    let tw = phaseTaps(i32(pw), params.geo_w, params.tap_w);
    let iw0 = i32(qw0) + tw.base;
    var acc: array<vec4<f32>, 2u * MAX_PX * MAX_MB8>;
    for (var i = 0u; i < 2u * PX * MB8; i++) { acc[i] = vec4<f32>(0.0); }
    for (var jh = 0; jh < th.count; jh++) {
      let ih = ih0 - jh * params.tap_h.y;
      let rowok = ih >= 0 && ih < i32(H);
      let rowb = xg + u32(clamp(ih, 0, i32(H) - 1)) * W;
      let kh = th.k0 + jh * params.tap_h.x;
      for (var jw = 0; jw < tw.count; jw++) {
        let iw = iw0 - jw * params.tap_w.y;
        let kw = tw.k0 + jw * params.tap_w.x;
        var xo: array<u32, MAX_PX>;
        var xs: array<bool, MAX_PX>;
        for (var p = 0u; p < PX; p++) {
          let col = iw + i32(p);
          xo[p] = rowb + u32(clamp(col, 0, i32(W) - 1));
          xs[p] = rowok && col >= 0 && col < i32(W);
        }
        var wi = ((wg + u32(kh) * kW + u32(kw)) * Cg) * 8u * MB8 + lane;
        for (var c = 0u; c < Cg; c++) {
          var xv: array<f32, MAX_PX>;
          for (var p = 0u; p < PX; p++) { xv[p] = select(0.0, f32(x[xo[p] + c * HW]), xs[p]); }
          for (var g = 0u; g < MB8; g++) {
            let wl = wp[wi + 8u * g];
            let w0 = vec4<f32>(subgroupBroadcast(wl, 0u), subgroupBroadcast(wl, 1u), subgroupBroadcast(wl, 2u), subgroupBroadcast(wl, 3u));
            let w1 = vec4<f32>(subgroupBroadcast(wl, 4u), subgroupBroadcast(wl, 5u), subgroupBroadcast(wl, 6u), subgroupBroadcast(wl, 7u));
            for (var p = 0u; p < PX; p++) {
              acc[2u * (p * MB8 + g)] += xv[p] * w0;
              acc[2u * (p * MB8 + g) + 1u] += xv[p] * w1;
            }
          }
          wi += 8u * MB8;
        }
      }
    }
    for (var p = 0u; p < PX; p++) {
      let ow = pw + sw * (qw0 + p);
      if (oh < OH && ow < OW) {
        for (var b = 0u; b < 2u * MB8; b++) { store(yrow + ow, m0 + 4u * b, grp * Mg, Mg, OHW, acc[p * 2u * MB8 + b]); }
      }
    }
  }
}
