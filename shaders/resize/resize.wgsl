// Resize / Upsample over the two trailing axes. The host builds, per output row and per output
// column, up to kh (kw) input indices and weights (src/kernels/resize.ts), so every coordinate mode,
// nearest rounding, cubic, antialias and exclude_outside reduce to one separable weighted sum here.
// tab_i[o * k] < 0 marks a tf_crop_and_resize sample outside the input: it gets params.extrap.
// #include common/index.wgsl

struct Params {
  n: u32,        // output elements
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  kh: u32,
  kw: u32,
  xoff: u32,     // where the column table starts in tab_i / tab_w
  extrap: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> tab_i: array<i32>;
@group(0) @binding(2) var<storage, read> tab_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 128u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let ox = i % params.out_w;
  let oy = (i / params.out_w) % params.out_h;
  let plane = i / (params.out_w * params.out_h);
  let yb = oy * params.kh;
  let xb = params.xoff + ox * params.kw;
  if (tab_i[yb] < 0 || tab_i[xb] < 0) {
    y[i] = {{T}}(params.extrap);
    return;
  }
  let base = plane * params.in_h * params.in_w;
  var acc = 0.0;
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
  y[i] = {{T}}(acc);
}
