// Cast {{T}} -> {{O}}. mode 0: plain WGSL conversion (to floats; float -> int truncates toward zero
// and saturates); 1: bool, 0/1 for "x != 0"; 2/3: to a signed/unsigned integer of `bits` bits
// stored in 32: signed truncates (saturating) to i32 and sign-extends the low `bits`; unsigned
// truncates (saturating, negatives 0) to u32 and keeps the low `bits` (i32 <-> u32 keep the bits,
// so integer sources wrap as C does). Float sources out of range are undefined in ONNX; this is
// what onnxruntime's wasm build gives (WGSL's own conversions stop at the largest f32 below 2^31
// and 2^32, so values at or above those go to the integer maximum explicitly).
// #include common/index.wgsl

struct Params {
  n: u32,
  mode: u32,
  bits: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{O}}>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

// float sources keep 0.5, integers truncate it to 0 (folded at compile time)
const FLOAT_SRC = {{T}}(0.5) != {{T}}(0);

fn toInt(v: {{T}}) -> i32 {
  let drop = 32u - params.bits;
  if (params.mode == 3u) {
    let u = select(u32(v), 0xffffffffu, FLOAT_SRC && f32(v) >= 4294967296.0);
    return bitcast<i32>(u & (0xffffffffu >> drop));
  }
  let s = select(i32(v), 2147483647, FLOAT_SRC && f32(v) >= 2147483648.0);
  return (s << drop) >> drop;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let v = x[i];
  switch params.mode {
    case 1u: { y[i] = select({{O}}(0), {{O}}(1), v != {{T}}(0)); }
    case 2u, 3u: { y[i] = {{O}}(toInt(v)); }
    default: { y[i] = {{O}}(v); }
  }
}
