// Tiled GEMM with vec4 loads: the host picks this file when A is k-contiguous and B n-contiguous
// (a_cs = b_cs = 1) with K and N multiples of 4, so every row and batch offset is 4-aligned.
// #include matmul/gemm-core.wgsl

@group(0) @binding(0) var<storage, read> a: array<vec4<{{T}}>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<{{T}}>>;

fn loadA4(base: u32, m: u32, k: u32) -> vec4<f32> {
  if (m >= params.M || k >= params.K) { return vec4<f32>(0.0); }
  return vec4<f32>(a[(base + m * params.a_rs + k) / 4u]);
}

fn loadB4(base: u32, k: u32, n: u32) -> vec4<f32> {
  if (k >= params.K || n >= params.N) { return vec4<f32>(0.0); }
  return vec4<f32>(b[(base + k * params.b_rs + n) / 4u]);
}
