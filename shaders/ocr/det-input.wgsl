// OCR detection input: an RGBA8 image (ocr/rgba.wgsl) resized to out_w x out_h and written as
// planar B, G, R (NCHW [1,3,H,W]) times `scale` plus `bias`. Each output pixel averages
// taps_x x taps_y bilinear samples spread over its source footprint (one tap when enlarging), so
// shrinking a large photo filters instead of skipping pixels.
// #include ocr/rgba.wgsl

struct Params {
  src_w: u32,
  src_h: u32,
  pitch: u32,
  out_w: u32,
  out_h: u32,
  taps_x: u32,
  taps_y: u32,
  scale: f32,
  bias: f32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.out_w || gid.y >= params.out_h) { return; }
  let size = vec2<i32>(i32(params.src_w), i32(params.src_h));
  let step = vec2f(f32(params.src_w) / f32(params.out_w), f32(params.src_h) / f32(params.out_h));
  let taps = vec2f(f32(params.taps_x), f32(params.taps_y));
  var acc = vec4f(0.0);
  for (var ty = 0u; ty < params.taps_y; ty++) {
    for (var tx = 0u; tx < params.taps_x; tx++) {
      let p = (vec2f(gid.xy) + (vec2f(f32(tx), f32(ty)) + 0.5) / taps) * step;
      acc += rgbaBilinear(p, size, params.pitch);
    }
  }
  let c = acc / (taps.x * taps.y) * params.scale + params.bias;
  let plane = params.out_w * params.out_h;
  let i = gid.y * params.out_w + gid.x;
  dst[i] = c.b;
  dst[plane + i] = c.g;
  dst[2u * plane + i] = c.r;
}
