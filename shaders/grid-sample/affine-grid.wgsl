// AffineGrid (ONNX 20 == torch affine_grid), 2-D: grid[n, h, w] = theta[n] @ (x_w, y_h, 1).
// One invocation per output point; the base coordinates are the pixel centres (align 0) or corners
// (align 1) of an h x w image in [-1, 1].
// #include common/index.wgsl

struct Params {
  points: u32,   // N * h * w
  h: u32,
  w: u32,
  align: u32,
}

@group(0) @binding(0) var<storage, read> theta: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> grid: array<{{T}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 64u;

fn base(i: u32, size: u32) -> f32 {
  if (size <= 1u) { return 0.0; }
  if (params.align == 1u) { return -1.0 + 2.0 * f32(i) / f32(size - 1u); }
  return -1.0 + (2.0 * f32(i) + 1.0) / f32(size);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = flatIndex(gid, nwg, WG);
  if (p >= params.points) { return; }
  let hw = params.h * params.w;
  let n = p / hw;
  let bx = base(p % params.w, params.w);
  let by = base((p % hw) / params.w, params.h);
  let t = 6u * n;
  let gx = f32(theta[t]) * bx + f32(theta[t + 1u]) * by + f32(theta[t + 2u]);
  let gy = f32(theta[t + 3u]) * bx + f32(theta[t + 4u]) * by + f32(theta[t + 5u]);
  grid[2u * p] = {{T}}(gx);
  grid[2u * p + 1u] = {{T}}(gy);
}
