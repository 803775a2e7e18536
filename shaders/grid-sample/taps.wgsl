// GridSample taps shared by grid-sample.wgsl and grid-sample-x4.wgsl: uniforms, unnormalisation,
// padding modes and the per-axis taps of nearest / linear / cubic.
// MODE (override): 0 nearest, 1 linear, 2 cubic; TAPS (override): taps per axis for that mode (1, 2,
// 4), so the tap loops have constant trip counts and unroll. pad: 0 zeros, 1 border, 2 reflection.
struct Params {
  pixels: u32,   // N * out_h * out_w
  c: u32,
  in_h: u32,
  in_w: u32,
  out_hw: u32,   // out_h * out_w
}

override MODE: u32 = 1u;
override TAPS: u32 = 2u;
// PAD: 0 zeros, 1 border, 2 reflection; ALIGN: align_corners (0 or 1)
override PAD: u32 = 0u;
override ALIGN: u32 = 0u;
const CUBIC_A: f32 = -0.75;

// The taps along one axis: up to 4 input indices and their weights (0 for a tap that reads padding
// and for the unused ones).
struct Taps {
  idx: vec4<i32>,
  w: vec4<f32>,
}

fn unnormalize(g: f32, size: f32) -> f32 {
  if (ALIGN == 1u) { return (g + 1.0) * 0.5 * (size - 1.0); }
  return ((g + 1.0) * size - 1.0) * 0.5;
}

// Reflect v into [lo, hi] (torch reflect_coordinates with twice_low = 2 lo, twice_high = 2 hi).
fn reflectInto(v: f32, lo: f32, hi: f32) -> f32 {
  let span = hi - lo;
  if (span <= 0.0) { return 0.0; }
  let d = abs(v - lo);
  let flips = floor(d / span);
  let extra = d - flips * span;
  if ((u32(flips) & 1u) == 0u) { return lo + extra; }
  return hi - extra;
}

// border / reflection on a coordinate (torch compute_coordinates): result lies in [0, size-1].
fn padCoord(v: f32, size: f32) -> f32 {
  var c = v;
  if (PAD == 2u) {
    if (ALIGN == 1u) { c = reflectInto(c, 0.0, size - 1.0); } else { c = reflectInto(c, -0.5, size - 0.5); }
  }
  if (PAD != 0u) { c = clamp(c, 0.0, size - 1.0); }
  return c;
}

// One tap at integer position i: zeros padding drops it, border/reflection move it inside.
fn tap(t: ptr<function, Taps>, k: u32, i: f32, w: f32, size: f32) {
  let j = padCoord(i, size);
  let inside = j >= 0.0 && j <= size - 1.0;
  (*t).idx[k] = i32(clamp(j, 0.0, size - 1.0));
  (*t).w[k] = select(0.0, w, inside);
}

fn cubicW(d: f32) -> f32 {
  let a = abs(d);
  if (a <= 1.0) { return ((CUBIC_A + 2.0) * a - (CUBIC_A + 3.0)) * a * a + 1.0; }
  if (a < 2.0) { return ((CUBIC_A * a - 5.0 * CUBIC_A) * a + 8.0 * CUBIC_A) * a - 4.0 * CUBIC_A; }
  return 0.0;
}

fn axisTaps(g: f32, sizeU: u32) -> Taps {
  let size = f32(sizeU);
  var t: Taps;
  t.idx = vec4<i32>(0);
  t.w = vec4<f32>(0.0);
  let u = unnormalize(g, size);
  if (MODE == 0u) {
    tap(&t, 0u, round(u), 1.0, size);  // round() is half-to-even, like nearbyint
  } else if (MODE == 1u) {
    let v = padCoord(u, size);
    let f = floor(v);
    tap(&t, 0u, f, 1.0 - (v - f), size);
    tap(&t, 1u, f + 1.0, v - f, size);
  } else {
    let f = floor(u);
    let r = u - f;
    for (var k = 0u; k < 4u; k++) {
      tap(&t, k, f - 1.0 + f32(k), cubicW(r + 1.0 - f32(k)), size);
    }
  }
  return t;
}

