// GridSample, 4 outputs per invocation: output pixels 4q .. 4q+3 (along x, flat over N*Ho*Wo). The
// host uses it when Ho*Wo is a multiple of 4, so the four pixels share n, their grid coordinates are
// two aligned vec4 loads and each channel's four results one vec4 store. Per channel the four
// pixels' taps are independent gathers issued together (more loads in flight per invocation, a
// quarter of the invocations and loop overhead of grid-sample.wgsl). Same modes and padding.
// Tuned on lavapipe.
// #include common/index.wgsl
// #include grid-sample/taps.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> grid: array<vec4<{{G}}>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<{{T}}>>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 64u;

fn sample(base: u32, tx: Taps, ty: Taps) -> f32 {
  var acc = 0.0;
  for (var j = 0u; j < TAPS; j++) {
    if (ty.w[j] == 0.0) { continue; }  // as grid-sample.wgsl: a padding row is never read
    let row = base + u32(ty.idx[j]) * params.in_w;
    var r = 0.0;
    for (var i = 0u; i < TAPS; i++) { r += tx.w[i] * f32(x[row + u32(tx.idx[i])]); }
    acc += ty.w[j] * r;
  }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let q = flatIndex(gid, nwg, WG);  // pixels 4q .. 4q+3
  if (4u * q >= params.pixels) { return; }
  let n = (4u * q) / params.out_hw;
  let o4 = ((4u * q) % params.out_hw) / 4u;
  let g0 = vec4<f32>(grid[2u * q]);       // x0 y0 x1 y1
  let g1 = vec4<f32>(grid[2u * q + 1u]);  // x2 y2 x3 y3
  var tx: array<Taps, 4>;
  var ty: array<Taps, 4>;
  tx[0] = axisTaps(g0.x, params.in_w); ty[0] = axisTaps(g0.y, params.in_h);
  tx[1] = axisTaps(g0.z, params.in_w); ty[1] = axisTaps(g0.w, params.in_h);
  tx[2] = axisTaps(g1.x, params.in_w); ty[2] = axisTaps(g1.y, params.in_h);
  tx[3] = axisTaps(g1.z, params.in_w); ty[3] = axisTaps(g1.w, params.in_h);
  let plane = params.in_h * params.in_w;
  let out4 = params.out_hw / 4u;
  for (var c = 0u; c < params.c; c++) {
    let base = (n * params.c + c) * plane;
    var v: vec4<f32>;
    for (var k = 0u; k < 4u; k++) { v[k] = sample(base, tx[k], ty[k]); }
    y[(n * params.c + c) * out4 + o4] = vec4<{{T}}>(v);
  }
}
