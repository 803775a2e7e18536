// MaxPool / AveragePool over NCHW, one invocation per output element (1-D pools run with H = 1).
// mode: 0 max (+ flat NCHW index of the first max when with_idx; column-major per plane if
// col_major), 1 average over the taps inside the input, 2 average counting the explicit pads
// (taps inside [-pad_begin, in + pad_end), as PyTorch / onnxruntime divide).
// #include common/index.wgsl

struct Params {
  in_shape: vec4<u32>,   // N, C, H, W
  out_shape: vec4<u32>,  // N, C, OH, OW
  kernel: vec4<i32>,     // KH, KW, stride h, stride w
  dil_pad: vec4<i32>,    // dilation h, dilation w, pad top, pad left
  pad_end: vec4<i32>,    // pad bottom, pad right, -, -
  n: u32,
  mode: u32,
  col_major: u32,
  with_idx: u32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> idx: array<i32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 64u;

// taps of one window axis inside [lo, hi)
fn tapsIn(start: i32, k: i32, dil: i32, lo: i32, hi: i32) -> i32 {
  var c = 0;
  for (var t = 0; t < k; t++) {
    let p = start + t * dil;
    c += select(0, 1, p >= lo && p < hi);
  }
  return c;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let H = i32(params.in_shape.z);
  let W = i32(params.in_shape.w);
  let ow = i32(i % params.out_shape.w);
  let oh = i32((i / params.out_shape.w) % params.out_shape.z);
  let plane = (i / (params.out_shape.w * params.out_shape.z)) * u32(H * W);
  let k = params.kernel;
  let dp = params.dil_pad;
  let h0 = oh * k.z - dp.z;
  let w0 = ow * k.w - dp.w;
  if (params.mode == 0u) {
    var best: {{T}};
    var at = -1;
    for (var kh = 0; kh < k.x; kh++) {
      let ih = h0 + kh * dp.x;
      if (ih < 0 || ih >= H) { continue; }
      for (var kw = 0; kw < k.y; kw++) {
        let iw = w0 + kw * dp.y;
        if (iw < 0 || iw >= W) { continue; }
        let v = x[plane + u32(ih * W + iw)];
        if (at < 0 || v > best) {
          best = v;
          at = select(ih * W + iw, iw * H + ih, params.col_major == 1u);
        }
      }
    }
    y[i] = best;
    if (params.with_idx == 1u) { idx[i] = i32(plane) + at; }
    return;
  }
  var sum = 0.0;
  for (var kh = 0; kh < k.x; kh++) {
    let ih = h0 + kh * dp.x;
    if (ih < 0 || ih >= H) { continue; }
    for (var kw = 0; kw < k.y; kw++) {
      let iw = w0 + kw * dp.y;
      if (iw < 0 || iw >= W) { continue; }
      sum += f32(x[plane + u32(ih * W + iw)]);
    }
  }
  let pe = params.pad_end;
  let inside = tapsIn(h0, k.x, dp.x, 0, H) * tapsIn(w0, k.y, dp.y, 0, W);
  let padded = tapsIn(h0, k.x, dp.x, -dp.z, H + pe.x) * tapsIn(w0, k.y, dp.y, -dp.w, W + pe.y);
  y[i] = {{T}}(sum / f32(select(inside, padded, params.mode == 2u)));
}
