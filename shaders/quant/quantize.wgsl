// QuantizeLinear: y = clamp(round(x / scale) + zero_point, lo, hi), computed in f32 as onnxruntime
// does (x / scale correctly rounded: quant/div.wgsl; round() is half to even in WGSL), the
// clamp in float before the integer conversion so that huge values saturate. y holds one integer
// per i32. DynamicQuantizeLinear reuses it with its computed scale and zero point (per tensor).
// #include common/index.wgsl
// #include quant/scale-index.wgsl
// #include quant/div.wgsl

struct Params {
  n: u32,
  D: u32,
  inner: u32,
  blk: u32,
  so: u32,
  si: u32,
  sr: u32,
  has_zp: u32,
  lo: i32,
  hi: i32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> scale: array<{{T}}>;
@group(0) @binding(2) var<storage, read> zp: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<i32>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let s = scaleIndex(i, params.D, params.inner, params.blk, params.so, params.si, params.sr);
  let z = select(0, zp[s], params.has_zp != 0u);
  let q = round(divRN(f32(x[i]), f32(scale[s]))) + f32(z);
  y[i] = i32(clamp(q, f32(params.lo), f32(params.hi)));
}
