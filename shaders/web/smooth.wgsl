// Temporal smoothing of the person mask: state = mix(state, mask, alpha), per pixel, in place.
// alpha = 1 copies the mask (first frame, new model); smaller alpha damps flicker.

struct Params {
  n: u32,
  alpha: f32,
}

@group(0) @binding(0) var<storage, read> mask: array<f32>;
@group(0) @binding(1) var<storage, read_write> state: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= params.n) { return; }
  state[i] = mix(state[i], mask[i], params.alpha);
}
