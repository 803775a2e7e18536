// Conv2d as an implicit GEMM: Y[m, p] = sum_k Wp[k, m] * im2col(X)[k, p], k = (ci, kh, kw),
// p = (n, oh, ow). A workgroup owns RP output pixels and WG * 4 output channels of one group.
// For each chunk of `ck` input channels it stages the im2col tile [ck * kHW][RP] in workgroup
// memory (padding and bounds resolved there, once), then each invocation accumulates a register
// block of 4 output channels (one vec4 of the packed weights, see pack-weights.wgsl) x RP pixels.
// Tile reads are the same address for the whole workgroup (broadcast); weight reads are
// consecutive vec4s across invocations (coalesced). conv2d-subgroup.wgsl is the faster variant
// where subgroups are available.
// #include common/activation.wgsl
// #include conv/epilogue.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> wp: array<vec4<{{T}}>>;
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read> z: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 16u;     // invocations per workgroup (multiple of RP), each owning 4 output channels
override XS: u32 = 2048u;   // workgroup tile elements (>= ck * kH * kW * RP)
const RP: u32 = 4u;         // output pixels per workgroup and per invocation

var<workgroup> xs: array<{{T}}, XS>;

// Writes the kH * kW taps of input channel c for one pixel to xs[t], xs[t + stride], ...
fn stageChannel(s: Slot, c: u32, t0: u32, stride: u32) {
  let cb = s.base + c * params.H * params.W;
  var t = t0;
  for (var kh = 0u; kh < params.kH; kh++) {
    let ih = s.ih0 + i32(kh * params.dh);
    let rowok = s.ok && ih >= 0 && ih < i32(params.H);
    let rb = cb + u32(ih) * params.W;
    for (var kw = 0u; kw < params.kW; kw++) {
      let iw = s.iw0 + i32(kw * params.dw);
      let ok = rowok && iw >= 0 && iw < i32(params.W);
      xs[t] = select({{T}}(0), x[select(0u, rb + u32(iw), ok)], ok);
      t += stride;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p0 = (wid.x + wid.y * nwg.x) * RP;
  if (p0 >= params.P) { return; }
  let kHW = params.kH * params.kW;
  let g = wid.z / params.mtiles;
  let mq = (wid.z % params.mtiles) * WG + li;
  let mqc = min(mq, params.Mq - 1u);
  let s = stagingSlot(p0, li % RP, g);

  var acc: array<vec4<f32>, RP>;
  for (var c0 = 0u; c0 < params.Cg; c0 += params.ck) {
    let ck = min(params.ck, params.Cg - c0);
    workgroupBarrier();
    for (var cl = li / RP; cl < ck; cl += WG / RP) {
      stageChannel(s, c0 + cl, cl * kHW * RP + li % RP, RP);
    }
    workgroupBarrier();
    var wi = (g * params.Cg + c0) * kHW * params.Mq + mqc;
    for (var k = 0u; k < ck * kHW; k++) {
      let w = vec4<f32>(wp[wi]);
      for (var j = 0u; j < RP; j++) {
        acc[j] = fma(w, vec4<f32>(f32(xs[k * RP + j])), acc[j]);
      }
      wi += params.Mq;
    }
  }
  for (var j = 0u; j < RP; j++) {
    storeQuad(p0 + j, g, mq, acc[j]);
  }
}
