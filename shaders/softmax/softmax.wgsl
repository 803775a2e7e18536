// Softmax / LogSoftmax over the reduced dims R of every row (kept dims K), numerically stable:
// y = exp(x - max) / sum, or (x - max) - log(sum). f32 arithmetic, output in the input dtype.
// `main`: one workgroup per row (long rows); `serial`: one invocation per row; `segmented`: L
// lanes per row, WG / L rows per workgroup, and an online max-and-sum (one exp per element, two
// passes over the row instead of three), combined as (max, sum) pairs in workgroup memory.
// #include reduce/geometry.wgsl
// #include common/index.wgsl
// #include common/workgroup-reduce.wgsl
// #include reduce/segment.wgsl

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

var<workgroup> pairs: array<vec2<f32>, WG>;

// A partial (max, sum of exp(v - max)) rescaled to max m; an empty partial (sum 0) adds nothing.
fn rescale(p: vec2<f32>, m: f32) -> f32 {
  return select(p.y * exp(p.x - m), 0.0, p.y == 0.0);
}

@compute @workgroup_size(WG)
fn segmented(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = segRow(wid, nwg, lid);
  let live = o < params.n_out;
  let base = select(0u, keptBase(o), live);
  let end = select(0u, params.r_len, live);  // lanes past the last row still join the barriers
  let j = lid % L;
  var m = infinity(true);
  var s = 0.0;
  for (var r = j; r < end; r += L) {
    let v = f32(x[reducedAt(base, r)]);
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
  }
  pairs[lid] = vec2<f32>(m, s);
  workgroupBarrier();
  for (var k = L / 2u; k > 0u; k = k / 2u) {
    if (j < k) {
      let a = pairs[lid];
      let b = pairs[lid + k];
      let mm = max(a.x, b.x);
      pairs[lid] = vec2<f32>(mm, rescale(a, mm) + rescale(b, mm));
    }
    workgroupBarrier();
  }
  let t = pairs[lid - j];
  for (var r = j; r < end; r += L) {
    let i = reducedAt(base, r);
    y[i] = result(f32(x[i]), t.x, t.y);
  }
}
