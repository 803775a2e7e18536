// Mean and (population) variance, two-pass in f32, of the `count` values elem(g, 0..count) of
// group g, one workgroup per group. The including shader defines `fn elem(g: u32, j: u32) -> f32`
// and `override WG: u32` (a power of two). Call from workgroup-uniform control flow.
// #include common/workgroup-reduce.wgsl

fn moments(lid: u32, g: u32, count: u32) -> vec2<f32> {
  var s = 0.0;
  for (var j = lid; j < count; j += WG) { s += elem(g, j); }
  let m = wgReduce(lid, s, OP_SUM) / f32(count);
  var q = 0.0;
  for (var j = lid; j < count; j += WG) {
    let d = elem(g, j) - m;
    q += d * d;
  }
  return vec2(m, wgReduce(lid, q, OP_SUM) / f32(count));
}
