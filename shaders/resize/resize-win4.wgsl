// Resize / Upsample, 4 outputs along x per invocation from a 4-column input window: the host folds
// the column taps of each group of 4 outputs into the window's first column `lo` (tab_i, after the
// row taps) and a 4x4 weight matrix (colw: column i holds the weights of input column lo + i for
// the 4 outputs), so one output row of a plane is, per row tap, 4 loads and one matrix-vector
// product, and the 4 results are one vec4 store. Upsampling by 4/3 or more fits any mode without
// antialias (src/kernels/resize.ts checks, and runs resize.wgsl where it does not fit).
// Written in scalars without private arrays or loops over taps: SwiftShader's Subzero JIT keeps
// both as written, and this shape is what it runs fastest (lavapipe's LLVM does as well on it).
// #include common/index.wgsl

struct Params {
  groups: u32,    // out_h * out_w / 4
  planes: u32,    // product of the leading dims
  in_w: u32,
  in_plane: u32,  // in_h * in_w
  out_w4: u32,    // out_w / 4
  xoff: u32,      // where the groups' lo start in tab_i
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> tab_i: array<i32>;
@group(0) @binding(2) var<storage, read> tab_w: array<f32>;
@group(0) @binding(3) var<storage, read> colw: array<mat4x4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<{{T}}>>;
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 64u;
// KH: taps per output row (1 nearest, 2 linear, 4 cubic)
override KH: u32 = 2u;

fn window(i: u32) -> vec4<f32> {
  return vec4<f32>(f32(x[i]), f32(x[i + 1u]), f32(x[i + 2u]), f32(x[i + 3u]));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let q = flatIndex(gid, nwg, WG);
  if (q >= params.groups) { return; }
  let oy = q / params.out_w4;
  let g = q % params.out_w4;
  let m = colw[g];
  let lo = u32(tab_i[params.xoff + g]);
  let yb = oy * KH;
  let r0 = u32(tab_i[yb]) * params.in_w + lo;
  let w0 = tab_w[yb];
  var r1 = r0;
  var w1 = 0.0;
  var r2 = r0;
  var w2 = 0.0;
  var r3 = r0;
  var w3 = 0.0;
  if (KH > 1u) { r1 = u32(tab_i[yb + 1u]) * params.in_w + lo; w1 = tab_w[yb + 1u]; }
  if (KH > 2u) {
    r2 = u32(tab_i[yb + 2u]) * params.in_w + lo; w2 = tab_w[yb + 2u];
    r3 = u32(tab_i[yb + 3u]) * params.in_w + lo; w3 = tab_w[yb + 3u];
  }
  var base = 0u;
  var o = q;
  for (var c = 0u; c < params.planes; c++) {
    var acc = w0 * (m * window(base + r0));
    if (KH > 1u) { acc += w1 * (m * window(base + r1)); }
    if (KH > 2u) { acc += w2 * (m * window(base + r2)) + w3 * (m * window(base + r3)); }
    y[o] = vec4<{{T}}>(acc);
    base += params.in_plane;
    o += params.groups;
  }
}
