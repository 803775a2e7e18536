// Frame + person mask -> canvas. A full-screen triangle; the fragment shader samples the video frame
// texture and the model's mask (a [mask_h, mask_w] f32 buffer, bilinear by hand, softened by
// smoothstep(lo, hi)) and composes one of the modes:
//   0 mask overlay (tint over the person), 1 background blur, 2 background replace (bg_kind 0: a
//   gradient, 1: the colour bg_color, 2: the texture `background` at uv * bg_uv.xy + bg_uv.zw, so
//   the caller can cover-fit an image), 3 cut-out (the person over a checkerboard; with
//   transparent = 1 the frame as is with alpha = the softened mask, for an image file).

struct Params {
  mask_w: u32,
  mask_h: u32,
  mode: u32,
  mirror: u32,
  texel: vec2f,   // 1 / frame size
  lo: f32,
  hi: f32,
  tint: vec4f,
  bg_uv: vec4f,
  bg_color: vec4f,
  bg_kind: u32,
  transparent: u32,
}

@group(0) @binding(0) var frame: texture_2d<f32>;
@group(0) @binding(1) var smp: sampler;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var background: texture_2d<f32>;

struct VsOut {
  @builtin(position) pos: vec4f,
  @location(0) uv: vec2f,
}

@vertex
fn vs(@builtin(vertex_index) i: u32) -> VsOut {
  let xy = vec2f(f32((i << 1u) & 2u), f32(i & 2u)) * 2.0 - 1.0;
  var o: VsOut;
  o.pos = vec4f(xy, 0.0, 1.0);
  o.uv = vec2f(xy.x * 0.5 + 0.5, 0.5 - xy.y * 0.5);
  return o;
}

fn maskAt(x: i32, y: i32) -> f32 {
  let cx = u32(clamp(x, 0, i32(params.mask_w) - 1));
  let cy = u32(clamp(y, 0, i32(params.mask_h) - 1));
  return mask[cy * params.mask_w + cx];
}

// the mask at uv (0..1 over the model input, which saw the whole frame), bilinear
fn maskBilinear(uv: vec2f) -> f32 {
  let p = uv * vec2f(f32(params.mask_w), f32(params.mask_h)) - 0.5;
  let f = floor(p);
  let t = p - f;
  let x = i32(f.x);
  let y = i32(f.y);
  let top = mix(maskAt(x, y), maskAt(x + 1, y), t.x);
  let bottom = mix(maskAt(x, y + 1), maskAt(x + 1, y + 1), t.x);
  return mix(top, bottom, t.y);
}

// a disc blur: 48 taps on a golden-angle spiral, radius 3% of the frame width (no grid pattern)
fn blurred(uv: vec2f) -> vec3f {
  var acc = vec3f(0.0);
  let radius = 0.03 * vec2f(1.0, params.texel.y / params.texel.x);
  for (var i = 0; i < 48; i++) {
    let r = sqrt((f32(i) + 0.5) / 48.0);
    let a = f32(i) * 2.39996323;
    acc += textureSampleLevel(frame, smp, uv + vec2f(cos(a), sin(a)) * r * radius, 0.0).rgb;
  }
  return acc / 48.0;
}

@fragment
fn fs(in: VsOut) -> @location(0) vec4f {
  var uv = in.uv;
  if (params.mirror == 1u) { uv.x = 1.0 - uv.x; }
  let rgb = textureSampleLevel(frame, smp, uv, 0.0).rgb;
  // the mask was computed on the (possibly mirrored) model input: look it up at the display position
  let m = smoothstep(params.lo, params.hi, maskBilinear(in.uv));
  var out = rgb;
  switch params.mode {
    case 0u: { out = mix(rgb, params.tint.rgb, m * params.tint.a); }
    case 1u: { out = mix(blurred(uv), rgb, m); }
    case 2u: {
      var bg = mix(vec3f(0.15, 0.35, 0.6), vec3f(0.9, 0.6, 0.4), in.uv.y);
      if (params.bg_kind == 1u) { bg = params.bg_color.rgb; }
      if (params.bg_kind == 2u) { bg = textureSampleLevel(background, smp, in.uv * params.bg_uv.xy + params.bg_uv.zw, 0.0).rgb; }
      out = mix(bg, rgb, m);
    }
    default: {
      if (params.transparent == 1u) { return vec4f(rgb, m); }
      let checker = select(0.55, 0.8, ((u32(in.pos.x) / 16u) + (u32(in.pos.y) / 16u)) % 2u == 0u);
      out = mix(vec3f(checker), rgb, m);
    }
  }
  return vec4f(out, 1.0);
}
