enable subgroups;
// Conv2d implicit GEMM, subgroup variant (same uniforms and epilogue as conv2d.wgsl; weights packed
// by pack-weights.wgsl with Mq a multiple of 4). Lane = output pixel: each invocation owns 2 output
// pixels (p and p + WG) and 16 output channels, 32 accumulators in registers. Per k = (ci, kh, kw)
// a lane loads its 2 input values and 2 of the 16 weights (lane l: channels l and l + 8); the 16
// weights reach every lane through subgroupBroadcast. On CPU Vulkan (lavapipe) each per-lane load is
// 8 scalar loads, so this spends 4 loads per 32 vector FMAs. Needs a subgroup size >= 8.
// #include common/activation.wgsl
// #include conv/epilogue.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> wp: array<{{T}}>;   // packed vec4 quads, read as scalars
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read> z: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 16u;     // invocations per workgroup; a workgroup owns 2 * WG pixels

// Input value of pixel slot s at tap (kh, kw) of channel plane cb (zero in the padding).
fn tap(s: Slot, cb: u32, kh: u32, kw: u32) -> f32 {
  let ih = s.ih0 + i32(kh * params.dh);
  let iw = s.iw0 + i32(kw * params.dw);
  let ok = ih >= 0 && ih < i32(params.H) && iw >= 0 && iw < i32(params.W);
  return select(0.0, f32(x[select(0u, cb + u32(ih) * params.W + u32(iw), ok)]), ok);
}

fn lo4(v: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}
fn hi4(v: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u));
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p0 = (wid.x + wid.y * nwg.x) * 2u * WG;
  let g = wid.z / params.mtiles;
  let q0 = (wid.z % params.mtiles) * 4u;       // first of the 4 channel quads
  let sa = stagingSlot(p0, li, g);
  let sb = stagingSlot(p0, li + WG, g);
  let HW = params.H * params.W;
  let lane = sid & 7u;
  // lane l reads channels 4 * q0 + l and 4 * q0 + l + 8 (scalar index into the packed quads)
  var wi = (g * params.Cg * params.kH * params.kW * params.Mq + q0) * 4u + lane;
  let wstep = params.Mq * 4u;
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var b0 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
  for (var ci = 0u; ci < params.Cg; ci++) {
    let cba = sa.base + ci * HW;
    let cbb = sb.base + ci * HW;
    for (var kh = 0u; kh < params.kH; kh++) {
      for (var kw = 0u; kw < params.kW; kw++) {
        let xa = vec4<f32>(tap(sa, cba, kh, kw));
        let xb = vec4<f32>(tap(sb, cbb, kh, kw));
        let wl = f32(wp[wi]);
        let wh = f32(wp[wi + 8u]);
        let w0 = lo4(wl);
        let w1 = hi4(wl);
        let w2 = lo4(wh);
        let w3 = hi4(wh);
        a0 = fma(xa, w0, a0); a1 = fma(xa, w1, a1); a2 = fma(xa, w2, a2); a3 = fma(xa, w3, a3);
        b0 = fma(xb, w0, b0); b1 = fma(xb, w1, b1); b2 = fma(xb, w2, b2); b3 = fma(xb, w3, b3);
        wi += wstep;
      }
    }
  }
  storeQuad(p0 + li, g, q0, a0); storeQuad(p0 + li, g, q0 + 1u, a1);
  storeQuad(p0 + li, g, q0 + 2u, a2); storeQuad(p0 + li, g, q0 + 3u, a3);
  storeQuad(p0 + li + WG, g, q0, b0); storeQuad(p0 + li + WG, g, q0 + 1u, b1);
  storeQuad(p0 + li + WG, g, q0 + 2u, b2); storeQuad(p0 + li + WG, g, q0 + 3u, b3);
}
