enable subgroups;
// Conv2d implicit GEMM, subgroup variant (same uniforms and epilogue as conv2d.wgsl; weights packed
// by pack-weights.wgsl as vec4 quads of output channels, Mq a multiple of MB / 4).
// What: each invocation owns 4 ADJACENT output pixels of one row (ow0 .. ow0 + 3) and MB = 32 (or
// 16) output channels: 8 (or 4) mat4x4 accumulators, column i = channel 4q + i, row j = pixel j.
// Per tap (ci, kh, kw) lane l loads one vec4 of packed weights (channel quad q0 + l) and
// subgroupBroadcast hands each quad to every lane; the 4 input values of a tap are a vec4.
// With stride 1 and dilation 1 along W (UNIT) the taps of a row share a sliding window: kW + 3
// input loads per (ci, kh) instead of 4 * kW. KH / KW fix the kernel size at pipeline creation
// (0: from the uniforms) so the tap loops unroll.
// Why, on CPU Vulkan (lavapipe): every per-lane buffer load becomes 8 branchy scalar loads (a vec4
// load shares the per-lane work), while FMAs and broadcasts are cheap; the accumulators live in
// memory and every loop level writes them back under the execution mask once per iteration, so
// loop iterations, not loads, now decide the speed (with every load taken out the 3x3 kernel ran
// only ~6% faster). 3x3 with KH = KW = 3 (one iteration per input channel) ran in ~0.63 of the
// time of the former kernel (4 strided pixels x 32 channels, scalar weight loads, 8 loads per
// tap) and in ~0.7 of the same code with the loops sized from the uniforms; 1x1 with KH = KW = 1
// in ~0.4. Tried and slower: MB = 16 (x1.26), accumulator-major order inside the 3x3 window
// (x1.24), one flat (ci, kh, kw) loop for other sizes (x1.15-1.27 for 5x5 / 7x7); two input
// channels per iteration gained nothing. Needs subgroups >= 8.
// #include common/activation.wgsl
// #include conv/epilogue.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> wp: array<vec4<{{T}}>>;
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read> z: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 16u;     // invocations (pixel quads) per workgroup
override MB: u32 = 32u;     // output channels per invocation: 32, or 16 for narrow layers
override UNIT: bool = false; // stride 1 and dilation 1 along W
override KH: u32 = 0u;      // kernel height when fixed per pipeline, 0: params.kH
override KW: u32 = 0u;      // kernel width when fixed per pipeline, 0: params.kW
// The fused activation, bias and residual flags are pipeline constants: with them in uniforms the
// epilogue carried every activation (slow for LLVM to compile).
override ACT: u32 = 0u;
override HAS_BIAS: bool = false;
override HAS_Z: bool = false;

var<private> a0: mat4x4<f32>;
var<private> a1: mat4x4<f32>;
var<private> a2: mat4x4<f32>;
var<private> a3: mat4x4<f32>;
var<private> a4: mat4x4<f32>;
var<private> a5: mat4x4<f32>;
var<private> a6: mat4x4<f32>;
var<private> a7: mat4x4<f32>;

// Input at column iw of the row starting at rb (zero in the padding).
fn xat(rb: u32, iw: i32, rowok: bool) -> f32 {
  let ok = rowok && iw >= 0 && iw < i32(params.W);
  return select(0.0, f32(x[select(0u, rb + u32(iw), ok)]), ok);
}

// a + outer(xv, w): 4 pixels times 4 channels.
fn outer(a: mat4x4<f32>, xv: vec4<f32>, w: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(fma(xv, vec4<f32>(w.x), a[0]), fma(xv, vec4<f32>(w.y), a[1]),
                     fma(xv, vec4<f32>(w.z), a[2]), fma(xv, vec4<f32>(w.w), a[3]));
}

// One tap: pixel values xv times the MB weights whose quads lanes 0..MB/4-1 load at wi.
fn tap(xv: vec4<f32>, wi: u32) {
  let wv = vec4<f32>(wp[wi]);
  a0 = outer(a0, xv, subgroupBroadcast(wv, 0u));
  a1 = outer(a1, xv, subgroupBroadcast(wv, 1u));
  a2 = outer(a2, xv, subgroupBroadcast(wv, 2u));
  a3 = outer(a3, xv, subgroupBroadcast(wv, 3u));
  if (MB > 16u) {
    a4 = outer(a4, xv, subgroupBroadcast(wv, 4u));
    a5 = outer(a5, xv, subgroupBroadcast(wv, 5u));
    a6 = outer(a6, xv, subgroupBroadcast(wv, 6u));
    a7 = outer(a7, xv, subgroupBroadcast(wv, 7u));
  }
}

// Stores channels 4q..4q+3 (of the group; column i of a) at pixels ow0.. of the row at ob.
fn storeQuadRow(ob: u32, ow0: u32, mb: u32, q: u32, a: mat4x4<f32>) {
  let OHW = params.OH * params.OW;
  for (var i = 0u; i < 4u; i++) {
    let m = q * 4u + i;
    if (m >= params.Mg) { return; }
    var bv = 0.0;
    if (HAS_BIAS) { bv = f32(bias[mb + m]); }
    for (var j = 0u; j < 4u; j++) {
      if (ow0 + j < params.OW) {
        let o = ob + m * OHW + j;
        var r = a[i][j] + bv;
        if (HAS_Z) { r += f32(z[o]); }
        y[o] = {{T}}(activate(r, ACT, params.act_a, params.act_b));
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let QW = (params.OW + 3u) / 4u;            // pixel quads per output row
  let OHW = params.OH * params.OW;
  let HW = params.H * params.W;
  let Q = params.P / OHW * params.OH * QW;   // pixel quads in all
  let qi = (wid.x + wid.y * nwg.x) * WG + li;
  let qc = min(qi, Q - 1u);                  // lanes past the end compute a copy, store nothing
  let n = qc / (params.OH * QW);
  let oh = qc % (params.OH * QW) / QW;
  let ow0 = qc % QW * 4u;
  let ih0 = i32(oh * params.sh) - params.pt;
  let iw0 = i32(ow0 * params.sw) - params.pl;
  let g = wid.z / params.mtiles;
  let q0 = (wid.z % params.mtiles) * (MB / 4u); // first channel quad of this tile
  let xb = (n * params.C + g * params.Cg) * HW;
  let kh_n = select(params.kH, KH, KH > 0u);
  let kw_n = select(params.kW, KW, KW > 0u);
  var wi = g * params.Cg * kh_n * kw_n * params.Mq + q0 + (sid & (MB / 4u - 1u));
  let sw = i32(params.sw);
  for (var ci = 0u; ci < params.Cg; ci++) {
    for (var kh = 0u; kh < kh_n; kh++) {
      let ih = ih0 + i32(kh * params.dh);
      let rowok = ih >= 0 && ih < i32(params.H);
      let rb = xb + ci * HW + select(0u, u32(ih), rowok) * params.W;
      if (UNIT) {
        var xv = vec4<f32>(xat(rb, iw0, rowok), xat(rb, iw0 + 1, rowok), xat(rb, iw0 + 2, rowok), xat(rb, iw0 + 3, rowok));
        tap(xv, wi);
        wi += params.Mq;
        for (var kw = 1u; kw < kw_n; kw++) {
          xv = vec4<f32>(xv.yzw, xat(rb, iw0 + i32(kw) + 3, rowok));
          tap(xv, wi);
          wi += params.Mq;
        }
      } else {
        for (var kw = 0u; kw < kw_n; kw++) {
          let iw = iw0 + i32(kw * params.dw);
          tap(vec4<f32>(xat(rb, iw, rowok), xat(rb, iw + sw, rowok), xat(rb, iw + 2 * sw, rowok), xat(rb, iw + 3 * sw, rowok)), wi);
          wi += params.Mq;
        }
      }
    }
  }
  if (qi >= Q) { return; }
  let mb = g * params.Mg;
  let ob = (n * params.M + mb) * OHW + oh * params.OW + ow0;
  // one epilogue in a loop, the accumulator picked by a switch: 8 inlined copies took LLVM on
  // lavapipe 2.4 s to compile for a 3x3 layer (this: 0.6-0.8 s, same speed); indexing an array of
  // accumulators instead compiled as fast but moved them to memory (x1.3 slower)
  for (var q = 0u; q < MB / 4u; q++) {
    var a = a0;
    switch q {
      case 1u: { a = a1; }
      case 2u: { a = a2; }
      case 3u: { a = a3; }
      case 4u: { a = a4; }
      case 5u: { a = a5; }
      case 6u: { a = a6; }
      case 7u: { a = a7; }
      default: {}
    }
    storeQuadRow(ob, ow0, mb, q0 + q, a);
  }
}
