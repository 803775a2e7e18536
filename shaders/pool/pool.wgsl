// MaxPool / AveragePool over NCHW, one invocation per output element (1-D pools run with H = 1).
// mode: 0 max (+ flat NCHW index of the first max when with_idx; column-major per plane if
// col_major), 1 average over the taps inside the input, 2 average counting the explicit pads
// (taps inside [-pad_begin, in + pad_end), as PyTorch / onnxruntime divide).
// #include common/index.wgsl
// #include pool/taps.wgsl

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
  let th = tapRange(h0, k.x, dp.x, 0, H);
  let tw = tapRange(w0, k.y, dp.y, 0, W);
  if (params.mode == 0u) {
    var best: {{T}};
    var at = -1;
    for (var kh = th.x; kh < th.y; kh++) {
      let ih = h0 + kh * dp.x;
      for (var kw = tw.x; kw < tw.y; kw++) {
        let iw = w0 + kw * dp.y;
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
  for (var kh = th.x; kh < th.y; kh++) {
    let row = plane + u32((h0 + kh * dp.x) * W);
    for (var kw = tw.x; kw < tw.y; kw++) { sum += f32(x[row + u32(w0 + kw * dp.y)]); }
  }
  var count = (th.y - th.x) * (tw.y - tw.x);
  if (params.mode == 2u) {
    let pe = params.pad_end;
    let ph = tapRange(h0, k.x, dp.x, -dp.z, H + pe.x);
    let pw = tapRange(w0, k.y, dp.y, -dp.w, W + pe.y);
    count = (ph.y - ph.x) * (pw.y - pw.x);
  }
  y[i] = {{T}}(sum / f32(count));
}
