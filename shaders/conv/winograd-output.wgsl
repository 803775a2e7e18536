// Winograd F(2x2,3x3), output transform fused with the epilogue: Y = A^T Mo A per output channel
// and tile, A^T = [[1,1,1,0],[0,1,-1,-1]], then bias, the residual Z and the fused activation, as
// conv/epilogue.wgsl does for the direct kernels. The chunk holds tiles t0 .. t0 + pc - 1 (pc <= np,
// see winograd-input.wgsl); one invocation per (m, p), adjacent invocations read adjacent p.
// #include common/activation.wgsl
// #include common/index.wgsl

struct Params {
  M: u32, OH: u32, OW: u32, TH: u32,
  TW: u32, t0: u32, pc: u32, np: u32,
  has_bias: u32, has_z: u32, act: u32, act_a: f32,
  act_b: f32,
}

@group(0) @binding(0) var<storage, read> mo: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(2) var<storage, read> z: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.M * params.pc) { return; }
  let p = i % params.pc;
  let m = i / params.pc;
  let plane = params.M * params.np;    // stride between transform positions
  let base = m * params.np + p;
  var r: array<vec4<f32>, 4>;          // r[a] = Mo[4a .. 4a + 3]: row a of the 4x4 tile
  for (var a = 0u; a < 4u; a++) {
    r[a] = vec4<f32>(mo[(a * 4u) * plane + base], mo[(a * 4u + 1u) * plane + base],
                     mo[(a * 4u + 2u) * plane + base], mo[(a * 4u + 3u) * plane + base]);
  }
  let s0 = r[0] + r[1] + r[2];         // rows of A^T Mo
  let s1 = r[1] - r[2] - r[3];
  var out = array<vec2<f32>, 2>(       // (A^T Mo) A
    vec2<f32>(s0.x + s0.y + s0.z, s0.y - s0.z - s0.w),
    vec2<f32>(s1.x + s1.y + s1.z, s1.y - s1.z - s1.w),
  );
  let t = params.t0 + p;
  let tpi = params.TH * params.TW;
  let n = t / tpi;
  let rem = t % tpi;
  let oh0 = rem / params.TW * 2u;
  let ow0 = rem % params.TW * 2u;
  var b = 0.0;
  if (params.has_bias != 0u) { b = f32(bias[m]); }
  let ob = (n * params.M + m) * params.OH * params.OW;
  for (var a = 0u; a < 2u; a++) {
    let oh = oh0 + a;
    if (oh >= params.OH) { break; }
    for (var c = 0u; c < 2u; c++) {
      let ow = ow0 + c;
      if (ow < params.OW) {
        let o = ob + oh * params.OW + ow;
        var val = out[a][c] + b;
        if (params.has_z != 0u) { val += f32(z[o]); }
        y[o] = {{T}}(activate(val, params.act, params.act_a, params.act_b));
      }
    }
  }
}
