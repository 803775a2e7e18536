// Depthwise conv2d (group == C): output channel m reads input channel m / mult only.
// A workgroup owns one (n, m) plane and a WGX*RX x WGY block of it; each invocation computes
// RX horizontally adjacent outputs. The channel's taps are the same for the whole workgroup.
// #include common/activation.wgsl

struct Params {
  C: u32, H: u32, W: u32, M: u32,
  OH: u32, OW: u32, mult: u32, kH: u32,
  kW: u32, sh: u32, sw: u32, dh: u32,
  dw: u32, pt: i32, pl: i32, has_bias: u32,
  has_z: u32, act: u32, act_a: f32, act_b: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> w: array<{{T}}>;
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read> z: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(5) var<uniform> params: Params;

override WGX: u32 = 8u;
override WGY: u32 = 8u;
const RX: u32 = 8u;

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let plane = wid.z;                       // n * M + m
  let m = plane % params.M;
  let n = plane / params.M;
  let oh = wid.y * WGY + lid.y;
  let ow0 = (wid.x * WGX + lid.x) * RX;
  if (oh >= params.OH || ow0 >= params.OW) { return; }
  let xb = (n * params.C + m / params.mult) * params.H * params.W;
  let wb = m * params.kH * params.kW;
  let ih0 = i32(oh * params.sh) - params.pt;
  let iw0 = i32(ow0 * params.sw) - params.pl;
  var acc: array<f32, RX>;
  for (var kh = 0u; kh < params.kH; kh++) {
    let ih = ih0 + i32(kh * params.dh);
    if (ih < 0 || ih >= i32(params.H)) { continue; }
    let rb = xb + u32(ih) * params.W;
    for (var kw = 0u; kw < params.kW; kw++) {
      let wv = f32(w[wb + kh * params.kW + kw]);
      let iwk = iw0 + i32(kw * params.dw);
      for (var j = 0u; j < RX; j++) {
        let iw = iwk + i32(j * params.sw);
        let ok = iw >= 0 && iw < i32(params.W);
        acc[j] = fma(wv, select(0.0, f32(x[select(0u, rb + u32(iw), ok)]), ok), acc[j]);
      }
    }
  }
  let ob = (plane * params.OH + oh) * params.OW;
  var bv = 0.0;
  if (params.has_bias != 0u) { bv = f32(bias[m]); }
  for (var j = 0u; j < RX; j++) {
    let ow = ow0 + j;
    if (ow < params.OW) {
      var v = acc[j] + bv;
      if (params.has_z != 0u) { v += f32(z[ob + ow]); }
      y[ob + ow] = {{T}}(activate(v, params.act, params.act_a, params.act_b));
    }
  }
}
