// Core of the tiled GEMM; included by gemm.wgsl (scalar loads) and gemm-vec4.wgsl (vec4 loads),
// which bind a and b and define loadA4(base, m, k) = A[m, k..k+3] and loadB4(base, k, n) = B[k, n..n+3]
// (zero outside the matrix). See gemm.wgsl for the tiling.
// #include common/activation.wgsl

struct Params {
  M: u32,
  N: u32,
  K: u32,
  has_c: u32,
  // A[m, k] at a_base + m * a_rs + k * a_cs; B[k, n] at b_base + k * b_rs + n * b_cs
  a_rs: u32,
  a_cs: u32,
  b_rs: u32,
  b_cs: u32,
  // C[m, n] at m * c_rs + n * c_cs (0 = broadcast)
  c_rs: u32,
  c_cs: u32,
  act: u32,
  alpha: f32,
  beta: f32,
  act_a: f32,
  act_b: f32,
  // batch dims of y (outermost first, padded with 1s in front) and the batch strides of A, B
  bshape: vec4<u32>,
  a_bs: vec4<u32>,
  b_bs: vec4<u32>,
}

@group(0) @binding(2) var<storage, read> c: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(4) var<uniform> params: Params;

override WG_X: u32 = 8u;
override WG_Y: u32 = 4u;
override BK: u32 = 16u;  // a multiple of 4
// register block: RM groups of 4 rows x CN groups of 4 columns per invocation
const RM = {{RM}}u;
const CN = {{CN}}u;
const ACC = {{RM}}u * {{CN}}u * 4u;  // the register block's vec4s

// As[kk * WG_Y * RM + g] holds A[row0 + 4g .. 4g + 3, k0 + kk];
// Bs[kk * WG_X * CN + q] holds B[k0 + kk, col0 + 4q .. 4q + 3]
var<workgroup> As: array<vec4<f32>, BK * WG_Y * RM>;
var<workgroup> Bs: array<vec4<f32>, BK * WG_X * CN>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let bases = batchBases(wid.z);
  let a_base = bases.x;
  let b_base = bases.y;
  let AG = WG_Y * RM;  // 4-row groups in the tile
  let BG = WG_X * CN;  // 4-column groups in the tile
  let row0 = wid.y * AG * 4u;
  let col0 = wid.x * BG * 4u;
  let threads = WG_X * WG_Y;

  var acc: array<vec4<f32>, ACC>;
  for (var k0 = 0u; k0 < params.K; k0 += BK) {
    // stage the A slice: slot s -> (kq = s % (BK / 4), row ml = s / (BK / 4)): one row, four k
    for (var s = li; s < BK * AG; s += threads) {
      let kq = s % (BK / 4u);
      let ml = s / (BK / 4u);
      let v = loadA4(a_base, row0 + ml, k0 + 4u * kq);
      for (var i = 0u; i < 4u; i++) { As[(4u * kq + i) * AG + ml / 4u][ml % 4u] = v[i]; }
    }
    // stage the B slice: slot s -> (q = s % BG, kk = s / BG): four columns at one k
    for (var s = li; s < BK * BG; s += threads) {
      let q = s % BG;
      let kk = s / BG;
      Bs[kk * BG + q] = loadB4(b_base, k0 + kk, col0 + 4u * q);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var bv: array<vec4<f32>, CN>;
      for (var j = 0u; j < CN; j++) { bv[j] = Bs[kk * BG + lid.x * CN + j]; }
      for (var h = 0u; h < RM; h++) {
        let av = As[kk * AG + lid.y * RM + h];
        for (var c = 0u; c < 4u; c++) {
          for (var j = 0u; j < CN; j++) {
            acc[(4u * h + c) * CN + j] = fma(vec4<f32>(av[c]), bv[j], acc[(4u * h + c) * CN + j]);
          }
        }
      }
    }
    workgroupBarrier();
  }

  storeBlock(wid.z, row0 + 4u * RM * lid.y, col0 + 4u * CN * lid.x, &acc);
}

// Where batch `z`'s A and B start: the flat batch index decomposed over bshape, times the batch strides.
fn batchBases(z: u32) -> vec2<u32> {
  var rest = z;
  var idx: vec4<u32>;
  for (var d = 3; d >= 0; d--) {
    idx[d] = rest % params.bshape[d];
    rest = rest / params.bshape[d];
  }
  return vec2<u32>(dot(idx, params.a_bs), dot(idx, params.b_bs));
}

// y[batch, m0 .. m0 + 4 RM, n0 .. n0 + 4 CN] from an invocation's register block (alpha, beta C, activation)
fn storeBlock(batch: u32, m0: u32, n0: u32, acc: ptr<function, array<vec4<f32>, ACC>>) {
  let out_base = batch * params.M * params.N;
  for (var i = 0u; i < 4u * RM; i++) {
    let m = m0 + i;
    if (m >= params.M) { break; }
    for (var j = 0u; j < 4u * CN; j++) {
      let n = n0 + j;
      if (n >= params.N) { break; }
      var v = params.alpha * (*acc)[i * CN + j / 4u][j % 4u];
      if (params.has_c != 0u) {
        v += params.beta * f32(c[m * params.c_rs + n * params.c_cs]);
      }
      y[out_base + m * params.N + n] = {{T}}(activate(v, params.act, params.act_a, params.act_b));
    }
  }
}

// The 'direct' variant's entry point: no workgroup memory and no barriers. Each invocation owns the
// (4 RM) x (4 CN) block at (4 RM gid.y, 4 CN gid.x) and, per 4 k, loads its A rows and B columns
// itself, leaving their reuse across invocations to the caches: on the CPU adapters the staging
// and barriers of `main` cost more than they save (as winograd-direct against winograd).
@compute @workgroup_size(WG_X, WG_Y)
fn direct(@builtin(global_invocation_id) gid: vec3<u32>) {
  let bases = batchBases(gid.z);
  let a_base = bases.x;
  let b_base = bases.y;
  let m0 = gid.y * 4u * RM;
  let n0 = gid.x * 4u * CN;
  if (m0 >= params.M || n0 >= params.N) { return; }
  var acc: array<vec4<f32>, ACC>;
  for (var k = 0u; k < params.K; k += 4u) {
    var bv: array<vec4<f32>, 4u * CN>;
    for (var kk = 0u; kk < 4u; kk++) {
      for (var j = 0u; j < CN; j++) { bv[kk * CN + j] = loadB4(b_base, k + kk, n0 + 4u * j); }
    }
    for (var i = 0u; i < 4u * RM; i++) {
      let av = loadA4(a_base, m0 + i, k);
      for (var j = 0u; j < CN; j++) {
        var s = acc[i * CN + j];
        s = fma(vec4<f32>(av.x), bv[j], s);
        s = fma(vec4<f32>(av.y), bv[CN + j], s);
        s = fma(vec4<f32>(av.z), bv[2u * CN + j], s);
        acc[i * CN + j] = fma(vec4<f32>(av.w), bv[3u * CN + j], s);
      }
    }
  }
  storeBlock(gid.z, m0, n0, &acc);
}
