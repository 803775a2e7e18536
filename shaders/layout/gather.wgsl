// Gather along one axis: x viewed as [outer, axis_len, inner], y as [outer, count, inner].
// Negative indices count from the end; out-of-range ones are clamped (ONNX leaves them undefined).
// #include common/index.wgsl

struct Params {
  n: u32,
  inner: u32,
  count: u32,
  axis_len: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let t = i / params.inner;
  let o = t / params.count;
  let len = i32(params.axis_len);
  var k = indices[t % params.count];
  if (k < 0) { k += len; }
  let j = u32(clamp(k, 0, len - 1));
  y[i] = x[(o * params.axis_len + j) * params.inner + i % params.inner];
}
