// MaxPool / AveragePool over NCHW, PX = 4 horizontally adjacent outputs per invocation (pool.wgsl
// computes one). Windows of neighbouring outputs overlap whenever stride < kernel (3x3 stride 2,
// 3x3 stride 1): each input column of a row is read once and fed to every output whose window
// holds it, so a 3x3 stride-2 row of 4 outputs reads 9 columns instead of 12, 3x3 stride 1 reads
// 6 instead of 12. Needs width dilation 1 (the host checks). Same modes as pool.wgsl: 0 max (+
// first-max index, row-major tap order so ties match), 1 average over taps inside the input, 2
// average counting explicit pads. Tuned on lavapipe; no integer division in the tap loops.
// #include common/index.wgsl
// #include pool/taps.wgsl

struct Params {
  in_shape: vec4<u32>,   // N, C, H, W
  out_shape: vec4<u32>,  // N, C, OH, OW
  kernel: vec4<i32>,     // KH, KW, stride h, stride w
  dil_pad: vec4<i32>,    // dilation h, dilation w (1), pad top, pad left
  pad_end: vec4<i32>,    // pad bottom, pad right, -, -
  n: u32,                // invocations: N * C * OH * OQ
  mode: u32,
  col_major: u32,
  with_idx: u32,
  OQ: u32,               // quads per output row: ceil(OW / PX)
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> idx: array<i32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 64u;
const PX: u32 = 4u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.n) { return; }
  let H = i32(params.in_shape.z);
  let W = i32(params.in_shape.w);
  let OW = i32(params.out_shape.w);
  let ow0 = i32(i % params.OQ * PX);
  let row = i / params.OQ;                           // plane * OH + oh
  let oh = i32(row % params.out_shape.z);
  let plane = (row / params.out_shape.z) * u32(H * W);
  let k = params.kernel;
  let dp = params.dil_pad;
  let h0 = oh * k.z - dp.z;
  let w0 = ow0 * k.w - dp.w;                         // window start of output 0 of the quad
  let nj = min(i32(PX), OW - ow0);                   // live outputs of the quad
  let th = tapRange(h0, k.x, dp.x, 0, H);
  let cLo = max(0, w0);
  let cHi = min(W, w0 + (nj - 1) * k.w + k.y);       // past the last column any window holds
  var best: array<{{T}}, PX>;
  var at = array<i32, PX>(-1, -1, -1, -1);
  var sum = vec4<f32>(0.0);
  for (var kh = th.x; kh < th.y; kh++) {
    let ih = h0 + kh * dp.x;
    let rb = plane + u32(ih * W);
    for (var c = cLo; c < cHi; c++) {
      let v = x[rb + u32(c)];
      for (var j = 0; j < nj; j++) {
        let t = c - w0 - j * k.w;                      // tap of output j at column c
        if (t < 0 || t >= k.y) { continue; }
        if (params.mode == 0u) {
          if (at[j] < 0 || v > best[j]) {
            best[j] = v;
            at[j] = select(ih * W + c, c * H + ih, params.col_major == 1u);
          }
        } else {
          sum[j] += f32(v);
        }
      }
    }
  }
  let ob = row * u32(OW) + u32(ow0);
  for (var j = 0; j < nj; j++) {
    let o = ob + u32(j);
    if (params.mode == 0u) {
      y[o] = best[j];
      if (params.with_idx == 1u) { idx[o] = i32(plane) + at[j]; }
      continue;
    }
    let wj = w0 + j * k.w;
    let tw = tapRange(wj, k.y, 1, 0, W);
    var count = (th.y - th.x) * (tw.y - tw.x);
    if (params.mode == 2u) {
      let pe = params.pad_end;
      let ph = tapRange(h0, k.x, dp.x, -dp.z, H + pe.x);
      let pw = tapRange(wj, k.y, 1, -dp.w, W + pe.y);
      count = (ph.y - ph.x) * (pw.y - pw.x);
    }
    y[o] = {{T}}(sum[j] / f32(count));
  }
}
