// ReduceSum/Mean/Max/Min/Prod/SumSquare/L1/L2/LogSum/LogSumExp over any set of axes, f32 accumulation.
// op: 0 sum, 1 mean, 2 max, 3 min, 4 prod, 5 sum-square, 6 l1, 7 l2, 8 log-sum, 9 log-sum-exp.
// `main`: one workgroup per output (long reductions); `serial`: one invocation per output;
// `segmented`: L lanes per output, WG / L outputs per workgroup (reduce/segment.wgsl).
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
  op: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 128u;  // power of two

fn load(base: u32, r: u32) -> f32 {
  return f32(x[reducedAt(base, r)]);
}

fn identity(op: u32) -> f32 {
  switch op {
    case 2u: { return infinity(true); }
    case 3u: { return infinity(false); }
    case 4u: { return 1.0; }
    default: { return 0.0; }
  }
}

fn mapIn(v: f32, op: u32, shift: f32) -> f32 {
  switch op {
    case 5u, 7u: { return v * v; }
    case 6u: { return abs(v); }
    case 9u: { return exp(v - shift); }
    default: { return v; }
  }
}

fn finish(acc: f32, op: u32, shift: f32) -> f32 {
  switch op {
    case 1u: { return acc / f32(params.r_len); }
    case 7u: { return sqrt(acc); }
    case 8u: { return log(acc); }
    case 9u: { return log(acc) + shift; }
    default: { return acc; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * nwg.x;
  if (o >= params.n_out) { return; }
  let base = keptBase(o);
  var shift = 0.0;
  if (params.op == 9u) {
    var m = infinity(true);
    for (var r = lid; r < params.r_len; r += WG) { m = max(m, load(base, r)); }
    m = wgReduce(lid, m, OP_MAX);
    shift = select(m, 0.0, m == infinity(true));
  }
  var acc = identity(params.op);
  for (var r = lid; r < params.r_len; r += WG) { acc = combine(acc, mapIn(load(base, r), params.op, shift), params.op); }
  acc = wgReduce(lid, acc, params.op);
  if (lid == 0u) { y[o] = {{T}}(finish(acc, params.op, shift)); }
}

@compute @workgroup_size(WG)
fn serial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = flatIndex(gid, nwg, WG);
  if (o >= params.n_out) { return; }
  let base = keptBase(o);
  var shift = 0.0;
  if (params.op == 9u) {
    var m = infinity(true);
    for (var r = 0u; r < params.r_len; r++) { m = max(m, load(base, r)); }
    shift = select(m, 0.0, m == infinity(true));
  }
  var acc = identity(params.op);
  for (var r = 0u; r < params.r_len; r++) { acc = combine(acc, mapIn(load(base, r), params.op, shift), params.op); }
  y[o] = {{T}}(finish(acc, params.op, shift));
}

@compute @workgroup_size(WG)
fn segmented(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = segRow(wid, nwg, lid);
  let live = o < params.n_out;
  let base = select(0u, keptBase(o), live);
  let end = select(0u, params.r_len, live);  // lanes past the last output still join the barriers
  let j = lid % L;
  var shift = 0.0;
  if (params.op == 9u) {
    var m = infinity(true);
    for (var r = j; r < end; r += L) { m = max(m, load(base, r)); }
    m = segReduce(lid, m, OP_MAX);
    shift = select(m, 0.0, m == infinity(true));
  }
  var acc = identity(params.op);
  for (var r = j; r < end; r += L) { acc = combine(acc, mapIn(load(base, r), params.op, shift), params.op); }
  acc = segReduce(lid, acc, params.op);
  if (live && j == 0u) { y[o] = {{T}}(finish(acc, params.op, shift)); }
}
