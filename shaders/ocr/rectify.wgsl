// OCR line rectification: each text line's quadrilateral in the source image is mapped onto a
// straight out_h-high strip by a homography (dest pixel -> source point), sampled bilinearly with
// taps x taps samples per output pixel (an area filter when the line shrinks), and written as
// planar B, G, R times `scale` plus `bias` into the batch tensor [lines, 3, out_h, out_w]. Columns
// past a line's own width get `pad` (the batch is as wide as its widest line).
// lines: 3 vec4 per line: (h00, h01, h02, width), (h10, h11, h12, taps), (h20, h21, h22, 0).
// #include ocr/rgba.wgsl

struct Params {
  src_w: u32,
  src_h: u32,
  pitch: u32,
  out_w: u32,
  out_h: u32,
  lines: u32,
  scale: f32,
  bias: f32,
  pad: f32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> lines: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.z;
  if (gid.x >= params.out_w || gid.y >= params.out_h || n >= params.lines) { return; }
  let r0 = lines[3u * n];
  let r1 = lines[3u * n + 1u];
  let r2 = lines[3u * n + 2u];
  let plane = params.out_w * params.out_h;
  let o = n * 3u * plane + gid.y * params.out_w + gid.x;
  if (f32(gid.x) >= r0.w) {
    dst[o] = params.pad;
    dst[o + plane] = params.pad;
    dst[o + 2u * plane] = params.pad;
    return;
  }
  let size = vec2<i32>(i32(params.src_w), i32(params.src_h));
  let taps = u32(r1.w);
  var acc = vec4f(0.0);
  for (var ty = 0u; ty < taps; ty++) {
    for (var tx = 0u; tx < taps; tx++) {
      let uv = vec3f(vec2f(gid.xy) + (vec2f(f32(tx), f32(ty)) + 0.5) / f32(taps), 1.0);
      let q = vec3f(dot(r0.xyz, uv), dot(r1.xyz, uv), dot(r2.xyz, uv));
      acc += rgbaBilinear(q.xy / q.z, size, params.pitch);
    }
  }
  let c = acc / f32(taps * taps) * params.scale + params.bias;
  dst[o] = c.b;
  dst[o + plane] = c.g;
  dst[o + 2u * plane] = c.r;
}
