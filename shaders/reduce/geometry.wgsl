// Split geometry shared by the reduce, arg and softmax shaders. A tensor of up to 8 dims is seen
// as kept dims K (the output, or the rows of a softmax) times reduced dims R. Each list holds at
// most 8 (size, input stride) pairs packed into two vec4<u32>; the host merges contiguous runs,
// so the common cases (one trailing axis, H*W) have a single reduced dim.

fn dimAt(lo: vec4<u32>, hi: vec4<u32>, d: u32) -> u32 {
  if (d < 4u) { return lo[d]; }
  return hi[d - 4u];
}

// Input offset of flat index i over dims (shape, stride), innermost dim last; nd dims in use.
fn offsetOf(i: u32, shape0: vec4<u32>, shape1: vec4<u32>, stride0: vec4<u32>, stride1: vec4<u32>, nd: u32) -> u32 {
  if (nd <= 1u) { return i * stride0.x; }  // the common case once runs are merged
  var rem = i;
  var off = 0u;
  for (var d = nd; d > 0u; d--) {
    let s = dimAt(shape0, shape1, d - 1u);
    off += (rem % s) * dimAt(stride0, stride1, d - 1u);
    rem = rem / s;
  }
  return off;
}

// Input offset of kept index o (an output, or a softmax row), and of reduced index r within it.
// They read the split fields (kshape0..rstride1, nk, nr) of the including shader's `params`.
fn keptBase(o: u32) -> u32 {
  return offsetOf(o, params.kshape0, params.kshape1, params.kstride0, params.kstride1, params.nk);
}

fn reducedAt(base: u32, r: u32) -> u32 {
  return base + offsetOf(r, params.rshape0, params.rshape1, params.rstride0, params.rstride1, params.nr);
}

// +-infinity (no WGSL literal for it; a runtime bitcast avoids const-evaluation errors)
fn infinity(negative: bool) -> f32 {
  var bits = select(0x7f800000u, 0xff800000u, negative);
  return bitcast<f32>(bits);
}
