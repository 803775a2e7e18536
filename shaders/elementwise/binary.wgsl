// y = op(a, b) with numpy broadcasting; `op` is a uniform code (see BINARY_CODES in
// src/kernels/elementwise.ts). {{T}}: dtype of a, {{B}}: of b ({{T}} except for Pow's exponent),
// {{O}}: of y ({{T}}, or u32 for the comparisons).
// #include common/index.wgsl
// #include elementwise/broadcast.wgsl

struct Params {
  n: u32,
  op: u32,
  rank: u32,
  // divisor of the last step of Mean
  count: f32,
  shape0: vec4<u32>,
  shape1: vec4<u32>,
  sa0: vec4<u32>,
  sa1: vec4<u32>,
  sb0: vec4<u32>,
  sb1: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> a: array<{{T}}>;
@group(0) @binding(1) var<storage, read> b: array<{{B}}>;
@group(0) @binding(2) var<storage, read_write> y: array<{{O}}>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

alias T = {{T}};
alias O = {{O}};
// integer dtypes truncate 0.5 to 0 (folded at compile time)
const IS_INT = T(0.5) == T(0);

// C semantics for integers (negative exponent truncates); for floats an integral exponent
// allows a negative base, as std::pow does.
fn powT(x: T, e: T) -> T {
  if (IS_INT) {
    var k = i32(e);
    if (k < 0) {
      if (x == T(1)) { return T(1); }
      if (i32(x) == -1) { return select(T(1), x, (k & 1) != 0); }
      return T(0);
    }
    var base = x;
    var r = T(1);
    while (k > 0) {
      if ((k & 1) != 0) { r = r * base; }
      base = base * base;
      k = k >> 1u;
    }
    return r;
  }
  let fx = f32(x);
  let fe = f32(e);
  if (fe == 0.0) { return T(1); }
  // a negative base with a fractional exponent is NaN (pow = exp2(e * log2(x)))
  if (fe != floor(fe)) { return T(pow(fx, fe)); }
  let m = pow(abs(fx), fe);
  let odd = fract(fe * 0.5) != 0.0;
  return T(select(m, -m, fx < 0.0 && odd));
}

// fmod=1: sign of the dividend (C fmod); floor=true: sign of the divisor (Python %).
fn modT(x: T, d: T, floorMode: bool) -> T {
  let r = x % d;
  if (floorMode && r != T(0) && ((r < T(0)) != (d < T(0)))) { return r + d; }
  return r;
}

fn flag(c: bool) -> O {
  return O(select(0u, 1u, c));
}

fn apply(x: T, z: T) -> O {
  switch params.op {
    case 0u: { return O(x + z); }
    case 1u: { return O(x - z); }
    case 2u: { return O(x * z); }
    case 3u: { return O(x / z); }
    case 4u: { return O(powT(x, z)); }
    case 5u: { return O(max(x, z)); }
    case 6u: { return O(min(x, z)); }
    case 7u: { return O(modT(x, z, false)); }
    case 8u: { return O(modT(x, z, true)); }
    case 9u: { return O(select(x, x * z, x < T(0))); }
    case 10u: { return flag(x == z); }
    case 11u: { return flag(x < z); }
    case 12u: { return flag(x > z); }
    case 13u: { return flag(x <= z); }
    case 14u: { return flag(x >= z); }
    case 15u: { return O(f32(x + z) / params.count); }
    default: { return O(0); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let off = bcastOffsets(i, params.rank, params.shape0, params.shape1, params.sa0, params.sa1,
                         params.sb0, params.sb1, vec4<u32>(0u), vec4<u32>(0u));
  y[i] = apply(a[off.x], T(b[off.y]));
}
