// Segmented tree reduction for the `segmented` entry points of reduce.wgsl (Reduce*, the global
// pools) and softmax.wgsl: a workgroup of WG lanes serves WG / L rows, L adjacent lanes per row
// (L a power of two <= WG, an override the host picks from the row length). Lane j of a row reads
// elements j, j + L, ... (adjacent lanes, adjacent addresses), then log2(L) barrier steps combine
// the L partials in workgroup memory. Includes common/workgroup-reduce.wgsl first (part, combine).
override L: u32 = 8u;

// Call from workgroup-uniform control flow; every lane of a row gets its row's result.
fn segReduce(lid: u32, v: f32, op: u32) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  let j = lid % L;
  for (var s = L / 2u; s > 0u; s = s / 2u) {
    if (j < s) { part[lid] = combine(part[lid], part[lid + s], op); }
    workgroupBarrier();
  }
  let r = part[lid - j];
  workgroupBarrier();
  return r;
}

// Row (kept index) of lane lid in workgroup wid of a segmented dispatch (src/kernels/softmax.ts).
fn segRow(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * (WG / L) + lid / L;
}
