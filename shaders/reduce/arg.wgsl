// ArgMax / ArgMin along one axis; ties go to the first index, or the last with select_last_index.
// Compares in the tensor's own dtype. `main`: one workgroup per output; `serial`: one invocation.
// #include reduce/geometry.wgsl
// #include common/index.wgsl

struct Params {
  kshape0: vec4<u32>, kshape1: vec4<u32>, kstride0: vec4<u32>, kstride1: vec4<u32>,
  rshape0: vec4<u32>, rshape1: vec4<u32>, rstride0: vec4<u32>, rstride1: vec4<u32>,
  nk: u32,
  nr: u32,
  n_out: u32,
  r_len: u32,
  is_min: u32,
  last: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<i32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 128u;  // power of two
const NONE: u32 = 0xffffffffu;
var<workgroup> pv: array<{{T}}, WG>;
var<workgroup> pi: array<u32, WG>;

// Is candidate (bv, bi) preferred over the current best (av, ai)?
fn better(av: {{T}}, ai: u32, bv: {{T}}, bi: u32) -> bool {
  if (bi == NONE) { return false; }
  if (ai == NONE) { return true; }
  let strictly = select(bv > av, bv < av, params.is_min == 1u);
  if (strictly) { return true; }
  if (bv == av) { return select((bi < ai), (bi > ai), params.last == 1u); }
  return false;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * nwg.x;
  if (o >= params.n_out) { return; }
  let base = keptBase(o);
  var bv: {{T}};
  var bi = NONE;
  for (var r = lid; r < params.r_len; r += WG) {
    let v = x[reducedAt(base, r)];
    if (better(bv, bi, v, r)) { bv = v; bi = r; }
  }
  pv[lid] = bv;
  pi[lid] = bi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if ((lid < s) && better(pv[lid], pi[lid], pv[lid + s], pi[lid + s])) {
      pv[lid] = pv[lid + s];
      pi[lid] = pi[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) { y[o] = select(i32(pi[0]), 0, pi[0] == NONE); }
}

@compute @workgroup_size(WG)
fn serial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = flatIndex(gid, nwg, WG);
  if (o >= params.n_out) { return; }
  let base = keptBase(o);
  var bv: {{T}};
  var bi = NONE;
  for (var r = 0u; r < params.r_len; r++) {
    let v = x[reducedAt(base, r)];
    if (better(bv, bi, v, r)) { bv = v; bi = r; }
  }
  y[o] = select(i32(bi), 0, bi == NONE);
}
