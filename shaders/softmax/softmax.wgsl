// Softmax / LogSoftmax over the reduced dims R of every row (kept dims K), numerically stable:
// y = exp(x - max) / sum, or (x - max) - log(sum). f32 arithmetic, output in the input dtype.
// `main`: one workgroup per row (long rows); `serial`: one invocation per row.
// #include reduce/geometry.wgsl
// #include common/index.wgsl
// #include common/workgroup-reduce.wgsl

struct Params {
  kshape0: vec4<u32>, kshape1: vec4<u32>, kstride0: vec4<u32>, kstride1: vec4<u32>,
  rshape0: vec4<u32>, rshape1: vec4<u32>, rstride0: vec4<u32>, rstride1: vec4<u32>,
  nk: u32,
  nr: u32,
  n_out: u32,
  r_len: u32,
  log_out: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 128u;  // power of two

fn result(v: f32, m: f32, s: f32) -> {{T}} {
  if (params.log_out == 1u) { return {{T}}(v - m - log(s)); }
  return {{T}}(exp(v - m) / s);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * nwg.x;
  if (o >= params.n_out) { return; }
  let base = keptBase(o);
  var m = infinity(true);
  for (var r = lid; r < params.r_len; r += WG) { m = max(m, f32(x[reducedAt(base, r)])); }
  m = wgReduce(lid, m, OP_MAX);
  var s = 0.0;
  for (var r = lid; r < params.r_len; r += WG) { s += exp(f32(x[reducedAt(base, r)]) - m); }
  s = wgReduce(lid, s, OP_SUM);
  for (var r = lid; r < params.r_len; r += WG) {
    let i = reducedAt(base, r);
    y[i] = result(f32(x[i]), m, s);
  }
}

@compute @workgroup_size(WG)
fn serial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = flatIndex(gid, nwg, WG);
  if (o >= params.n_out) { return; }
  let base = keptBase(o);
  var m = infinity(true);
  for (var r = 0u; r < params.r_len; r++) { m = max(m, f32(x[reducedAt(base, r)])); }
  var s = 0.0;
  for (var r = 0u; r < params.r_len; r++) { s += exp(f32(x[reducedAt(base, r)]) - m); }
  for (var r = 0u; r < params.r_len; r++) {
    let i = reducedAt(base, r);
    y[i] = result(f32(x[i]), m, s);
  }
}
