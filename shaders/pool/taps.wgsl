// Shared by the windowed pooling kernels (pool.wgsl, pool-row.wgsl).

// Range [first, end) of the taps t (at start + t * dil, t < k) that land inside [lo, hi).
fn tapRange(start: i32, k: i32, dil: i32, lo: i32, hi: i32) -> vec2<i32> {
  let a = lo - start;
  let b = hi - 1 - start;
  let first = max(0, select(a / dil, (a + dil - 1) / dil, a > 0));      // ceil(a / dil)
  let last = select((b - dil + 1) / dil, b / dil, b >= 0);              // floor(b / dil)
  let end = min(k, last + 1);
  return vec2<i32>(first, max(first, end));
}
