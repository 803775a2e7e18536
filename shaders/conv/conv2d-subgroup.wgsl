enable subgroups;
// Conv2d implicit GEMM, subgroup variant (same uniforms and epilogue as conv2d.wgsl; weights packed
// by pack-weights.wgsl with Mq a multiple of MB / 4). Lane = output pixel: each invocation owns 4
// output pixels (p0 + li + j * WG, j = 0..3, named a..d) and MB = 32 (or 16) output channels, i.e.
// 4 x MB accumulators. Per k = (ci, kh, kw) a lane loads its 4 input values and MB / 8 weights
// (lane l: channels l, l + 8, ...); subgroupBroadcast hands all MB weights to every lane.
// Why so large a block: on CPU Vulkan (lavapipe) every per-lane buffer load becomes 8 branchy
// scalar loads while FMAs and broadcasts are cheap, so loads per FMA decide the speed (here 8
// loads per 128 FMAs per lane); spilled accumulators cost less than extra loads. 8 pixels per lane
// ran ~7% faster but took LLVM ~190 s instead of ~33 s to compile. Needs subgroups >= 8.
// #include common/activation.wgsl
// #include conv/epilogue.wgsl

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read> wp: array<{{T}}>;   // packed quads, read as scalars
@group(0) @binding(2) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(3) var<storage, read> z: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 16u;     // invocations per workgroup; a workgroup owns 4 * WG pixels
override MB: u32 = 32u;     // output channels per invocation: 32, or 16 for narrow layers

// Input value of pixel slot s at tap (kh, kw) of channel plane cb (zero in the padding).
fn tap(s: Slot, cb: u32, kh: u32, kw: u32) -> vec4<f32> {
  let ih = s.ih0 + i32(kh * params.dh);
  let iw = s.iw0 + i32(kw * params.dw);
  let ok = ih >= 0 && ih < i32(params.H) && iw >= 0 && iw < i32(params.W);
  return vec4<f32>(select(0.0, f32(x[select(0u, cb + u32(ih) * params.W + u32(iw), ok)]), ok));
}

// The values of lanes 0..3 / 4..7 of v, in every lane.
fn lo4(v: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}
fn hi4(v: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u));
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p0 = (wid.x + wid.y * nwg.x) * 4u * WG + li;
  let g = wid.z / params.mtiles;
  let q0 = (wid.z % params.mtiles) * (MB / 4u);    // first channel quad of this tile
  let HW = params.H * params.W;
  // lane l reads channels 4 * q0 + l + 8i (scalar index into the packed quads)
  var wi = (g * params.Cg * params.kH * params.kW * params.Mq + q0) * 4u + (sid & 7u);
  let wstep = params.Mq * 4u;
  let sa = stagingSlot(p0, 0u * WG, g); let sb = stagingSlot(p0, 1u * WG, g);
  let sc = stagingSlot(p0, 2u * WG, g); let sd = stagingSlot(p0, 3u * WG, g);
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  var b0 = vec4<f32>(); var b1 = vec4<f32>(); var b2 = vec4<f32>(); var b3 = vec4<f32>();
  var b4 = vec4<f32>(); var b5 = vec4<f32>(); var b6 = vec4<f32>(); var b7 = vec4<f32>();
  var c0 = vec4<f32>(); var c1 = vec4<f32>(); var c2 = vec4<f32>(); var c3 = vec4<f32>();
  var c4 = vec4<f32>(); var c5 = vec4<f32>(); var c6 = vec4<f32>(); var c7 = vec4<f32>();
  var d0 = vec4<f32>(); var d1 = vec4<f32>(); var d2 = vec4<f32>(); var d3 = vec4<f32>();
  var d4 = vec4<f32>(); var d5 = vec4<f32>(); var d6 = vec4<f32>(); var d7 = vec4<f32>();
  for (var ci = 0u; ci < params.Cg; ci++) {
    let cb = ci * HW;
    for (var kh = 0u; kh < params.kH; kh++) {
      for (var kw = 0u; kw < params.kW; kw++) {
        let xa = tap(sa, sa.base + cb, kh, kw); let xb = tap(sb, sb.base + cb, kh, kw);
        let xc = tap(sc, sc.base + cb, kh, kw); let xd = tap(sd, sd.base + cb, kh, kw);
        let v0 = f32(wp[wi]);
        let v1 = f32(wp[wi + 8u]);
        let w0 = lo4(v0); let w1 = hi4(v0); let w2 = lo4(v1); let w3 = hi4(v1);
        a0 = fma(xa, w0, a0); a1 = fma(xa, w1, a1); a2 = fma(xa, w2, a2); a3 = fma(xa, w3, a3);
        b0 = fma(xb, w0, b0); b1 = fma(xb, w1, b1); b2 = fma(xb, w2, b2); b3 = fma(xb, w3, b3);
        c0 = fma(xc, w0, c0); c1 = fma(xc, w1, c1); c2 = fma(xc, w2, c2); c3 = fma(xc, w3, c3);
        d0 = fma(xd, w0, d0); d1 = fma(xd, w1, d1); d2 = fma(xd, w2, d2); d3 = fma(xd, w3, d3);
        if (MB > 16u) {
          let v2 = f32(wp[wi + 16u]);
          let v3 = f32(wp[wi + 24u]);
          let w4 = lo4(v2); let w5 = hi4(v2); let w6 = lo4(v3); let w7 = hi4(v3);
          a4 = fma(xa, w4, a4); a5 = fma(xa, w5, a5); a6 = fma(xa, w6, a6); a7 = fma(xa, w7, a7);
          b4 = fma(xb, w4, b4); b5 = fma(xb, w5, b5); b6 = fma(xb, w6, b6); b7 = fma(xb, w7, b7);
          c4 = fma(xc, w4, c4); c5 = fma(xc, w5, c5); c6 = fma(xc, w6, c6); c7 = fma(xc, w7, c7);
          d4 = fma(xd, w4, d4); d5 = fma(xd, w5, d5); d6 = fma(xd, w6, d6); d7 = fma(xd, w7, d7);
        }
        wi += wstep;
      }
    }
  }
  storeQuad(p0 + 0u * WG, g, q0 + 0u, a0); storeQuad(p0 + 0u * WG, g, q0 + 1u, a1);
  storeQuad(p0 + 0u * WG, g, q0 + 2u, a2); storeQuad(p0 + 0u * WG, g, q0 + 3u, a3);
  storeQuad(p0 + 1u * WG, g, q0 + 0u, b0); storeQuad(p0 + 1u * WG, g, q0 + 1u, b1);
  storeQuad(p0 + 1u * WG, g, q0 + 2u, b2); storeQuad(p0 + 1u * WG, g, q0 + 3u, b3);
  storeQuad(p0 + 2u * WG, g, q0 + 0u, c0); storeQuad(p0 + 2u * WG, g, q0 + 1u, c1);
  storeQuad(p0 + 2u * WG, g, q0 + 2u, c2); storeQuad(p0 + 2u * WG, g, q0 + 3u, c3);
  storeQuad(p0 + 3u * WG, g, q0 + 0u, d0); storeQuad(p0 + 3u * WG, g, q0 + 1u, d1);
  storeQuad(p0 + 3u * WG, g, q0 + 2u, d2); storeQuad(p0 + 3u * WG, g, q0 + 3u, d3);
  if (MB > 16u) {
    storeQuad(p0 + 0u * WG, g, q0 + 4u, a4); storeQuad(p0 + 0u * WG, g, q0 + 5u, a5);
    storeQuad(p0 + 0u * WG, g, q0 + 6u, a6); storeQuad(p0 + 0u * WG, g, q0 + 7u, a7);
    storeQuad(p0 + 1u * WG, g, q0 + 4u, b4); storeQuad(p0 + 1u * WG, g, q0 + 5u, b5);
    storeQuad(p0 + 1u * WG, g, q0 + 6u, b6); storeQuad(p0 + 1u * WG, g, q0 + 7u, b7);
    storeQuad(p0 + 2u * WG, g, q0 + 4u, c4); storeQuad(p0 + 2u * WG, g, q0 + 5u, c5);
    storeQuad(p0 + 2u * WG, g, q0 + 6u, c6); storeQuad(p0 + 2u * WG, g, q0 + 7u, c7);
    storeQuad(p0 + 3u * WG, g, q0 + 4u, d4); storeQuad(p0 + 3u * WG, g, q0 + 5u, d5);
    storeQuad(p0 + 3u * WG, g, q0 + 6u, d6); storeQuad(p0 + 3u * WG, g, q0 + 7u, d7);
  }
}
