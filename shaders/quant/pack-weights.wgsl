// 8-bit weights computed at run time (or a forced variant's unpacked constant), packed on the GPU the
// way the integer conv kernels read them (qconv-common.wgsl): per batch, per row (output channel)
// KW4 words of four signed bytes (w - w_bias), low byte first, zero-padded. Element k of row r of
// batch b is src[b * sbs + r * rs + k * ks]. One invocation per word.
// #include common/index.wgsl

struct Params {
  words: u32,
  rows: u32,
  K: u32,
  KW4: u32,
  sbs: u32,
  rs: u32,
  ks: u32,
  w_bias: i32,
}

@group(0) @binding(0) var<storage, read> src: array<i32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.words) { return; }
  let q = i % params.KW4;
  let r = (i / params.KW4) % params.rows;
  let b = i / (params.KW4 * params.rows);
  var word = 0u;
  for (var j = 0u; j < 4u; j++) {
    let k = q * 4u + j;
    if (k < params.K) {
      let v = src[b * params.sbs + r * params.rs + k * params.ks] - params.w_bias;
      word |= (bitcast<u32>(v) & 0xffu) << (j * 8u);
    }
  }
  dst[i] = word;
}
