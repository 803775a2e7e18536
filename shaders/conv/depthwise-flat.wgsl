// Depthwise conv2d (group == C), flat: one invocation per PX = 4 horizontally adjacent outputs,
// numbered over (plane, row, quad of the row) and packed WG to a workgroup whatever the map size.
// depthwise.wgsl gives a workgroup one plane and a 64 x 8 block of it, so a 7x7 or 8x8 map
// (MobileNet's last stages, squeeze-excitation widths of 576-960 channels) leaves 7 of its 8 columns
// of lanes idle; here a workgroup of 64 covers four 8x8 planes with every lane busy. Neighbouring
// lanes share a plane (its kH x kW taps stay in cache) and read adjacent input columns.
// Same epilogue as depthwise.wgsl: bias, fused residual Z, fused activation; f32 accumulation.
// Tuned on lavapipe (8-wide SIMD lanes): 64 lanes is 8 SIMD rows, PX = 4 keeps the waste on a
// 7-wide map to one output in eight.
// #include common/activation.wgsl
// #include common/index.wgsl

struct Params {
  C: u32, H: u32, W: u32, M: u32,
  OH: u32, OW: u32, mult: u32, kH: u32,
  kW: u32, sh: u32, sw: u32, dh: u32,
  dw: u32, pt: i32, pl: i32, has_bias: u32,
  has_z: u32, act: u32, act_a: f32, act_b: f32,
  OQ: u32,  // quads per output row: ceil(OW / PX)
  n: u32,   // invocations: N * M * OH * OQ
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> w: array<{{T}}>;
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read> z: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 64u;
const PX: u32 = 4u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let ow0 = (i % params.OQ) * PX;
  let row = i / params.OQ;               // plane * OH + oh
  let oh = row % params.OH;
  let plane = row / params.OH;           // n * M + m
  let m = plane % params.M;
  let n = plane / params.M;
  let xb = (n * params.C + m / params.mult) * params.H * params.W;
  let wb = m * params.kH * params.kW;
  let ih0 = i32(oh * params.sh) - params.pt;
  let iw0 = i32(ow0 * params.sw) - params.pl;
  var acc = vec4<f32>(0.0);
  for (var kh = 0u; kh < params.kH; kh++) {
    let ih = ih0 + i32(kh * params.dh);
    if (ih < 0 || ih >= i32(params.H)) { continue; }
    let rb = xb + u32(ih) * params.W;
    for (var kw = 0u; kw < params.kW; kw++) {
      let wv = f32(w[wb + kh * params.kW + kw]);
      let iwk = iw0 + i32(kw * params.dw);
      var v: vec4<f32>;
      for (var j = 0u; j < PX; j++) {
        let iw = iwk + i32(j * params.sw);
        let ok = iw >= 0 && iw < i32(params.W);
        v[j] = select(0.0, f32(x[select(0u, rb + u32(iw), ok)]), ok);
      }
      acc = fma(vec4<f32>(wv), v, acc);
    }
  }
  let ob = row * params.OW;
  var bv = 0.0;
  if (params.has_bias != 0u) { bv = f32(bias[m]); }
  for (var j = 0u; j < PX; j++) {
    let ow = ow0 + j;
    if (ow < params.OW) {
      var r = acc[j] + bv;
      if (params.has_z != 0u) { r += f32(z[ob + ow]); }
      y[ob + ow] = {{T}}(activate(r, params.act, params.act_a, params.act_b));
    }
  }
}
