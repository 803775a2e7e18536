// Einsum of one or two operands, any equation: one invocation per output element. The output's
// labels (row-major, sizes out_size) give base offsets into a and b (strides out_sa / out_sb; a label
// an operand lacks has stride 0, a repeated label the sum of its strides: diagonals); the summed
// labels (sizes sum_size, strides sum_sa / sum_sb) are walked by one counter, accumulating in f32.
// #include common/index.wgsl

struct Params {
  n: u32,
  out_rank: u32,
  sum_rank: u32,
  // number of summed terms (product of sum_size)
  terms: u32,
  two: u32,
  out_size0: vec4<u32>,
  out_size1: vec4<u32>,
  out_sa0: vec4<u32>,
  out_sa1: vec4<u32>,
  out_sb0: vec4<u32>,
  out_sb1: vec4<u32>,
  sum_size0: vec4<u32>,
  sum_size1: vec4<u32>,
  sum_sa0: vec4<u32>,
  sum_sa1: vec4<u32>,
  sum_sb0: vec4<u32>,
  sum_sb1: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> a: array<{{T}}>;
@group(0) @binding(1) var<storage, read> b: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 64u;

fn at(v0: vec4<u32>, v1: vec4<u32>, d: u32) -> u32 {
  return select(v1[d - 4u], v0[d & 3u], d < 4u);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  var oa = 0u;
  var ob = 0u;
  var r = i;
  for (var d = i32(params.out_rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = at(params.out_size0, params.out_size1, k);
    let c = r % size;
    r = r / size;
    oa += c * at(params.out_sa0, params.out_sa1, k);
    ob += c * at(params.out_sb0, params.out_sb1, k);
  }
  var acc = 0.0;
  for (var t = 0u; t < params.terms; t++) {
    var pa = oa;
    var pb = ob;
    var q = t;
    for (var d = i32(params.sum_rank) - 1; d >= 0; d--) {
      let k = u32(d);
      let size = at(params.sum_size0, params.sum_size1, k);
      let c = q % size;
      q = q / size;
      pa += c * at(params.sum_sa0, params.sum_sa1, k);
      pb += c * at(params.sum_sb0, params.sum_sb1, k);
    }
    var v = f32(a[pa]);
    if (params.two == 1u) { v *= f32(b[pb]); }
    acc += v;
  }
  y[i] = {{T}}(acc);
}
