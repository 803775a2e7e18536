// Resize / Upsample, 4 outputs along x per invocation (same host tables and uniforms as
// resize.wgsl; fixed tap counts only: KH, KW in {1, 2, 4}, i.e. no antialias). The four outputs
// ox0 .. ox0+3 of one output row share the row taps, and when all their column taps fall in a
// window of at most WIN input columns (upsampling: x8 bilinear needs 2, x2 cubic 6) each input row
// of the window is loaded once and the four outputs pick from it: x8 bilinear does 4 loads per
// plane for 4 outputs instead of 16 (loads dominate on lavapipe and SwiftShader). A wider spread
// (downsampling) loads every tap directly. Tuned on lavapipe.
// #include common/index.wgsl

// #include resize/bindings.wgsl

override WG: u32 = 64u;
override KH: u32 = 2u;
override KW: u32 = 2u;
const WIN: u32 = 8u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let q = flatIndex(gid, nwg, WG);
  let per_row = (params.out_w + 3u) / 4u;
  let oy = q / per_row;
  let ox0 = (q % per_row) * 4u;
  if (oy * params.out_w >= params.pixels) { return; }
  let nk = min(4u, params.out_w - ox0);  // outputs of this invocation (the row's last may have fewer)
  let yb = oy * KH;
  var ry: array<u32, 4>;
  var wy: array<f32, 4>;
  for (var j = 0u; j < KH; j++) { ry[j] = u32(max(tab_i[yb + j], 0)) * params.in_w; wy[j] = tab_w[yb + j]; }
  // column taps of the 4 outputs (a missing 4th output repeats the last one), and their span
  var cx: array<u32, 16>;
  var wx: array<f32, 16>;
  var outside = vec4<bool>(tab_i[yb] < 0);
  var lo = params.in_w;
  var hi = 0u;
  for (var k = 0u; k < 4u; k++) {
    let xb = params.xoff + (ox0 + min(k, nk - 1u)) * KW;
    outside[k] = outside[k] || tab_i[xb] < 0;
    for (var t = 0u; t < KW; t++) {
      let c = u32(max(tab_i[xb + t], 0));
      cx[k * KW + t] = c;
      wx[k * KW + t] = tab_w[xb + t];
      lo = min(lo, c);
      hi = max(hi, c);
    }
  }
  let span = hi - lo + 1u;
  let windowed = span <= WIN;
  let in_plane = params.in_h * params.in_w;
  let out0 = oy * params.out_w + ox0;
  for (var c = 0u; c < params.planes; c++) {
    let base = c * in_plane;
    var acc = vec4<f32>(0.0);
    for (var j = 0u; j < KH; j++) {
      let row = base + ry[j];
      var r = vec4<f32>(0.0);
      if (windowed) {
        var win: array<f32, WIN>;
        for (var i = 0u; i < span; i++) { win[i] = f32(x[row + lo + i]); }
        for (var k = 0u; k < 4u; k++) {
          for (var t = 0u; t < KW; t++) { r[k] += wx[k * KW + t] * win[cx[k * KW + t] - lo]; }
        }
      } else {
        for (var k = 0u; k < 4u; k++) {
          for (var t = 0u; t < KW; t++) { r[k] += wx[k * KW + t] * f32(x[row + cx[k * KW + t]]); }
        }
      }
      acc += wy[j] * r;
    }
    let v = select(acc, vec4<f32>(params.extrap), outside);
    for (var k = 0u; k < nk; k++) { y[c * params.pixels + out0 + k] = {{T}}(v[k]); }
  }
}
