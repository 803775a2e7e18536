// Tree reduction across a workgroup of one f32 per invocation, for the reduce, softmax and norm
// shaders. The including shader declares `override WG: u32` (a power of two).
// op: 0 sum, 2 max, 3 min, 4 prod (the Reduce* op codes; any other code sums).
const OP_SUM = 0u;
const OP_MAX = 2u;

var<workgroup> part: array<f32, WG>;

fn combine(a: f32, b: f32, op: u32) -> f32 {
  switch op {
    case 2u: { return max(a, b); }
    case 3u: { return min(a, b); }
    case 4u: { return a * b; }
    default: { return a + b; }
  }
}

// Call from workgroup-uniform control flow; every invocation gets the result.
fn wgReduce(lid: u32, v: f32, op: u32) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] = combine(part[lid], part[lid + s], op); }
    workgroupBarrier();
  }
  let r = part[0];
  workgroupBarrier();
  return r;
}
