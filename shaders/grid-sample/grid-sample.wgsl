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
