// Shared by conv-transpose.wgsl and conv-transpose-subgroup.wgsl: uniforms, the stride-phase tap
// arithmetic and the epilogue (bias, fused activation, store). Expects module-scope `bias`, `y`
// and `params` in the including shader.
// #include common/activation.wgsl

struct Params {
  x_dims: vec4<u32>,   // N, C, H, W
  y_dims: vec4<u32>,   // M, OH, OW, Mg (output channels per group)
  part: vec4<u32>,     // Cg (input channels per group), groups, channel blocks per group, kW
  geo_h: vec4<i32>,    // stride, pad_begin, dilation, gcd(stride, dilation)
  geo_w: vec4<i32>,
  tap_h: vec4<i32>,    // stride/gcd, dilation/gcd, inverse of dilation/gcd mod stride/gcd, kernel size
  tap_w: vec4<i32>,
  has_bias: u32,
  z_base: u32,         // first workgroup z of this dispatch (z is split at 65535)
  act: u32,
  act_a: f32,
  act_b: f32,
}

// Taps of one axis for output phase `ph`: first tap k0, their count, and the input index of the
// first tap minus the sub-grid coordinate (input index = q + base - j * dil/gcd).
struct Taps { k0: i32, count: i32, base: i32 }

fn phaseTaps(ph: i32, geo: vec4<i32>, tap: vec4<i32>) -> Taps {
  let s = geo.x;
  let t = ph + geo.y;
  let r = ((t % s) + s) % s;
  if (r % geo.w != 0) { return Taps(0, 0, 0); }
  let k0 = ((r / geo.w) * tap.z) % tap.x;
  let count = select(0, (tap.w - k0 + tap.x - 1) / tap.x, k0 < tap.w);
  return Taps(k0, count, (t - k0 * geo.z) / s);
}

// bias, activation and store of the 4 output channels m..m+3 that are below Mg
fn store(at: u32, m: u32, mbase: u32, Mg: u32, OHW: u32, acc: vec4<f32>) {
  for (var l = 0u; l < 4u; l++) {
    if (m + l < Mg) {
      var v = acc[l];
      if (params.has_bias != 0u) { v += f32(bias[mbase + m + l]); }
      y[at + (m + l) * OHW] = {{T}}(activate(v, params.act, params.act_a, params.act_b));
    }
  }
}
