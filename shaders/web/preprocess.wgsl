// Video frame -> model input, two entry points:
//   to_frame: the camera's external texture (importExternalTexture: YUV->RGB done by the sampler
//             hardware path, no CPU copy) -> an rgba8unorm frame texture the compositor reads later;
//   main:     bilinear resize of the frame texture to out_w x out_h, RGB in [0,1] times `scale` plus
//             `bias` (per channel), written NHWC (nchw = 0) or NCHW (nchw = 1) as f32.
// The whole frame is stretched to the model's size (no crop).

struct Params {
  out_w: u32,
  out_h: u32,
  nchw: u32,
  mirror: u32,
  scale: vec4f,
  bias: vec4f,
}

@group(0) @binding(0) var frame: texture_2d<f32>;
@group(0) @binding(1) var smp: sampler;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var camera: texture_external;
@group(0) @binding(5) var frame_out: texture_storage_2d<rgba8unorm, write>;

@compute @workgroup_size(8, 8)
fn to_frame(@builtin(global_invocation_id) gid: vec3<u32>) {
  let size = textureDimensions(frame_out);
  if (gid.x >= size.x || gid.y >= size.y) { return; }
  textureStore(frame_out, gid.xy, vec4f(textureLoad(camera, gid.xy).rgb, 1.0));
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.out_w || gid.y >= params.out_h) { return; }
  var uv = (vec2f(gid.xy) + 0.5) / vec2f(f32(params.out_w), f32(params.out_h));
  if (params.mirror == 1u) { uv.x = 1.0 - uv.x; }
  let c = textureSampleLevel(frame, smp, uv, 0.0).rgb * params.scale.rgb + params.bias.rgb;
  let i = gid.y * params.out_w + gid.x;
  if (params.nchw == 1u) {
    let plane = params.out_w * params.out_h;
    dst[i] = c.r;
    dst[plane + i] = c.g;
    dst[2u * plane + i] = c.b;
  } else {
    dst[3u * i] = c.r;
    dst[3u * i + 1u] = c.g;
    dst[3u * i + 2u] = c.b;
  }
}
