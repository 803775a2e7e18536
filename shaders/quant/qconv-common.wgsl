// What the two integer convolution kernels share (conv-integer.wgsl, conv-integer-dot4.wgsl):
// ConvInteger / QLinearConv, and MatMulInteger / QLinearMatMul run as a 1x1 convolution whose
// "images" are the rows of A. One invocation per output element; the reduction runs over
// K = Cg * kH * kW taps in the weight's own order, in words of four 8-bit weights: w holds each
// output channel's taps as signed bytes w - w_bias (w_bias 128 for uint8 weights), low byte first,
// KW4 words per channel, the last word padded with zeros. Accumulation is int32 and wraps, as
// ONNX's int32 accumulation does. requant (QLinearConv / QLinearMatMul): y = clamp(round((acc +
// bias) * mult[m]) + y_zp, lo, hi) in f32, round half to even, as onnxruntime's requantization.
// #include common/index.wgsl

struct Params {
  total: u32,
  C: u32,
  H: u32,
  W: u32,
  M: u32,
  OH: u32,
  OW: u32,
  kH: u32,
  kW: u32,
  sh: u32,
  sw: u32,
  dh: u32,
  dw: u32,
  ph: u32,
  pw: u32,
  Cg: u32,
  Mg: u32,
  K: u32,
  KW4: u32,
  // images per batch, x elements and weight words per batch (0: shared by every batch)
  rows: u32,
  xbs: u32,
  wbs: u32,
  // zero points: x per image (1) or per tensor (0); w per output channel (1) or per tensor (0); 2: absent
  xzp_mode: u32,
  wzp_mode: u32,
  w_bias: i32,
  x_bias: i32,
  requant: u32,
  has_bias: u32,
  has_yzp: u32,
  mult_per: u32,
  lo: i32,
  hi: i32,
}

@group(0) @binding(0) var<storage, read> x: array<i32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> xzp: array<i32>;
@group(0) @binding(3) var<storage, read> wzp: array<i32>;
@group(0) @binding(4) var<storage, read> bias: array<i32>;
@group(0) @binding(5) var<storage, read> yzp: array<i32>;
@group(0) @binding(6) var<storage, read> mult: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<i32>;
@group(0) @binding(8) var<uniform> params: Params;

override WG: u32 = 64u;

// One output element: its image n, channel m, position (oh, ow), and where its data starts.
struct Out {
  n: u32,
  m: u32,
  oh: u32,
  ow: u32,
  xbase: u32,
  wbase: u32,
  xz: i32,
  wz: i32,
}

fn outAt(i: u32) -> Out {
  var o: Out;
  o.ow = i % params.OW;
  o.oh = (i / params.OW) % params.OH;
  o.m = (i / (params.OW * params.OH)) % params.M;
  o.n = i / (params.OW * params.OH * params.M);
  let b = o.n / params.rows;
  let g = o.m / params.Mg;
  o.xbase = b * params.xbs + (o.n - b * params.rows) * params.C * params.H * params.W + g * params.Cg * params.H * params.W;
  o.wbase = b * params.wbs + o.m * params.KW4;
  o.xz = 0;
  if (params.xzp_mode == 1u) { o.xz = xzp[o.n - b * params.rows]; } else if (params.xzp_mode == 0u) { o.xz = xzp[0]; }
  // the zero point of the packed bytes (w - w_bias)
  o.wz = -params.w_bias;
  if (params.wzp_mode == 1u) { o.wz += wzp[o.m]; } else if (params.wzp_mode == 0u) { o.wz += wzp[0]; }
  return o;
}

// Tap k of the output's window: x there, or the zero point where the window leaves the image
// (padding) or k is past K (the padded last word): both then add nothing.
fn tap(o: Out, k: u32) -> i32 {
  if (k >= params.K) { return o.xz; }
  let kk = params.kH * params.kW;
  let c = k / kk;
  let r = k - c * kk;
  let ky = r / params.kW;
  let kx = r - ky * params.kW;
  let iy = i32(o.oh * params.sh + ky * params.dh) - i32(params.ph);
  let ix = i32(o.ow * params.sw + kx * params.dw) - i32(params.pw);
  if (iy < 0 || ix < 0 || iy >= i32(params.H) || ix >= i32(params.W)) { return o.xz; }
  return x[o.xbase + (c * params.H + u32(iy)) * params.W + u32(ix)];
}

fn store(i: u32, o: Out, acc: i32) {
  if (params.requant == 0u) {
    y[i] = acc;
    return;
  }
  var a = acc;
  if (params.has_bias != 0u) { a += bias[o.m]; }
  let z = select(0, yzp[0], params.has_yzp != 0u);
  let s = mult[select(0u, o.m, params.mult_per != 0u)];
  let q = round(f32(a) * s) + f32(z);
  y[i] = i32(clamp(q, f32(params.lo), f32(params.hi)));
}
