// CTC greedy step on the GPU: for each row (one time step of one line) of `classes`
// probabilities, the largest value and its index (the first one on ties). One workgroup per row;
// out[2 * row] = index, out[2 * row + 1] = bitcast<u32>(probability).

struct Params {
  rows: u32,
  classes: u32,
}

@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 64u;
var<workgroup> best: array<f32, WG>;
var<workgroup> at: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; } // uniform across the workgroup
  let base = row * params.classes;
  var m = -3.0e38;
  var k = 0xffffffffu;
  for (var c = lid; c < params.classes; c += WG) {
    let v = probs[base + c];
    if (v > m) { m = v; k = c; }
  }
  best[lid] = m;
  at[lid] = k;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid < s) {
      let v = best[lid + s];
      let j = at[lid + s];
      if (v > best[lid] || (v == best[lid] && j < at[lid])) { best[lid] = v; at[lid] = j; }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[2u * row] = at[0];
    out[2u * row + 1u] = bitcast<u32>(best[0]);
  }
}
