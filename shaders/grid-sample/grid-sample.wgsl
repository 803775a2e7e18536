// GridSample (ONNX 16/20 == torch grid_sample), 2-D. One invocation per output pixel (n, oy, ox);
// the taps and weights are computed once and reused for every channel.
// #include common/index.wgsl
// #include grid-sample/taps.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> grid: array<{{G}}>;
@group(0) @binding(2) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = flatIndex(gid, nwg, WG);
  if (p >= params.pixels) { return; }
  let n = p / params.out_hw;
  let o = p % params.out_hw;
  let tx = axisTaps(f32(grid[2u * p]), params.in_w);
  let ty = axisTaps(f32(grid[2u * p + 1u]), params.in_h);
  let plane = params.in_h * params.in_w;
  if (TAPS == 2u) {
    // bilinear, written out in scalars (SwiftShader's Subzero JIT keeps the tap loops and the Taps
    // indexing of the general path as written: 3-4x slower there; the same speed on lavapipe). A
    // row of weight 0 (zeros padding) adds nothing, as the general path's skip: select, not 0 * x.
    let r0 = u32(ty.idx.x) * params.in_w;
    let r1 = u32(ty.idx.y) * params.in_w;
    let c0 = u32(tx.idx.x);
    let c1 = u32(tx.idx.y);
    let a = r0 + c0; let b = r0 + c1; let cc = r1 + c0; let d = r1 + c1;
    let w0 = tx.w.x; let w1 = tx.w.y; let v0 = ty.w.x; let v1 = ty.w.y;
    var base = n * params.c * plane;
    var o2 = n * params.c * params.out_hw + o;
    for (var c = 0u; c < params.c; c++) {
      let top = w0 * f32(x[base + a]) + w1 * f32(x[base + b]);
      let bot = w0 * f32(x[base + cc]) + w1 * f32(x[base + d]);
      y[o2] = {{T}}(select(0.0, v0 * top, v0 != 0.0) + select(0.0, v1 * bot, v1 != 0.0));
      base += plane;
      o2 += params.out_hw;
    }
    return;
  }
  for (var c = 0u; c < params.c; c++) {
    let base = (n * params.c + c) * plane;
    var acc = 0.0;
    for (var j = 0u; j < TAPS; j++) {
      if (ty.w[j] == 0.0) { continue; }
      let row = base + u32(ty.idx[j]) * params.in_w;
      var r = 0.0;
      for (var i = 0u; i < TAPS; i++) {
        r += tx.w[i] * f32(x[row + u32(tx.idx[i])]);
      }
      acc += ty.w[j] * r;
    }
    y[(n * params.c + c) * params.out_hw + o] = {{T}}(acc);
  }
}
