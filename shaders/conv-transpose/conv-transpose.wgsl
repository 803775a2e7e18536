// ConvTranspose 2-D (ONNX semantics), decomposed by stride phase (sub-pixel convolution).
// Output pixel (oh, ow) only receives the kernel taps kh with (oh + pad - kh*dil) % stride == 0.
// All pixels of one phase (oh % sh, ow % sw) share that tap set, so one workgroup works on one
// phase: the first valid tap comes from the phase and the taps are visited by stepping
// stride/gcd(stride, dil); the input row steps by dil/gcd at the same time. No gather over the
// whole input, no modulo tests per tap.
// Invocation = one output pixel x (4 * MB4) output channels of one group (register blocking).
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
  act: u32,
  act_a: f32,
  act_b: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> w: array<{{T}}>;
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WGX: u32 = 16u;
override WGY: u32 = 4u;
// output channels per invocation = 4 * MB4 (fixed register block; the TS side mirrors it)
const MB4: u32 = 2u;

// Taps of one axis for the output phase `ph`: first tap k0, their count, and the input index of
// the first tap minus the sub-grid coordinate (input index = q + base - j * dil/gcd).
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

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let N = params.x_dims.x; let C = params.x_dims.y; let H = params.x_dims.z; let W = params.x_dims.w;
  let M = params.y_dims.x; let OH = params.y_dims.y; let OW = params.y_dims.z; let Mg = params.y_dims.w;
  let Cg = params.part.x; let groups = params.part.y; let mblocks = params.part.z; let kW = params.part.w;
  let sh = u32(params.geo_h.x); let sw = u32(params.geo_w.x);

  // workgroup z = ((n * groups + grp) * mblocks + mb) * phases + phase  (all uniform)
  var z = wid.z;
  let phase = z % (sh * sw); z /= sh * sw;
  let mb = z % mblocks; z /= mblocks;
  let grp = z % groups; let n = z / groups;
  let ph = phase / sw; let pw = phase % sw;

  let oh = ph + sh * gid.y;
  let ow = pw + sw * gid.x;
  if (oh >= OH || ow >= OW || n >= N) { return; }

  let th = phaseTaps(i32(ph), params.geo_h, params.tap_h);
  let tw = phaseTaps(i32(pw), params.geo_w, params.tap_w);
  let ih0 = i32(gid.y) + th.base;
  let iw0 = i32(gid.x) + tw.base;

  let KK = u32(params.tap_h.w) * kW;
  let m0 = mb * 4u * MB4;
  // weight offsets of this block's channels (clamped: channels past Mg are computed, not stored)

  let HW = H * W;
  let xg = (n * C + grp * Cg) * HW;
  let wg = grp * Cg * Mg * KK;
  let wstep = Mg * KK;
  var acc: array<vec4<f32>, MB4>;
  for (var jh = 0; jh < th.count; jh++) {
    let ih = ih0 - jh * params.tap_h.y;
    let kh = th.k0 + jh * params.tap_h.x;
    for (var jw = 0; jw < tw.count; jw++) {
      let iw = iw0 - jw * params.tap_w.y;
      let kw = tw.k0 + jw * params.tap_w.x;
      if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W)) {
        var xi = xg + u32(ih) * W + u32(iw);
        var wi = wg + u32(kh) * kW + u32(kw);
        for (var c = 0u; c < Cg; c++) {
          let xv = f32(x[xi]);
          for (var b = 0u; b < MB4; b++) {
            let mm = m0 + 4u * b;
            let wv = vec4<f32>(f32(w[wi + min(mm, Mg - 1u) * KK]), f32(w[wi + min(mm + 1u, Mg - 1u) * KK]),
                               f32(w[wi + min(mm + 2u, Mg - 1u) * KK]), f32(w[wi + min(mm + 3u, Mg - 1u) * KK]));
            acc[b] += xv * wv;
          }
          xi += HW;
          wi += wstep;
        }
      }
    }
  }

  let OHW = OH * OW;
  let ybase = (n * M + grp * Mg) * OHW + oh * OW + ow;
  for (var b = 0u; b < MB4; b++) {
    for (var l = 0u; l < 4u; l++) {
      let m = m0 + 4u * b + l;
      if (m < Mg) {
        var v = acc[b][l];
        if (params.has_bias != 0u) { v += f32(bias[grp * Mg + m]); }
        y[ybase + m * OHW] = {{T}}(activate(v, params.act, params.act_a, params.act_b));
      }
    }
  }
}
