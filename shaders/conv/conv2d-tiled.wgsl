// Conv2d as a classic tiled implicit GEMM, shaped for real GPUs (NVIDIA / AMD / Intel / Apple), no
// subgroup operations. Per group g: Y[m, p] = sum_k Wp[k, m] * im2col(X)[k, p], m an output channel
// of the group, p = (n, oh, ow) a flat output pixel (batch included), k = (ci, kh, kw).
// A workgroup of TM x TN invocations owns a tile of BM = 4 TM channels x BN = 4 TN pixels; each
// invocation a 4x4 register block (4 adjacent channels x 4 adjacent pixels). The reduction runs in
// chunks of BK = 16: the weight slice [BK][BM] (vec4 loads of the packed layout of
// pack-weights.wgsl, consecutive across invocations) and the im2col slice [BK][BN] (padding and
// bounds resolved while staging, consecutive pixels across invocations) go to workgroup memory; then
// every invocation does 16 FMAs per k from two vec4 reads (one broadcast weight quad, one pixel
// quad). The next chunk's global loads are issued into registers before the current chunk is
// computed (register prefetch), so their latency hides behind the FMAs. Pointwise layers (PW: 1x1,
// stride 1, no padding, H * W a multiple of 4) stage the input with vec4 loads of 4 adjacent pixels.
// Why these sizes: 16x16 = 256 invocations with 64x64 outputs is the textbook SGEMM shape (8 KiB of
// workgroup memory; 16 FMAs per pair of vec4 workgroup-memory reads, each global value reused 64
// times); TM / TN = 8 give 64x32, 32x64 and 32x32 tiles for narrow layers and small images, where a
// 64x64 tile would leave most of the GPU idle (the rule is in src/kernels/conv-tiled.ts). BK = 16
// keeps 1-2 vec4s of weights and 4-8 input values per invocation per chunk in registers. The
// workgroup arrays are sized for the largest tile (256 quads each). Tuned for no adapter we can run:
// on SwiftShader it beats 'gemm' (about 1.4-2x), on lavapipe it loses to 'gemm' and far more to
// 'gemm-subgroup' (gathers from workgroup memory and barriers across 256 invocations are costly on
// a CPU); bench/conv-variants.ts measures.
// The epilogue (bias, residual Z, activation) is storeQuad of epilogue.wgsl, shared with conv2d.wgsl.
// #include common/activation.wgsl
// #include conv/epilogue.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> wp: array<vec4<{{T}}>>;
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read> z: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(5) var<uniform> params: Params;
@group(0) @binding(6) var<storage, read> x4: array<vec4<{{T}}>>; // x again, as pixel quads (PW)

override TM: u32 = 16u;        // invocations along output channels (8 or 16): BM = 4 TM channels
override TN: u32 = 16u;        // invocations along pixels (8 or 16): BN = 4 TN pixels
override WG: u32 = TM * TN;
// 1x1, stride 1, no padding, H * W a multiple of 4: the im2col slice is X itself, staged as vec4
// loads of 4 adjacent pixels (no tap arithmetic)
override PW: bool = false;
const BK: u32 = 16u;           // reduction chunk
const PA: u32 = 2u;            // most weight quads one invocation stages per chunk: BK * TM / WG = BK / TN
const PB: u32 = 8u;            // most input values one invocation stages per chunk: BK * BN / WG = 4 BK / TM

var<workgroup> As: array<vec4<f32>, 256>; // [BK][TM] weight quads (BK * 16 at most)
var<workgroup> Bs: array<vec4<f32>, 256>; // [BK][TN] pixel quads
var<private> ra: array<vec4<f32>, PA>;
var<private> rb: array<f32, PB>;
var<private> rb4: array<vec4<f32>, PA>;    // PW: pixel quads, BK * TN / WG = BK / TM per invocation

// Global loads of the weight quads of chunk k0 into ra: quad i = li + j * WG is row i / TM, quad
// i % TM of the tile (zero past K or past the group's quads).
fn loadA(k0: u32, li: u32, wk: u32, mq0: u32, K: u32) {
  for (var j = 0u; j < BK / TN; j++) {
    let i = li + j * WG;
    let k = k0 + i / TM;
    let q = mq0 + i % TM;
    let ok = k < K && q < params.Mq;
    ra[j] = select(vec4<f32>(), vec4<f32>(wp[select(0u, (wk + k) * params.Mq + q, ok)]), ok);
  }
}

// Global loads of the im2col values of chunk k0 into rb: this invocation's pixel s at rows
// sr, sr + TM / 4, ... (WG / BN = TM / 4 rows per pass).
fn loadB(k0: u32, s: Slot, sr: u32, K: u32) {
  let kHW = params.kH * params.kW;
  for (var j = 0u; j < 4u * BK / TM; j++) {
    let k = k0 + sr + j * (TM / 4u);
    let ci = k / kHW;
    let t = k % kHW;
    let ih = s.ih0 + i32(t / params.kW * params.dh);
    let iw = s.iw0 + i32(t % params.kW * params.dw);
    let ok = s.ok && k < K && ih >= 0 && ih < i32(params.H) && iw >= 0 && iw < i32(params.W);
    let xi = s.base + (ci * params.H + u32(ih)) * params.W + u32(iw);
    rb[j] = select(0.0, f32(x[select(0u, xi, ok)]), ok);
  }
}

// PW: global loads of the pixel quads of chunk k0 into rb4: quad i = li + j * WG is row i / TN,
// pixels 4 (i % TN) .. of the tile (all in one image, as H * W is a multiple of 4).
fn loadB4(k0: u32, li: u32, p0: u32, g: u32, K: u32) {
  let HW = params.H * params.W;
  for (var j = 0u; j < BK / TM; j++) {
    let i = li + j * WG;
    let k = k0 + i / TN;
    let p = p0 + i % TN * 4u;
    let ok = k < K && p < params.P;
    let xi = ((p / HW * params.C + g * params.Cg + k) * HW + p % HW) / 4u;
    rb4[j] = select(vec4<f32>(), vec4<f32>(x4[select(0u, xi, ok)]), ok);
  }
}

// Global loads of chunk k0 (weights and input) into registers.
fn load(k0: u32, li: u32, wk: u32, mq0: u32, K: u32, s: Slot, sr: u32, p0: u32, g: u32) {
  loadA(k0, li, wk, mq0, K);
  if (PW) {
    loadB4(k0, li, p0, g, K);
  } else {
    loadB(k0, s, sr, K);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let BN = 4u * TN;
  let pt = wid.x + wid.y * nwg.x;              // pixel tile (grid folded by linearGrid)
  if (pt * BN >= params.P) { return; }
  let g = wid.z / params.mtiles;
  let mq0 = (wid.z % params.mtiles) * TM;      // the tile's first channel quad within the group
  let p0 = pt * BN;
  let K = params.Cg * params.kH * params.kW;
  let wk = g * K;

  // staging role: pixel column sp, rows sr + j * TM / 4
  let sp = li % BN;
  let sr = li / BN;
  let s = stagingSlot(p0, sp, g);
  // compute role: channel quad ty, pixel quad tx
  let tx = li % TN;
  let ty = li / TN;

  var acc: array<vec4<f32>, 4>;                // acc[j]: the 4 channels at pixel 4 tx + j
  load(0u, li, wk, mq0, K, s, sr, p0, g);
  for (var k0 = 0u; k0 < K; k0 += BK) {
    workgroupBarrier();
    for (var j = 0u; j < BK / TN; j++) {
      As[li + j * WG] = ra[j];
    }
    if (PW) {
      for (var j = 0u; j < BK / TM; j++) {
        Bs[li + j * WG] = rb4[j];
      }
    } else {
      for (var j = 0u; j < 4u * BK / TM; j++) {
        Bs[(sr + j * (TM / 4u)) * TN + sp / 4u][sp % 4u] = rb[j];
      }
    }
    workgroupBarrier();
    if (k0 + BK < K) {
      load(k0 + BK, li, wk, mq0, K, s, sr, p0, g);
    }
    for (var kk = 0u; kk < BK; kk++) {
      let a = As[kk * TM + ty];
      let b = Bs[kk * TN + tx];
      acc[0] = fma(a, vec4<f32>(b.x), acc[0]);
      acc[1] = fma(a, vec4<f32>(b.y), acc[1]);
      acc[2] = fma(a, vec4<f32>(b.z), acc[2]);
      acc[3] = fma(a, vec4<f32>(b.w), acc[3]);
    }
  }
  for (var j = 0u; j < 4u; j++) {
    storeQuad(p0 + tx * 4u + j, g, mq0 + ty, acc[j]);
  }
}
