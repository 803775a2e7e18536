// CumSum: x seen as [outer, len, inner] around the axis; one invocation per output element sums its
// run along the axis (exclusive: without itself; reverse: from the end), in {{A}} (f32 for floats).
// O(len) per element: for the sequence lengths exports carry, no multi-pass scan is needed.
// #include common/index.wgsl

struct Params {
  n: u32,
  len: u32,
  inner: u32,
  exclusive: u32,
  reverse: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let a = (i / params.inner) % params.len;
  let base = i - a * params.inner;
  var lo = 0u;
  var hi = a + 1u;
  if (params.reverse == 1u) {
    lo = a;
    hi = params.len;
  }
  if (params.exclusive == 1u) {
    if (params.reverse == 1u) { lo = a + 1u; } else { hi = a; }
  }
  var acc = {{A}}(0);
  for (var k = lo; k < hi; k++) { acc += {{A}}(x[base + k * params.inner]); }
  y[i] = {{T}}(acc);
}
