// Which scale / zero point an element of a QuantizeLinear / DequantizeLinear input uses: element i of
// x viewed as [outer, D, inner] around the quantization axis, its scale at
// o * so + (a / blk) * si + r * sr. Per tensor: so = si = sr = 0; per axis: si = 1, blk 1;
// blocked (opset 21): so = ceil(D / blk) * inner, si = inner, sr = 1.
fn scaleIndex(i: u32, D: u32, inner: u32, blk: u32, so: u32, si: u32, sr: u32) -> u32 {
  let r = i % inner;
  let a = (i / inner) % D;
  let o = i / (inner * D);
  return o * so + (a / blk) * si + r * sr;
}
