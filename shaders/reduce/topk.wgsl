// TopK: x seen as [outer, len, inner] around the axis; one invocation per input element counts the
// elements of its run that rank before it (larger, or smaller with largest = 0; ties by lower
// index, so the output is sorted and stable) and, when that rank r < k, writes itself as the r-th
// value and index. O(len) per element.
// #include common/index.wgsl

struct Params {
  n: u32,
  len: u32,
  inner: u32,
  k: u32,
  largest: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> values: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let inner = params.inner;
  let a = (i / inner) % params.len;
  let o = i / (inner * params.len);
  let base = i - a * inner;
  let v = x[i];
  var rank = 0u;
  for (var j = 0u; j < params.len; j++) {
    let u = x[base + j * inner];
    let better = select((u < v), (u > v), params.largest == 1u);
    let before = better || (u == v && (j < a));
    rank += select(0u, 1u, before);
  }
  if (rank >= params.k) { return; }
  let at = (o * params.k + rank) * inner + i % inner;
  values[at] = v;
  indices[at] = i32(a);
}
