// Integer convolution / matmul with WGSL's packed_4x8_integer_dot_product (dot4I8Packed): four
// taps per instruction. x - x_bias (x_bias 128 for uint8 x) and the weight bytes are both signed
// 8-bit, so with x' = x - x_bias, z' = x_zp - x_bias and the weight zero point wz (of the packed
// bytes): sum (x' - z')(w - wz) = dot(x', w) - wz * sum x' - z' * sum w + 4 * KW4 * z' * wz, over
// every tap of the padded words (a padding tap holds x_zp, so it adds nothing). Equal to the
// portable kernel's sum modulo 2^32, i.e. exactly. Declarations and the epilogue: qconv-common.wgsl.
// #include quant/qconv-common.wgsl

const ONES = 0x01010101u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.total) { return; }
  let o = outAt(i);
  var acc4 = 0;
  var sx = 0;
  var sw = 0;
  for (var q = 0u; q < params.KW4; q++) {
    let word = w[o.wbase + q];
    let k = q * 4u;
    let xs = vec4<i32>(tap(o, k), tap(o, k + 1u), tap(o, k + 2u), tap(o, k + 3u)) - vec4<i32>(params.x_bias);
    let px = pack4xI8(xs);
    acc4 += dot4I8Packed(px, word);
    sx += dot4I8Packed(px, ONES);
    sw += dot4I8Packed(word, ONES);
  }
  let z = o.xz - params.x_bias;
  let acc = acc4 - o.wz * sx - z * sw + i32(4u * params.KW4) * z * o.wz;
  store(i, o, acc);
}
