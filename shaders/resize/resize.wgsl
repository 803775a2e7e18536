// Resize / Upsample over the two trailing axes. The host builds, per output row and per output
// column, up to kh (kw) input indices and weights (src/kernels/resize.ts), so every coordinate mode,
// nearest rounding, cubic, antialias and exclude_outside reduce to one separable weighted sum here.
// tab_i[o * k] < 0 marks a tf_crop_and_resize sample outside the input: it gets params.extrap.
// #include common/index.wgsl

// #include resize/bindings.wgsl

override WG: u32 = 64u;
// KH / KW: the taps per row / column when they are 1, 2 or 4 (nearest, linear, cubic without
// antialias): then the taps are read once into registers and the loops unroll. 0: the generic path.
override KH: u32 = 0u;
override KW: u32 = 0u;

// One invocation per output pixel; it reads its taps once and walks every plane (N*C).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = flatIndex(gid, nwg, WG);
  if (p >= params.pixels) { return; }
  let yb = (p / params.out_w) * params.kh;
  let xb = params.xoff + (p % params.out_w) * params.kw;
  let outside = tab_i[yb] < 0 || tab_i[xb] < 0;
  let in_plane = params.in_h * params.in_w;
  if (KH == 2u && KW == 2u) {
    // bilinear, written out in scalars: SwiftShader's Subzero JIT keeps private arrays and loops
    // as written, and this path is then several times faster there (the same code on lavapipe)
    let r0 = u32(max(tab_i[yb], 0)) * params.in_w;
    let r1 = u32(max(tab_i[yb + 1u], 0)) * params.in_w;
    let c0 = u32(max(tab_i[xb], 0));
    let c1 = u32(max(tab_i[xb + 1u], 0));
    let a = r0 + c0; let b = r0 + c1; let d = r1 + c0; let e = r1 + c1;
    let wx0 = tab_w[xb]; let wx1 = tab_w[xb + 1u]; let wy0 = tab_w[yb]; let wy1 = tab_w[yb + 1u];
    var base = 0u;
    var o = p;
    for (var c = 0u; c < params.planes; c++) {
      let top = wx0 * f32(x[base + a]) + wx1 * f32(x[base + b]);
      let bot = wx0 * f32(x[base + d]) + wx1 * f32(x[base + e]);
      y[o] = {{T}}(select(wy0 * top + wy1 * bot, params.extrap, outside));
      base += in_plane;
      o += params.pixels;
    }
    return;
  }
  if (KH != 0u && KW != 0u) {
    // the fixed-tap path is the whole shader (the generic loop below is not compiled): a sample
    // outside the input reads clamped taps and stores params.extrap
    var ry: array<u32, 4>;
    var wy: array<f32, 4>;
    var cx: array<u32, 4>;
    var wx: array<f32, 4>;
    for (var j = 0u; j < KH; j++) { ry[j] = u32(max(tab_i[yb + j], 0)) * params.in_w; wy[j] = tab_w[yb + j]; }
    for (var k = 0u; k < KW; k++) { cx[k] = u32(max(tab_i[xb + k], 0)); wx[k] = tab_w[xb + k]; }
    for (var c = 0u; c < params.planes; c++) {
      let base = c * in_plane;
      var acc = 0.0;
      for (var j = 0u; j < KH; j++) {
        var r = 0.0;
        for (var k = 0u; k < KW; k++) { r += wx[k] * f32(x[base + ry[j] + cx[k]]); }
        acc += wy[j] * r;
      }
      y[c * params.pixels + p] = {{T}}(select(acc, params.extrap, outside));
    }
    return;
  }
  for (var c = 0u; c < params.planes; c++) {
    var acc = params.extrap;
    if (!outside) {
      acc = 0.0;
      let base = c * in_plane;
      for (var j = 0u; j < params.kh; j++) {
        let wy = tab_w[yb + j];
        if (wy == 0.0) { continue; }
        let row = base + u32(tab_i[yb + j]) * params.in_w;
        var r = 0.0;
        for (var k = 0u; k < params.kw; k++) {
          r += tab_w[xb + k] * f32(x[row + u32(tab_i[xb + k])]);
        }
        acc += wy * r;
      }
    }
    y[c * params.pixels + p] = {{T}}(acc);
  }
}
