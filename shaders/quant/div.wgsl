// a / b correctly rounded in f32, as onnxruntime's C++ division gives it: WGSL allows 2.5 ULP for
// f32 division (SwiftShader's is 1 ULP off at times, which moves a quantized value across a
// rounding boundary), but + - * are correctly rounded. So the residual a - q * b of a first quotient
// q is computed exactly (Dekker's product without fma: Veltkamp splits at 2^12 + 1), and one
// correction q + r / b lands on the nearest f32 (a quotient is never exactly halfway between two
// floats). Inputs within f32's normal range, far from overflow.
fn splitHi(v: f32) -> f32 {
  let c = 4097.0 * v;
  return c - (c - v);
}

fn divRN(a: f32, b: f32) -> f32 {
  let q = a / b;
  if (q == 0.0 || abs(q) > 1e30 || abs(b) > 1e30 || q != q) { return q; }
  let p = q * b;
  let qh = splitHi(q);
  let ql = q - qh;
  let bh = splitHi(b);
  let bl = b - bh;
  let e = ((qh * bh - p) + qh * bl + ql * bh) + ql * bl;
  let r = (a - p) - e;
  return q + r / b;
}
