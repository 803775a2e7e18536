// DenseCRF unary and first estimate, per pixel over the classes of planar [C,N] scores:
// probabilities: U = -log(max(p, eps)); logits: U = logsumexp(x) - x (= -log softmax).
// Q0 = softmax(-U).
// #include common/index.wgsl

struct Params {
  n: u32,
  c: u32,
  logits: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<{{T}}>;
@group(0) @binding(1) var<storage, read_write> unary: array<f32>;
@group(0) @binding(2) var<storage, read_write> q: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg, WG);
  let n = params.n;
  if (i >= n) { return; }
  var m = -3.0e38;
  for (var l = 0u; l < params.c; l++) {
    let v = f32(x[l * n + i]);
    let u = select(-log(max(v, params.eps)), -v, params.logits == 1u);
    unary[l * n + i] = u;
    m = max(m, -u);
  }
  var s = 0.0;
  for (var l = 0u; l < params.c; l++) { s += exp(-unary[l * n + i] - m); }
  let lse = m + log(s);
  for (var l = 0u; l < params.c; l++) {
    let u = unary[l * n + i];
    q[l * n + i] = exp(-u - m) / s;
    if (params.logits == 1u) { unary[l * n + i] = u + lse; }
  }
}
