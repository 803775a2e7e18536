// Resize / Upsample's uniforms and buffers, shared by resize.wgsl and resize-x4.wgsl (the same host
// tables: src/kernels/resize.ts).
struct Params {
  pixels: u32,   // out_h * out_w
  planes: u32,   // product of the leading dims
  in_h: u32,
  in_w: u32,
  out_w: u32,
  kh: u32,
  kw: u32,
  xoff: u32,     // where the column table starts in tab_i / tab_w
  extrap: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> tab_i: array<i32>;
@group(0) @binding(2) var<storage, read> tab_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;
