// Batched GEMM shared by MatMul and Gemm:
//   y[b, m, n] = act(alpha * sum_k A[b, m, k] * B[b, k, n] + beta * C[m, n])
// A, B and C are addressed through strides in the uniforms, so transposes and broadcasting
// (stride 0) cost no copies. y is contiguous [batch, M, N].
//
// Tiling: a workgroup of WG_X x WG_Y invocations computes a BM x BN tile of y
// (BM = WG_Y * 4 * RM rows, BN = WG_X * 4 * CN columns), stepping over K in slices of BK
// staged in workgroup memory. Each invocation keeps a (4 RM) x (4 CN) register block of vec4
// accumulators, so every k of the slice costs RM + CN vec4 reads of workgroup memory for
// 16 RM CN FMAs. RM and CN are defines (function-scope arrays need constant sizes).
// Accumulation is in f32 whatever {{T}} is.
// This file: any strides (transposes, broadcast batch dims); element loads.
// #include matmul/gemm-core.wgsl

@group(0) @binding(0) var<storage, read> a: array<{{T}}>;
@group(0) @binding(1) var<storage, read> b: array<{{T}}>;

fn loadA4(base: u32, m: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (m < params.M) {
    let p = base + m * params.a_rs + k * params.a_cs;
    for (var i = 0u; i < 4u; i++) {
      if (k + i < params.K) { v[i] = f32(a[p + i * params.a_cs]); }
    }
  }
  return v;
}

fn loadB4(base: u32, k: u32, n: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (k < params.K) {
    let p = base + k * params.b_rs + n * params.b_cs;
    for (var j = 0u; j < 4u; j++) {
      if (n + j < params.N) { v[j] = f32(b[p + j * params.b_cs]); }
    }
  }
  return v;
}
