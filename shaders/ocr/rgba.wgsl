// RGBA8 images held in a storage buffer, one u32 per pixel (R in the low byte, as
// unpack4x8unorm reads it), rows `pitch` pixels apart. Coordinates are continuous: pixel (i, j)
// covers [i, i+1] x [j, j+1], so its centre is (i + 0.5, j + 0.5). Reads outside the image repeat
// the edge pixel (OpenCV's BORDER_REPLICATE). The including shader declares `src`.

fn rgbaAt(x: i32, y: i32, size: vec2<i32>, pitch: u32) -> vec4f {
  let c = clamp(vec2<i32>(x, y), vec2<i32>(0), size - 1);
  return unpack4x8unorm(src[u32(c.y) * pitch + u32(c.x)]);
}

// Bilinear sample at continuous point p.
fn rgbaBilinear(p: vec2f, size: vec2<i32>, pitch: u32) -> vec4f {
  let t = p - 0.5;
  let f0 = floor(t);
  let f = t - f0;
  let i = vec2<i32>(f0);
  let a = mix(rgbaAt(i.x, i.y, size, pitch), rgbaAt(i.x + 1, i.y, size, pitch), f.x);
  let b = mix(rgbaAt(i.x, i.y + 1, size, pitch), rgbaAt(i.x + 1, i.y + 1, size, pitch), f.x);
  return mix(a, b, f.y);
}
