// Bilateral grid geometry shared by splat and slice: a pixel's 5-D feature
// (x, y) / cell_xy and (r, g, b) / cell_rgb in grid cells; cells numbered x fastest, then y, r, g, b.

struct Feature {
  f: array<f32, 5>,
}

fn pixelFeature(i: u32, n: u32, w: u32, inv_xy: f32, inv_rgb: f32) -> Feature {
  var o: Feature;
  o.f[0] = f32(i % w) * inv_xy;
  o.f[1] = f32(i / w) * inv_xy;
  for (var k = 0u; k < 3u; k++) { o.f[2u + k] = clamp(f32(img[k * n + i]), 0.0, 255.0) * inv_rgb; }
  return o;
}

fn cellIndex(c: array<u32, 5>, dims: array<u32, 5>) -> u32 {
  var idx = 0u;
  for (var k = 4; k >= 0; k--) { idx = idx * dims[k] + min(c[k], dims[k] - 1u); }
  return idx;
}
