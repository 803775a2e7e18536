// Flat invocation index for 1-D kernels dispatched with linearGrid() (src/kernels/dispatch.ts).
fn flatIndex(gid: vec3<u32>, nwg: vec3<u32>, wg: u32) -> u32 {
  return gid.x + gid.y * nwg.x * wg;
}
