// DynamicQuantizeLinear's scale and zero point (uint8), one workgroup over the whole of x: the range
// [min(x, 0), max(x, 0)] over 255 steps, as onnxruntime computes them in f32 (scale 1 when x is all
// zeros; zero point = round(clamp(0 - min / scale, 0, 255)), half to even). quantize.wgsl then
// quantizes x with them.
// #include common/workgroup-reduce.wgsl
// #include quant/div.wgsl

struct Params {
  n: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> scale: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> zp: array<i32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  var lo = 0.0;
  var hi = 0.0;
  for (var i = lid; i < params.n; i += WG) {
    let v = f32(x[i]);
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let mn = wgReduce(lid, lo, 3u);
  let mx = wgReduce(lid, hi, 2u);
  if (lid == 0u) {
    let s = select(divRN(mx - mn, 255.0), 1.0, mx == mn);
    scale[0] = {{T}}(s);
    zp[0] = i32(round(clamp(0.0 - divRN(mn, s), 0.0, 255.0)));
  }
}
