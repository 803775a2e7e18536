// ConvTranspose 2-D (ONNX semantics), decomposed by stride phase (sub-pixel convolution).
// Output pixel (oh, ow) only receives the kernel taps kh with (oh + pad - kh*dil) % stride == 0.
// All pixels of one phase share that tap set: the first valid tap follows from the phase, and the
// taps are visited by stepping stride/gcd(stride, dil) while the input row steps by dil/gcd.
// No gather over the whole input, no modulo test per tap.
// A workgroup covers one output row phase `ph`; each invocation loops over the sw column phases
// (so it writes sw neighbouring outputs) and computes PX sub-grid pixels x (4 * MB4) output
// channels of one group (register blocking). Weights come repacked by pack-weight.wgsl as f32
// vec4 over output channels, so one load feeds 4 channels (on lavapipe a load costs ~16-20 FMAs).
// #include conv-transpose/common.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> wp: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WGX: u32 = 16u;
override WGY: u32 = 4u;
// Register block: PX pixels x 4*MB4 output channels per invocation (chosen by the TS side; the
// constant loops below unroll after specialisation, so the accumulators stay in registers).
override MB4: u32 = 3u;
override PX: u32 = 4u;
const MAX_MB4: u32 = 3u;
const MAX_PX: u32 = 4u;

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let N = params.x_dims.x; let C = params.x_dims.y; let H = params.x_dims.z; let W = params.x_dims.w;
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
  if (oh >= OH || n >= N || sw * qw0 >= OW) { return; }
  let th = phaseTaps(i32(ph), params.geo_h, params.tap_h);
  let ih0 = i32(gid.y) + th.base;

  let KK = u32(params.tap_h.w) * kW;
  let HW = H * W;
  let xg = (n * C + grp * Cg) * HW;
  let wg = (grp * mblocks + mb) * KK;
  let OHW = OH * OW;
  let yrow = (n * M + grp * Mg) * OHW + oh * OW;
  let m0 = mb * 4u * MB4;

  for (var pw = 0u; pw < sw; pw++) {
    let tw = phaseTaps(i32(pw), params.geo_w, params.tap_w);
    let iw0 = i32(qw0) + tw.base;
    var acc: array<vec4<f32>, MAX_PX * MAX_MB4>;
    // explicit reset: lavapipe kept the previous phase's values with the implicit zero-init here
    for (var i = 0u; i < PX * MB4; i++) { acc[i] = vec4<f32>(0.0); }
    for (var jh = 0; jh < th.count; jh++) {
      let ih = ih0 - jh * params.tap_h.y;
      if (ih < 0 || ih >= i32(H)) { continue; }
      let kh = th.k0 + jh * params.tap_h.x;
      for (var jw = 0; jw < tw.count; jw++) {
        let iw = iw0 - jw * params.tap_w.y;
        let kw = tw.k0 + jw * params.tap_w.x;
        // pixel p reads input column iw + p; out-of-range columns read a clamped index and select 0
        // (not a multiply by 0, which would turn an Inf next to the border into NaN)
        var xo: array<u32, MAX_PX>;
        var xs: array<bool, MAX_PX>;
        for (var p = 0u; p < PX; p++) {
          let col = iw + i32(p);
          xo[p] = xg + u32(ih) * W + u32(clamp(col, 0, i32(W) - 1));
          xs[p] = col >= 0 && col < i32(W);
        }
        var wi = ((wg + u32(kh) * kW + u32(kw)) * Cg) * MB4;
        for (var c = 0u; c < Cg; c++) {
          for (var p = 0u; p < PX; p++) {
            let xv = select(0.0, f32(x[xo[p] + c * HW]), xs[p]);
            for (var b = 0u; b < MB4; b++) { acc[p * MB4 + b] += xv * wp[wi + b]; }
          }
          wi += MB4;
        }
      }
    }
    for (var p = 0u; p < PX; p++) {
      let ow = pw + sw * (qw0 + p);
      if (ow < OW) {
        for (var b = 0u; b < MB4; b++) { store(yrow + ow, m0 + 4u * b, grp * Mg, Mg, OHW, acc[p * MB4 + b]); }
      }
    }
  }
}
