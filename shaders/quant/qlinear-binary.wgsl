// QLinearAdd / QLinearMul (onnxruntime's com.microsoft contrib ops) on quantized integers held one
// per i32, with numpy broadcasting, computed in f32 as onnxruntime's MLAS kernels do:
//   add: y = round((A_scale/C_scale)*(a - A_zp) + (B_scale/C_scale)*(b - B_zp)) + C_zp
//   mul: y = round((A_scale*B_scale/C_scale)*(a - A_zp)*(b - B_zp)) + C_zp
// (ratios computed on the host in f32; round() is half to even in WGSL), saturated to [lo, hi].
// #include common/index.wgsl
// #include elementwise/broadcast.wgsl

struct Params {
  n: u32,
  mul: u32,
  rank: u32,
  lo: i32,
  hi: i32,
  a_zp: i32,
  b_zp: i32,
  c_zp: i32,
  ra: f32,
  rb: f32,
  shape0: vec4<u32>,
  shape1: vec4<u32>,
  sa0: vec4<u32>,
  sa1: vec4<u32>,
  sb0: vec4<u32>,
  sb1: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> a: array<i32>;
@group(0) @binding(1) var<storage, read> b: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<i32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let o = bcastOffsets(i, params.rank, params.shape0, params.shape1, params.sa0, params.sa1, params.sb0, params.sb1,
                       vec4<u32>(0u), vec4<u32>(0u));
  let da = f32(a[o.x] - params.a_zp);
  let db = f32(b[o.y] - params.b_zp);
  var v: f32;
  if (params.mul != 0u) {
    v = params.ra * da * db;
  } else {
    v = params.ra * da + params.rb * db;
  }
  let q = round(v) + f32(params.c_zp);
  y[i] = i32(clamp(q, f32(params.lo), f32(params.hi)));
}
