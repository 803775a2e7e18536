// ConvTranspose 2-D, direct variant: one output element y[n, m, oh, ow] per invocation, 64 per
// workgroup, W read as given ([C, M/group, kH, kW], no packing pass). Same stride-phase tap
// arithmetic as conv-transpose.wgsl (phaseTaps: only the taps that hit this output, no modulo test
// per tap), but no register block and no channel vectors: the shader is small, so its pipeline
// compiles fast (lavapipe compiles at the first dispatch: shader size is cold-start time), at the
// price of one weight load per FMA. Meant for small layers (k4 s2 upsampling in FCN / U-Net nets)
// and first runs; tuned on lavapipe. part.z is the number of outputs (part.x = Cg, part.w = kW).
// #include conv-transpose/common.wgsl
// #include common/index.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> w: array<{{T}}>;
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.part.z) { return; }
  let C = params.x_dims.y; let H = params.x_dims.z; let W = params.x_dims.w;
  let M = params.y_dims.x; let OH = params.y_dims.y; let OW = params.y_dims.z; let Mg = params.y_dims.w;
  let Cg = params.part.x; let kW = params.part.w;
  let KK = u32(params.tap_h.w) * kW;
  // i = ((n * M + m) * OH + oh) * OW + ow
  let ow = i % OW;
  let oh = (i / OW) % OH;
  let m = (i / (OW * OH)) % M;
  let n = i / (OW * OH * M);
  let grp = m / Mg;
  let mg = m % Mg;
  let sh = u32(params.geo_h.x); let sw = u32(params.geo_w.x);
  // output (oh, ow) is sub-grid pixel (oh / sh, ow / sw) of phase (oh % sh, ow % sw)
  let th = phaseTaps(i32(oh % sh), params.geo_h, params.tap_h);
  let tw = phaseTaps(i32(ow % sw), params.geo_w, params.tap_w);
  let ih0 = i32(oh / sh) + th.base;
  let iw0 = i32(ow / sw) + tw.base;
  let HW = H * W;
  let xg = (n * C + grp * Cg) * HW;
  let wg = (grp * Cg * Mg + mg) * KK;
  var acc = 0.0;
  for (var jh = 0; jh < th.count; jh++) {
    let ih = ih0 - jh * params.tap_h.y;
    if (ih < 0 || ih >= i32(H)) { continue; }
    let kh = u32(th.k0 + jh * params.tap_h.x);
    for (var jw = 0; jw < tw.count; jw++) {
      let iw = iw0 - jw * params.tap_w.y;
      if (iw < 0 || iw >= i32(W)) { continue; }
      let kw = u32(tw.k0 + jw * params.tap_w.x);
      var xi = xg + u32(ih) * W + u32(iw);
      var wi = wg + kh * kW + kw;
      for (var c = 0u; c < Cg; c++) {
        acc += f32(x[xi]) * f32(w[wi]);
        xi += HW;
        wi += Mg * KK;
      }
    }
  }
  if (params.has_bias != 0u) { acc += f32(bias[m]); }
  y[i] = {{T}}(activate(acc, params.act, params.act_a, params.act_b));
}
