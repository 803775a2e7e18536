// y[i] = x[offset(i)], or a pad constant: the one index map behind Transpose, Slice, Pad, Expand,
// Tile, DepthToSpace and SpaceToDepth. Data moves bitwise ({{T}} is u32 for 4-byte dtypes, f16).
// For output dim d at coordinate c, r = start[d] + c * step[d] is a coordinate in a window of
// len[d] input elements; Pad modes fold an r outside [0, len) back in (or mark it constant), and
// the input offset is base + sum(r * stride[d]) (stride 0 broadcasts).
// #include common/index.wgsl

struct Params {
  n: u32,
  rank: u32,
  // 0 plain, 1 constant, 2 reflect, 3 edge, 4 wrap
  mode: u32,
  base: u32,
  // the pad constant: bits for 4-byte dtypes, the value for f16
  cbits: u32,
  cval: f32,
  shape0: vec4<u32>,
  shape1: vec4<u32>,
  start0: vec4<i32>,
  start1: vec4<i32>,
  step0: vec4<i32>,
  step1: vec4<i32>,
  len0: vec4<i32>,
  len1: vec4<i32>,
  stride0: vec4<i32>,
  stride1: vec4<i32>,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

alias T = {{T}};
const IS_HALF = T(0.5) != T(0);

fn pickU(lo: vec4<u32>, hi: vec4<u32>, d: u32) -> u32 { return select(hi[d & 3u], lo[d & 3u], d < 4u); }
fn pickI(lo: vec4<i32>, hi: vec4<i32>, d: u32) -> i32 { return select(hi[d & 3u], lo[d & 3u], d < 4u); }

// r folded into [0, n) by the pad mode; -1 means "use the constant".
fn fold(r: i32, n: i32, mode: u32) -> i32 {
  if (mode == 0u || (r >= 0 && r < n)) { return r; }
  switch mode {
    case 2u: {
      if (n == 1) { return 0; }
      let p = 2 * (n - 1);
      var m = r % p;
      if (m < 0) { m += p; }
      return select(m, p - m, m >= n);
    }
    case 3u: { return clamp(r, 0, n - 1); }
    case 4u: {
      var m = r % n;
      if (m < 0) { m += n; }
      return m;
    }
    default: { return -1; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  var rem = i;
  var off = i32(params.base);
  var inside = true;
  for (var d = params.rank; d > 0u; d--) {
    let k = d - 1u;
    let s = pickU(params.shape0, params.shape1, k);
    let c = rem % s;
    rem = rem / s;
    let r = fold(pickI(params.start0, params.start1, k) + i32(c) * pickI(params.step0, params.step1, k),
                 pickI(params.len0, params.len1, k), params.mode);
    inside = inside && r >= 0;
    off += r * pickI(params.stride0, params.stride1, k);
  }
  if (inside) {
    y[i] = x[u32(off)];
  } else {
    y[i] = select(T(params.cbits), T(params.cval), IS_HALF);
  }
}
