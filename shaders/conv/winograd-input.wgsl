// Winograd F(2x2,3x3), input transform: V = B^T d B for every 4x4 input patch d (stride 2, the
// receptive field of one 2x2 output tile) and every input channel, B^T = [[1,0,-1,0],[0,1,1,0],
// [0,-1,1,0],[0,1,0,-1]]. Tiles are numbered t = (n * TH + ty) * TW + tx; this dispatch covers the
// chunk t0 .. t0 + np - 1 (np a multiple of the GEMM's tile width; tiles past P are written as zero
// so the GEMM reads full vec4s without bounds). Layout v[(xi * C + c) * np + p], p contiguous (vec4
// loads in winograd-gemm.wgsl). f32 whatever T is: the transforms add and subtract, f16 would lose
// bits for nothing. One invocation per (c, p): adjacent invocations write adjacent p.
// #include common/index.wgsl

struct Params {
  C: u32, H: u32, W: u32, TH: u32,
  TW: u32, P: u32, t0: u32, np: u32,
  pt: i32, pl: i32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> v: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

// B^T applied to a 4-vector (or to four rows at once)
fn bt(d: array<vec4<f32>, 4>) -> array<vec4<f32>, 4> {
  return array<vec4<f32>, 4>(d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  if (i >= params.C * params.np) { return; }
  let p = i % params.np;
  let c = i / params.np;
  let t = params.t0 + p;
  var d: array<vec4<f32>, 4>;          // d[row] = 4 columns
  if (t < params.P) {
    let tpi = params.TH * params.TW;
    let n = t / tpi;
    let r = t % tpi;
    let ih0 = i32(r / params.TW * 2u) - params.pt;
    let iw0 = i32(r % params.TW * 2u) - params.pl;
    let base = (n * params.C + c) * params.H * params.W;
    for (var a = 0u; a < 4u; a++) {
      let ih = ih0 + i32(a);
      let rowok = ih >= 0 && ih < i32(params.H);
      for (var b = 0u; b < 4u; b++) {
        let iw = iw0 + i32(b);
        let ok = rowok && iw >= 0 && iw < i32(params.W);
        d[a][b] = select(0.0, f32(x[select(0u, base + u32(ih) * params.W + u32(iw), ok)]), ok);
      }
    }
  }
  let rows = bt(d);                    // B^T d: rows
  let plane = params.C * params.np;    // stride between transform positions
  let o = c * params.np + p;
  for (var a = 0u; a < 4u; a++) {
    let q = rows[a];                   // (B^T d)[a] B = B^T applied to the row
    let e = vec4<f32>(q.x - q.z, q.y + q.z, q.z - q.y, q.y - q.w);
    for (var b = 0u; b < 4u; b++) {
      v[(a * 4u + b) * plane + o] = e[b];
    }
  }
}
