import type { KernelContext } from '../core/op';
import { WgsegError } from '../core/errors';
import type { DType } from '../core/dtype';
import type { GpuTensor } from '../core/op';
import { activationUniforms } from './activation';
import { badShape, floatAttr, intAttr } from '../core/attrs';
import { ceilDiv } from './dispatch';
import type { Attrs } from '../core/attrs';
import type { OpKernel, TensorInfo, Variant } from '../core/op';
import {
  einsumAsGemm,
  einsumEquation,
  einsumOperands,
  einsumPlan,
  encodeEinsumLabels,
  type StridedGemm,
} from './einsum';
import { withVariants } from './variants';

/**
 * Tiling of shaders/matmul/gemm.wgsl: workgroup WG_X x WG_Y, K slice BK (overrides); each
 * invocation computes (4 RM) x (4 CN) outputs (defines: they size the register arrays). BK is a
 * multiple of 4. VEC4 = 1 lets contiguous operands use the vec4-load variant (gemm-vec4.wgsl).
 */
export const GEMM_TILE = { WG_X: 8, WG_Y: 4, BK: 16, RM: 4, CN: 2, VEC4: 1 };
/**
 * The classic GPU shape of the same kernel ('tiled-16x16'): 16 x 16 = 256 invocations, a 4 x 4
 * register block each (RM = CN = 1), so a 64 x 64 output tile, K slices of 16 in workgroup memory
 * (A and B slices of 4 KiB each), vec4 loads where the operands allow. Every invocation stages exactly one
 * vec4 of A and one of B per slice, and reads 2 vec4s of workgroup memory per 16 FMAs. No subgroup
 * assumption. Fits any device with the WebGPU default limits (256 invocations, 16 KiB workgroup storage).
 */
export const GEMM_TILE_16 = { WG_X: 16, WG_Y: 16, BK: 16, RM: 1, CN: 1, VEC4: 1 };
/**
 * 'direct' (gemm-core.wgsl's `direct` entry point): no workgroup memory, 8 x 8 invocations of an
 * 8 x 8 block each (BK unused). `npx vite-node bench/matmul-perf.ts` (DIRECT=1 WG_X=8 WG_Y=8 RM=2
 * CN=2 against the default tile), 2026-12-07: SwiftShader 1.6-2.0x the GFLOP/s of 'gemm' on
 * 40x6625x120, 256x1024x256 and 4096x64x64 (3x 'tiled-16x16'); lavapipe 0.56-1.21x (4 x 8 and
 * 8 x 4 blocks were slower on both).
 */
export const GEMM_DIRECT = { WG_X: 8, WG_Y: 8, BK: 16, RM: 2, CN: 2, VEC4: 1, DIRECT: 1 };
type GemmTile = typeof GEMM_TILE & { DIRECT?: number };
const MAX_BATCH_DIMS = 4;
const MAX_GROUPS = 65535;

/** One GEMM as the shader sees it: sizes, element strides, batch layout (einsum.ts' StridedGemm). */
type GemmPlan = StridedGemm;

function checkDtypes(op: string, ins: (TensorInfo | undefined)[]): DType {
  const dt = ins[0]!.dtype;
  if (dt !== 'f32' && dt !== 'f16')
    throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: dtype ${dt} not supported (f32, f16)`);
  for (const t of ins)
    if (t && t.dtype !== dt) throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: mixed dtypes ${dt} and ${t.dtype}`);
  return dt;
}

const fmt = (s: number[]) => `[${s.join(',')}]`;

/** numpy matmul: 1-D promotion, broadcast batch dims. Returns the plan and the output shape. */
export function matmulPlan(a: number[], b: number[]): { plan: GemmPlan; out: number[] } {
  if (a.length === 0 || b.length === 0) badShape('MatMul', `scalar operands not allowed, got ${fmt(a)} x ${fmt(b)}`);
  const A = a.length === 1 ? [1, a[0]] : a;
  const B = b.length === 1 ? [b[0], 1] : b;
  const [M, K] = A.slice(-2),
    [K2, N] = B.slice(-2);
  if (K !== K2) badShape('MatMul', `inner dimensions differ: ${fmt(a)} x ${fmt(b)}`);
  const ab = A.slice(0, -2),
    bb = B.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  if (rank > MAX_BATCH_DIMS)
    badShape('MatMul', `at most ${MAX_BATCH_DIMS} batch dimensions (rank 6), got ${fmt(a)} x ${fmt(b)}`);
  const bshape: number[] = [],
    aBs: number[] = [],
    bBs: number[] = [];
  let as = M * K,
    bs = K * N;
  for (let i = 1; i <= rank; i++) {
    const da = ab[ab.length - i] ?? 1,
      db = bb[bb.length - i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      badShape('MatMul', `batch dimensions do not broadcast: ${fmt(a)} x ${fmt(b)}`);
    bshape.unshift(Math.max(da, db));
    aBs.unshift(da === 1 ? 0 : as);
    bBs.unshift(db === 1 ? 0 : bs);
    as *= da;
    bs *= db;
  }
  const out = [...bshape, ...(a.length === 1 ? [] : [M]), ...(b.length === 1 ? [] : [N])];
  return { plan: { M, N, K, aRs: K, aCs: 1, bRs: N, bCs: 1, bshape, aBs, bBs }, out };
}

/** Gemm: A [M,K] (or [K,M] with transA), B [K,N] (or [N,K] with transB), C broadcast to [M,N]. */
export function gemmPlan(a: number[], b: number[], c: number[] | undefined, attrs: Attrs) {
  const tA = intAttr(attrs, 'transA', 0, 'Gemm'),
    tB = intAttr(attrs, 'transB', 0, 'Gemm');
  if (a.length !== 2 || b.length !== 2) badShape('Gemm', `A and B must be 2-D, got ${fmt(a)} and ${fmt(b)}`);
  const [M, K] = tA ? [a[1], a[0]] : a;
  const [K2, N] = tB ? [b[1], b[0]] : b;
  if (K !== K2) badShape('Gemm', `inner dimensions differ: A ${fmt(a)} (transA=${tA}) x B ${fmt(b)} (transB=${tB})`);
  let cRs = 0,
    cCs = 0;
  if (c) {
    const [cm, cn] = c.length === 2 ? c : c.length === 1 ? [1, c[0]] : [1, 1];
    if (c.length > 2 || (cm !== 1 && cm !== M) || (cn !== 1 && cn !== N)) {
      badShape('Gemm', `C ${fmt(c)} does not broadcast to [${M},${N}]`);
    }
    cRs = cm === 1 ? 0 : cn;
    cCs = cn === 1 ? 0 : 1;
  }
  const plan: GemmPlan = {
    M,
    N,
    K,
    aRs: tA ? 1 : K,
    aCs: tA ? M : 1,
    bRs: tB ? 1 : N,
    bCs: tB ? K : 1,
    bshape: [],
    aBs: [],
    bBs: [],
  };
  return { plan, out: [M, N], cRs, cCs };
}

const pad4 = (xs: number[], fill: number) => [...Array(MAX_BATCH_DIMS - xs.length).fill(fill), ...xs];

function encodeGemm(
  rt: KernelContext,
  op: string,
  p: GemmPlan,
  a: GpuTensor,
  b: GpuTensor,
  c: GpuTensor | undefined,
  y: GpuTensor,
  extra: { alpha: number; beta: number; cRs: number; cCs: number },
  attrs: Attrs,
  tile: GemmTile = GEMM_TILE,
): void {
  const batch = p.bshape.reduce((x, d) => x * d, 1);
  const { WG_X, WG_Y, BK, RM, CN, VEC4 } = tile;
  // vec4 loads need A k-contiguous and B n-contiguous with K, N multiples of 4 (aligned rows and batches)
  const vec4 = VEC4 && p.aCs === 1 && p.bCs === 1 && p.K % 4 === 0 && p.N % 4 === 0;
  rt.dispatch({
    name: `${op}[${p.bshape.length ? p.bshape.join('x') + ':' : ''}${p.M}x${p.N}x${p.K}]`,
    shader: vec4 ? 'matmul/gemm-vec4.wgsl' : 'matmul/gemm.wgsl',
    defines: { T: a.dtype, RM, CN },
    ...(tile.DIRECT ? { entry: 'direct' } : {}),
    overrides: tile.DIRECT ? { WG_X, WG_Y } : { WG_X, WG_Y, BK },
    uniforms: {
      M: p.M,
      N: p.N,
      K: p.K,
      has_c: c ? 1 : 0,
      a_rs: p.aRs,
      a_cs: p.aCs,
      b_rs: p.bRs,
      b_cs: p.bCs,
      c_rs: extra.cRs,
      c_cs: extra.cCs,
      alpha: extra.alpha,
      beta: extra.beta,
      ...activationUniforms(attrs, op),
      bshape: pad4(p.bshape, 1),
      a_bs: pad4(p.aBs, 0),
      b_bs: pad4(p.bBs, 0),
    },
    // without C the shader never reads it; bind A there (read-only aliasing is allowed)
    buffers: { a: a.buffer, b: b.buffer, c: (c ?? a).buffer, y: y.buffer },
    workgroups: [ceilDiv(p.N, WG_X * 4 * CN), ceilDiv(p.M, WG_Y * 4 * RM), batch],
  });
}

/** 'direct' (the default on SwiftShader), the default tile (elsewhere), the 16 x 16 one; each within the 65535-workgroup grid. */
function gemmVariants(
  plan: (inputs: (TensorInfo | undefined)[], attrs: Attrs) => GemmPlan,
  encode: (tile: GemmTile, ...a: Parameters<Variant['encode']>) => void,
): Variant[] {
  const fits = (tile: GemmTile) => (inputs: (TensorInfo | undefined)[], attrs: Attrs) => {
    const p = plan(inputs, attrs);
    const batch = p.bshape.reduce((x, d) => x * d, 1);
    return (
      ceilDiv(p.N, tile.WG_X * 4 * tile.CN) <= MAX_GROUPS &&
      ceilDiv(p.M, tile.WG_Y * 4 * tile.RM) <= MAX_GROUPS &&
      batch <= MAX_GROUPS
    );
  };
  return [
    // the default on SwiftShader (headless Chromium's adapter, and Chrome's where there is no GPU)
    {
      name: 'direct',
      applies: fits(GEMM_DIRECT),
      defaultOn: (info) => /swiftshader/i.test(info.adapter),
      encode: (...a) => encode(GEMM_DIRECT, ...a),
    },
    { name: 'gemm', applies: fits(GEMM_TILE), encode: (...a) => encode(GEMM_TILE, ...a) },
    { name: 'tiled-16x16', applies: fits(GEMM_TILE_16), encode: (...a) => encode(GEMM_TILE_16, ...a) },
  ];
}

const matmul: OpKernel = withVariants({
  op: 'MatMul',
  emptyInputOk: true,
  infer([a, b], attrs) {
    if (!a || !b) throw new WgsegError('BAD_INPUT', 'MatMul: needs inputs A and B');
    const dtype = checkDtypes('MatMul', [a, b]);
    activationUniforms(attrs, 'MatMul');
    return [{ shape: matmulPlan(a.shape, b.shape).out, dtype }];
  },
  variants: gemmVariants(
    ([a, b]) => matmulPlan(a!.shape, b!.shape).plan,
    (tile, rt, [a, b], [y], attrs) => {
      const { plan } = matmulPlan(a!.shape, b!.shape);
      encodeGemm(rt, 'MatMul', plan, a!, b!, undefined, y, { alpha: 1, beta: 0, cRs: 0, cCs: 0 }, attrs, tile);
    },
  ),
});

const gemm: OpKernel = withVariants({
  op: 'Gemm',
  emptyInputOk: true,
  infer([a, b, c], attrs) {
    if (!a || !b) throw new WgsegError('BAD_INPUT', 'Gemm: needs inputs A and B');
    const dtype = checkDtypes('Gemm', [a, b, c]);
    for (const t of ['transA', 'transB']) {
      const v = intAttr(attrs, t, 0, 'Gemm');
      if (v !== 0 && v !== 1) throw new WgsegError('BAD_ATTRIBUTE', `Gemm: attribute ${t} must be 0 or 1, got ${v}`);
    }
    floatAttr(attrs, 'alpha', 1, 'Gemm');
    floatAttr(attrs, 'beta', 1, 'Gemm');
    activationUniforms(attrs, 'Gemm');
    return [{ shape: gemmPlan(a.shape, b.shape, c?.shape, attrs).out, dtype }];
  },
  variants: gemmVariants(
    ([a, b, c], attrs) => gemmPlan(a!.shape, b!.shape, c?.shape, attrs).plan,
    (tile, rt, [a, b, c], [y], attrs) => {
      const { plan, cRs, cCs } = gemmPlan(a!.shape, b!.shape, c?.shape, attrs);
      const alpha = floatAttr(attrs, 'alpha', 1, 'Gemm'),
        beta = floatAttr(attrs, 'beta', 1, 'Gemm');
      encodeGemm(rt, 'Gemm', plan, a!, b!, c, y, { alpha, beta, cRs, cCs }, attrs, tile);
    },
  ),
});

/**
 * Einsum: 'gemm' where the equation is one batched GEMM over strided operands (attention scores
 * and values, linear layers, batched matmul: the forms exports use), else 'labels' (any equation,
 * one invocation per output summing its terms).
 */
const einsumGemm = (inputs: (TensorInfo | undefined)[], attrs: Attrs) => {
  const xs = einsumOperands(inputs);
  return einsumAsGemm(
    einsumPlan(
      einsumEquation(attrs),
      xs.map((t) => t.shape),
    ),
    xs.length,
  );
};
const einsum: OpKernel = withVariants({
  op: 'Einsum',
  emptyInputOk: true,
  infer(inputs, attrs) {
    const xs = einsumOperands(inputs);
    return [
      {
        shape: einsumPlan(
          einsumEquation(attrs),
          xs.map((t) => t.shape),
        ).out,
        dtype: xs[0].dtype,
      },
    ];
  },
  variants: [
    {
      name: 'gemm',
      applies(inputs, attrs) {
        const p = einsumGemm(inputs, attrs);
        const batch = p?.bshape.reduce((x, d) => x * d, 1) ?? 0;
        return (
          !!p &&
          ceilDiv(p.N, GEMM_TILE.WG_X * 4 * GEMM_TILE.CN) <= MAX_GROUPS &&
          ceilDiv(p.M, GEMM_TILE.WG_Y * 4 * GEMM_TILE.RM) <= MAX_GROUPS &&
          batch <= MAX_GROUPS
        );
      },
      encode(rt, [a, b], [y], attrs) {
        const p = einsumGemm([a, b], attrs)!;
        encodeGemm(rt, 'Einsum', p, a!, b!, undefined, y, { alpha: 1, beta: 0, cRs: 0, cCs: 0 }, {});
      },
    },
    { name: 'labels', encode: (rt, inputs, [y], attrs) => encodeEinsumLabels(rt, inputs, y, attrs) },
  ],
});

export const matmulKernels: OpKernel[] = [matmul, gemm, einsum];
