// MaxUnpool: `clear` zeroes y, then `scatter` writes x[i] at y[indices[i]] (flat indices over the
// whole output, as MaxPool's Indices give them; out-of-range indices are skipped).
// #include common/index.wgsl

struct Params {
  n: u32,      // invocations: elements of y (clear) or of x (scatter)
  total: u32,  // elements of y
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn clear(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  y[i] = {{T}}(0);
}

@compute @workgroup_size(WG)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let j = indices[i];
  if (j < 0 || u32(j) >= params.total) { return; }
  y[u32(j)] = x[i];
}
