// Shared by conv2d.wgsl and conv2d-subgroup.wgsl: uniforms, where a pixel's receptive field starts,
// and the output store (bias, fused residual add Z, fused activation). The including file declares
// x, bias, z, y, params.
struct Params {
  C: u32, H: u32, W: u32, M: u32,
  OH: u32, OW: u32, P: u32, Cg: u32,
  Mg: u32, Mq: u32, kH: u32, kW: u32,
  sh: u32, sw: u32, dh: u32, dw: u32,
  pt: i32, pl: i32, ck: u32, mtiles: u32,
  has_bias: u32, has_z: u32, act: u32, act_a: f32,
  act_b: f32,
}

// Where output pixel p's receptive field starts (pixels past P are flagged and read as zero).
struct Slot { base: u32, ih0: i32, iw0: i32, ok: bool }

fn stagingSlot(p0: u32, r: u32, g: u32) -> Slot {
  let OHW = params.OH * params.OW;
  let p = min(p0 + r, params.P - 1u);
  let ohw = p % OHW;
  let ih0 = i32(ohw / params.OW * params.sh) - params.pt;
  let iw0 = i32(ohw % params.OW * params.sw) - params.pl;
  return Slot((p / OHW * params.C + g * params.Cg) * params.H * params.W, ih0, iw0, p0 + r < params.P);
}

// Stores output channels 4q..4q+3 (of the group) at flat output pixel p.
fn storeQuad(p: u32, g: u32, q: u32, v: vec4<f32>) {
  if (p >= params.P) { return; }
  let OHW = params.OH * params.OW;
  let mb = g * params.Mg;
  let ob = (p / OHW * params.M + mb) * OHW + p % OHW;
  for (var i = 0u; i < 4u; i++) {
    let m = q * 4u + i;
    if (m < params.Mg) {
      let o = ob + m * OHW;
      var r = v[i];
      if (params.has_bias != 0u) { r += f32(bias[mb + m]); }
      if (params.has_z != 0u) { r += f32(z[o]); }
      y[o] = {{T}}(activate(r, params.act, params.act_a, params.act_b));
    }
  }
}
