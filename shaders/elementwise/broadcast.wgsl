// Numpy/ONNX broadcasting index math for up to 8 dims (shapes and strides as two vec4 each).
// Strides are 0 along broadcast dims; the host merges runs of dims first, so equal shapes and
// scalars arrive with rank 1 and skip the div/mod loop (the fast path).

fn dim8(lo: vec4<u32>, hi: vec4<u32>, d: u32) -> u32 {
  return select(hi[d & 3u], lo[d & 3u], d < 4u);
}

// Offsets into up to three inputs (a, b, c) of output element i.
fn bcastOffsets(i: u32, rank: u32, sh0: vec4<u32>, sh1: vec4<u32>, a0: vec4<u32>, a1: vec4<u32>,
                b0: vec4<u32>, b1: vec4<u32>, c0: vec4<u32>, c1: vec4<u32>) -> vec3<u32> {
  if (rank <= 1u) { return i * vec3<u32>(a0.x, b0.x, c0.x); }
  var rem = i;
  var off = vec3<u32>(0u);
  for (var d = rank; d > 0u; d--) {
    let k = d - 1u;
    let s = dim8(sh0, sh1, k);
    let c = rem % s;
    rem = rem / s;
    off += c * vec3<u32>(dim8(a0, a1, k), dim8(b0, b1, k), dim8(c0, c1, k));
  }
  return off;
}
