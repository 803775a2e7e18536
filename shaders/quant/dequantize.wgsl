// DequantizeLinear: y = (x - zero_point) * scale in f32 (one rounding, as onnxruntime computes it),
// stored as {{T}}. x is one integer per i32 word (packed 0), or 8-bit values four to a word, low
// byte first, signed (packed 1) or unsigned (packed 2): constant weights stay 8-bit on the GPU.
// #include common/index.wgsl
// #include quant/scale-index.wgsl

struct Params {
  n: u32,
  D: u32,
  inner: u32,
  blk: u32,
  so: u32,
  si: u32,
  sr: u32,
  has_zp: u32,
  packed: u32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> scale: array<{{T}}>;
@group(0) @binding(2) var<storage, read> zp: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;

fn value(i: u32) -> i32 {
  if (params.packed == 0u) { return bitcast<i32>(x[i]); }
  let word = x[i / 4u];
  let at = (i % 4u) * 8u;
  if (params.packed == 1u) { return extractBits(bitcast<i32>(word), at, 8u); }
  return i32(extractBits(word, at, 8u));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let s = scaleIndex(i, params.D, params.inner, params.blk, params.so, params.si, params.sr);
  let z = select(0, zp[s], params.has_zp != 0u);
  y[i] = {{T}}(f32(value(i) - z) * f32(scale[s]));
}
