enable subgroups;
// Conv2d implicit GEMM, subgroup variant of conv2d.wgsl (same uniforms, bindings and packed
// weights). A workgroup owns TP = 16 output pixels and WG * 4 output channels; its im2col tile
// [ck * kHW][16] is staged in workgroup memory exactly as in conv2d.wgsl. In the k loop each
// invocation reads ONE tile value (lanes 0..7: pixels 0..7, then 8..15) and the 16 pixel values
// are handed to every lane with subgroupBroadcast, so a k step costs 4 weight + 2 tile reads for
// 64 FMAs. (On CPU Vulkan every in-loop load is a per-lane scalar load; broadcasts are shuffles.)
// Needs a subgroup size >= 8.
// #include common/activation.wgsl
// #include conv/epilogue.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> wp: array<vec4<{{T}}>>;
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read> z: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 16u;     // invocations per workgroup (multiple of 16), each owning 4 output channels
override XS: u32 = 4096u;   // workgroup tile elements (>= ck * kH * kW * TP)
const TP: u32 = 16u;        // output pixels per workgroup (and per invocation's register block)

var<workgroup> xs: array<{{T}}, XS>;
fn stage(t: u32, v: {{T}}) { xs[t] = v; }

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p0 = (wid.x + wid.y * nwg.x) * TP;
  if (p0 >= params.P) { return; }
  let kHW = params.kH * params.kW;
  let g = wid.z / params.mtiles;
  let mq = (wid.z % params.mtiles) * WG + li;
  let mqc = min(mq, params.Mq - 1u);
  let s = stagingSlot(p0, li % TP, g);

  var acc: array<vec4<f32>, TP>;
  let lane = sid & 7u;
  for (var c0 = 0u; c0 < params.Cg; c0 += params.ck) {
    let ck = min(params.ck, params.Cg - c0);
    workgroupBarrier();
    for (var cl = li / TP; cl < ck; cl += WG / TP) {
      stageChannel(s, c0 + cl, cl * kHW * TP + li % TP, TP);
    }
    workgroupBarrier();
    var wi = (g * params.Cg + c0) * kHW * params.Mq + mqc;
    var xi = lane;
    for (var k = 0u; k < ck * kHW; k++) {
      let w = vec4<f32>(wp[wi]);
      let a = f32(xs[xi]);
      let b = f32(xs[xi + 8u]);
      acc[0] = fma(w, vec4(subgroupBroadcast(a, 0u)), acc[0]);
      acc[1] = fma(w, vec4(subgroupBroadcast(a, 1u)), acc[1]);
      acc[2] = fma(w, vec4(subgroupBroadcast(a, 2u)), acc[2]);
      acc[3] = fma(w, vec4(subgroupBroadcast(a, 3u)), acc[3]);
      acc[4] = fma(w, vec4(subgroupBroadcast(a, 4u)), acc[4]);
      acc[5] = fma(w, vec4(subgroupBroadcast(a, 5u)), acc[5]);
      acc[6] = fma(w, vec4(subgroupBroadcast(a, 6u)), acc[6]);
      acc[7] = fma(w, vec4(subgroupBroadcast(a, 7u)), acc[7]);
      acc[8] = fma(w, vec4(subgroupBroadcast(b, 0u)), acc[8]);
      acc[9] = fma(w, vec4(subgroupBroadcast(b, 1u)), acc[9]);
      acc[10] = fma(w, vec4(subgroupBroadcast(b, 2u)), acc[10]);
      acc[11] = fma(w, vec4(subgroupBroadcast(b, 3u)), acc[11]);
      acc[12] = fma(w, vec4(subgroupBroadcast(b, 4u)), acc[12]);
      acc[13] = fma(w, vec4(subgroupBroadcast(b, 5u)), acc[13]);
      acc[14] = fma(w, vec4(subgroupBroadcast(b, 6u)), acc[14]);
      acc[15] = fma(w, vec4(subgroupBroadcast(b, 7u)), acc[15]);
      wi += params.Mq;
      xi += TP;
    }
  }
  for (var j = 0u; j < TP; j++) {
    storeQuad(p0 + j, g, mq, acc[j]);
  }
}
