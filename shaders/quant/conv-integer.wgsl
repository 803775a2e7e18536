// Integer convolution / matmul, portable: each tap's (x - x_zp) * (w - w_zp) in i32 from the
// unpacked weight bytes. Declarations and the epilogue: qconv-common.wgsl.
// #include quant/qconv-common.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.total) { return; }
  let o = outAt(i);
  var acc = 0;
  for (var q = 0u; q < params.KW4; q++) {
    let word = bitcast<i32>(w[o.wbase + q]);
    for (var j = 0u; j < 4u; j++) {
      let k = q * 4u + j;
      if (k >= params.K) { break; }
      acc += (tap(o, k) - o.xz) * (extractBits(word, j * 8u, 8u) - o.wz);
    }
  }
  store(i, o, acc);
}
