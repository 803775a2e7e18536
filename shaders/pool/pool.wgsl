// MaxPool / AveragePool over NCHW (NCDHW), one invocation per output element (1-D pools run with
// H = 1, 2-D with D = 1).
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
  depth: vec4<i32>,      // D, OD, KD, stride d
  depth2: vec4<i32>,     // dilation d, pad front, pad back, -
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
  let D = params.depth.x;
  let ow = i32(i % params.out_shape.w);
  let oh = i32((i / params.out_shape.w) % params.out_shape.z);
  let rows = i / (params.out_shape.w * params.out_shape.z);
  let od = i32(rows % u32(params.depth.y));
  let plane = (rows / u32(params.depth.y)) * u32(D * H * W);
  let k = params.kernel;
  let dp = params.dil_pad;
  let dz = params.depth2;
  let d0 = od * params.depth.w - dz.y;
  let h0 = oh * k.z - dp.z;
  let w0 = ow * k.w - dp.w;
  let td = tapRange(d0, params.depth.z, dz.x, 0, D);
  let th = tapRange(h0, k.x, dp.x, 0, H);
  let tw = tapRange(w0, k.y, dp.y, 0, W);
  if (params.mode == 0u) {
    var best: {{T}};
    var at = -1;
    for (var kd = td.x; kd < td.y; kd++) {
      let id = d0 + kd * dz.x;
      for (var kh = th.x; kh < th.y; kh++) {
        let ih = h0 + kh * dp.x;
        for (var kw = tw.x; kw < tw.y; kw++) {
          let iw = w0 + kw * dp.y;
          let v = x[plane + u32((id * H + ih) * W + iw)];
          if (at < 0 || v > best) {
            best = v;
            at = select((id * H + ih) * W + iw, (iw * H + ih) * D + id, params.col_major == 1u);
          }
        }
      }
    }
    y[i] = best;
    if (params.with_idx == 1u) { idx[i] = i32(plane) + at; }
    return;
  }
  var sum = 0.0;
  for (var kd = td.x; kd < td.y; kd++) {
    let id = d0 + kd * dz.x;
    for (var kh = th.x; kh < th.y; kh++) {
      let row = plane + u32(((id * H) + h0 + kh * dp.x) * W);
      for (var kw = tw.x; kw < tw.y; kw++) { sum += f32(x[row + u32(w0 + kw * dp.y)]); }
    }
  }
  var count = (td.y - td.x) * (th.y - th.x) * (tw.y - tw.x);
  if (params.mode == 2u) {
    let pe = params.pad_end;
    let pd = tapRange(d0, params.depth.z, dz.x, -dz.y, D + dz.z);
    let ph = tapRange(h0, k.x, dp.x, -dp.z, H + pe.x);
    let pw = tapRange(w0, k.y, dp.y, -dp.w, W + pe.y);
    count = (pd.y - pd.x) * (ph.y - ph.x) * (pw.y - pw.x);
  }
  y[i] = {{T}}(sum / f32(count));
}
