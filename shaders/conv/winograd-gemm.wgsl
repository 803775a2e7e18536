// Winograd F(2x2,3x3), the batched GEMM: for each of the 16 transform positions xi and each group g
// (wid.z = xi * group + g), Mo[xi][g * Mg + m][p] = sum_c U[xi][g][c][m] * V[xi][g * Cg + c][p].
// A workgroup of WG_X x WG_Y invocations owns BM = 4 * RM * WG_Y output channels x BN = 4 * RN * WG_X
// tiles; each invocation a register block of RM x RN vec4 quads (8 channels x 16 tiles), its quads
// WG_Y (WG_X) quads apart so that neighbouring invocations read neighbouring vec4s. No subgroups.
// Two entry points, two variants (conv-winograd.ts):
// - main ('winograd'): every BK input channels the workgroup stages the U slice [BK][BM] and the V
//   slice [BK][BN] in workgroup memory (vec4 loads, m resp. p contiguous), then reads them WG_X
//   (WG_Y) times over: the GPU shape. 8 x 8 invocations, BK = 16: 12 KiB of workgroup memory.
// - direct ('winograd-direct'): no workgroup memory and no barriers; each invocation loads its own
//   vec4s per input channel and leaves the reuse to the caches. On lavapipe (CPU) barriers and the
//   workgroup-memory round trip cost more than they save: ~0.68x the CPU time of main there.
// np (V's row length) is a multiple of BN, so V reads need no bound on p.
struct Params {
  C: u32, M: u32, Cg: u32, Mg: u32,
  Mq: u32, group: u32, np: u32,
}

@group(0) @binding(0) var<storage, read> u: array<vec4<{{T}}>>;
@group(0) @binding(1) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> mo: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> params: Params;

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override BK: u32 = 16u;
const RM = 2u;                         // channel quads per invocation
const RN = 4u;                         // tile quads per invocation

// As[kk * AQ + i]: channels 4 (q0 + i) .. + 3 at input channel k0 + kk; Bs[kk * BQ + j]: tiles 4 (p0 + j) ..
var<workgroup> As: array<vec4<f32>, BK * WG_Y * RM>;
var<workgroup> Bs: array<vec4<f32>, BK * WG_X * RN>;

// The register block as 8 private mat4x4 (a{h}{j}: column e = channel 4 (q0 + h * WG_Y + lid.y) + e,
// row = tile 4 (p0 + j * WG_X + lid.x) + row): an array indexed in loops went to memory on lavapipe.
var<private> a00: mat4x4<f32>;
var<private> a01: mat4x4<f32>;
var<private> a02: mat4x4<f32>;
var<private> a03: mat4x4<f32>;
var<private> a10: mat4x4<f32>;
var<private> a11: mat4x4<f32>;
var<private> a12: mat4x4<f32>;
var<private> a13: mat4x4<f32>;

// a + outer(tiles, channels): 4 tiles times 4 channels
fn outer(a: mat4x4<f32>, t: vec4<f32>, c: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(fma(t, vec4<f32>(c.x), a[0]), fma(t, vec4<f32>(c.y), a[1]),
                     fma(t, vec4<f32>(c.z), a[2]), fma(t, vec4<f32>(c.w), a[3]));
}

// The invocation's place: transform position, group, first channel quad and tile quad of the workgroup.
struct Tile { xi: u32, g: u32, q0: u32, p0: u32 }

fn tileOf(wid: vec3<u32>) -> Tile {
  return Tile(wid.z / params.group, wid.z % params.group, wid.y * WG_Y * RM, wid.x * WG_X * RN);
}

// One input channel's rank-1 update of the register block: tile quads b0..b3, channel quads c0, c1.
fn update(b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>, c0: vec4<f32>, c1: vec4<f32>) {
  a00 = outer(a00, b0, c0);
  a01 = outer(a01, b1, c0);
  a02 = outer(a02, b2, c0);
  a03 = outer(a03, b3, c0);
  a10 = outer(a10, b0, c1);
  a11 = outer(a11, b1, c1);
  a12 = outer(a12, b2, c1);
  a13 = outer(a13, b3, c1);
}

// Writes the register block to Mo; one loop, the accumulator picked by a switch (eight inlined
// copies compile slowly on lavapipe).
fn store(t: Tile, lid: vec3<u32>) {
  let np4 = params.np / 4u;
  for (var k = 0u; k < RM * RN; k++) {
    var a = a00;
    switch k {
      case 1u: { a = a01; }
      case 2u: { a = a02; }
      case 3u: { a = a03; }
      case 4u: { a = a10; }
      case 5u: { a = a11; }
      case 6u: { a = a12; }
      case 7u: { a = a13; }
      default: {}
    }
    let h = k / RN;
    let j = k % RN;
    for (var e = 0u; e < 4u; e++) {
      let m = 4u * (t.q0 + h * WG_Y + lid.y) + e;
      if (m < params.Mg) {
        mo[(t.xi * params.M + t.g * params.Mg + m) * np4 + t.p0 + j * WG_X + lid.x] = a[e];
      }
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let t = tileOf(wid);
  let AQ = WG_Y * RM;                  // channel quads in the tile
  let BQ = WG_X * RN;                  // tile quads in the tile
  let threads = WG_X * WG_Y;
  let np4 = params.np / 4u;
  let ubase = wid.z * params.Cg * params.Mq;
  let vbase = (t.xi * params.C + t.g * params.Cg) * np4 + t.p0;
  for (var k0 = 0u; k0 < params.Cg; k0 += BK) {
    for (var s = li; s < BK * AQ; s += threads) {
      let c = k0 + s / AQ;
      let q = t.q0 + s % AQ;
      var a = vec4<f32>(0.0);
      if (c < params.Cg && q < params.Mq) { a = vec4<f32>(u[ubase + c * params.Mq + q]); }
      As[s] = a;
    }
    for (var s = li; s < BK * BQ; s += threads) {
      let c = k0 + s / BQ;
      var b = vec4<f32>(0.0);
      if (c < params.Cg) { b = v[vbase + c * np4 + s % BQ]; }
      Bs[s] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let bb = kk * BQ + lid.x;
      let ab = kk * AQ + lid.y;
      update(Bs[bb], Bs[bb + WG_X], Bs[bb + 2u * WG_X], Bs[bb + 3u * WG_X], As[ab], As[ab + WG_Y]);
    }
    workgroupBarrier();
  }
  store(t, lid);
}

@compute @workgroup_size(WG_X, WG_Y)
fn direct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = tileOf(wid);
  let np4 = params.np / 4u;
  let ulast = arrayLength(&u) - 1u;    // quads past Mq read anything: their channels are not stored
  var ui = wid.z * params.Cg * params.Mq + t.q0 + lid.y;
  var vi = (t.xi * params.C + t.g * params.Cg) * np4 + t.p0 + lid.x;
  for (var c = 0u; c < params.Cg; c++) {
    update(v[vi], v[vi + WG_X], v[vi + 2u * WG_X], v[vi + 3u * WG_X],
           vec4<f32>(u[min(ui, ulast)]), vec4<f32>(u[min(ui + WG_Y, ulast)]));
    ui += params.Mq;
    vi += np4;
  }
  store(t, lid);
}
