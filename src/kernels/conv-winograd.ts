import type { ConvGeometry } from './conv-geometry';
import type { Attrs } from '../core/attrs';
import { WgsegError } from '../core/errors';
import type { DeviceInfo, GpuTensor, KernelContext, TensorInfo, Variant } from '../core/op';
import { activationUniforms } from './activation';
import { ceilDiv, linearGrid } from './dispatch';

/**
 * Conv / FusedConv 3x3, stride 1, dilation 1, as Winograd F(2x2,3x3) (Lavin & Gray 2015): every
 * 2x2 output tile is A^T [ (G g G^T) . (B^T d B) ] A of a 4x4 input patch d, so the 36 multiplies
 * of the direct kernel per tile and channel pair become 16, done as 16 GEMMs over the channels.
 * Four dispatches (shaders/conv/winograd-*.wgsl): the weight transform (only for weights that are
 * not a constant; constant ones are transformed once on the host by `prepack`), the input transform
 * into scratch V, the batched GEMM into scratch Mo, and the output transform fused with bias, Z and
 * the activation. Tiles are processed in chunks so the scratch stays under `winogradTuning.chunkBytes`.
 * V and Mo are f32 for f16 models too (only U, X, Z, Y are T). Its f32 error bound is looser than
 * direct conv's (the transforms grow the summed terms), though measured errors are no larger; see
 * test/kernels/conv-winograd.test.ts. Measured on lavapipe (bench/conv-variants.ts, 3x3 pad 1):
 * ~1-2x the time of 'gemm-subgroup' on 64-256 channels, ~5x on 1x32x64x64, 4-10x faster than the
 * portable 'gemm'; a 2.25x cut in multiplies should win on real GPUs, where the autotuner decides.
 */

/** conv-geometry.ts's ConvGeometry (the name this file has used). */
export type WinogradGeometry = ConvGeometry;
type Geometry = (inputs: (TensorInfo | undefined)[], attrs: Attrs) => WinogradGeometry;

/**
 * GEMM tile (winograd-gemm.wgsl): WG_X x WG_Y invocations, each RM x RN vec4 quads (channels x
 * tiles; fixed in the shader), BK input channels per stage. chunkBytes: the most bytes of V or Mo
 * per chunk of tiles.
 */
export const winogradTuning = { WG_X: 8, WG_Y: 8, BK: 16, chunkBytes: 32 << 20 };
const RM = 2;
const RN = 4;

/** The WebGPU default maxStorageBufferBindingSize: every device binds this much. */
const MAX_BINDING = 128 << 20;
const BYTES = { f32: 4, f16: 2 } as const;

/** Transform positions xi = 4r + s of the 4x4 domain. */
const XI = 16;

const layout = (g: WinogradGeometry) => {
  const Mq = ceilDiv(g.Mg, 4);
  return { Mq, Mp: Mq * 4, n: g.group * g.Cg * Mq * 4 };
};
const packKey = (Mp: number) => `conv-winograd f2x3 Mp=${Mp}`;

/**
 * U = G g G^T of every (output channel, input channel) pair of W [M, Cg, 3, 3], laid out as
 * winograd-weights.wgsl writes it: u[((xi * group + g) * Cg + c) * Mp + m], zero for m >= Mg.
 */
export function winogradWeights(w: ArrayLike<number>, g: WinogradGeometry): Float32Array {
  const { Mp, n } = layout(g);
  const u = new Float32Array(XI * n);
  const G = (a: number, b: number, c: number) => [a, (a + b + c) / 2, (a - b + c) / 2, c];
  for (let grp = 0; grp < g.group; grp++)
    for (let m = 0; m < g.Mg; m++)
      for (let c = 0; c < g.Cg; c++) {
        const k = ((grp * g.Mg + m) * g.Cg + c) * 9;
        const cols = [0, 1, 2].map((j) => G(w[k + j], w[k + 3 + j], w[k + 6 + j])); // G applied down column j
        const o = (grp * g.Cg + c) * Mp + m;
        for (let r = 0; r < 4; r++) {
          const t = G(cols[0][r], cols[1][r], cols[2][r]); // row r of G g, times G^T
          for (let s = 0; s < 4; s++) u[(r * 4 + s) * n + o] = t[s];
        }
      }
  return u;
}

/** Whether the variant runs these inputs on this device (exact: shapes, dtypes, grid and binding limits). */
function applies(g: WinogradGeometry, dtype: string, info: DeviceInfo): boolean {
  if (g.kH !== 3 || g.kW !== 3 || g.sh !== 1 || g.sw !== 1 || g.dh !== 1 || g.dw !== 1) return false;
  if (g.group === g.C && g.Cg === 1 && g.group > 1) return false; // depthwise: its own kernel is better
  if (dtype !== 'f32' && !(dtype === 'f16' && info.f16)) return false;
  const { WG_X } = winogradTuning;
  const minChunk = XI * Math.max(g.C, g.M) * 4 * WG_X * RN * 4; // one GEMM tile's worth of V or Mo
  const weights = XI * layout(g).n * BYTES[dtype as 'f32'];
  return XI * g.group <= 65535 && minChunk <= MAX_BINDING && weights <= MAX_BINDING;
}

function encode(
  ctx: KernelContext,
  direct: boolean,
  op: string,
  g: WinogradGeometry,
  ins: (GpuTensor | undefined)[],
  y: GpuTensor,
  attrs: Attrs,
) {
  const [x, w, b, z] = ins;
  const T = x!.dtype;
  const { WG_X, WG_Y, BK, chunkBytes } = winogradTuning;
  const { Mq, Mp, n } = layout(g);
  const act = op === 'FusedConv' ? activationUniforms(attrs, op) : { act: 0, act_a: 0, act_b: 0 };
  const shape = `${g.N}x${g.C}x${g.H}x${g.W}->${g.M}x${g.OH}x${g.OW} g${g.group}`;
  let u = w!.buffer;
  if (w!.packed !== undefined && w!.packed !== packKey(Mp))
    throw new WgsegError(
      'BAD_INPUT',
      `${op}: weights were packed at load as ${w!.packed}, winograd wants ${packKey(Mp)}`,
    );
  if (w!.packed === undefined) {
    // weights that are not a constant: transformed here, every run
    u = ctx.pool.acquire(XI * n * BYTES[T as 'f32']);
    ctx.dispatch({
      name: `ConvWinogradWeights[${g.M}x${g.Cg}x3x3]`,
      shader: 'conv/winograd-weights.wgsl',
      defines: { T },
      uniforms: { n, Cg: g.Cg, Mg: g.Mg, Mp, group: g.group },
      buffers: { w: w!.buffer, u },
      workgroups: linearGrid(n, 64),
    });
  }
  const TH = ceilDiv(g.OH, 2);
  const TW = ceilDiv(g.OW, 2);
  const P = g.N * TH * TW;
  // tiles per chunk: a multiple of the GEMM tile width BN, V and Mo under chunkBytes each
  const BN = 4 * WG_X * RN;
  const fit = Math.floor(Math.min(chunkBytes, MAX_BINDING) / (XI * Math.max(g.C, g.M) * 4) / BN) * BN;
  const np = Math.min(Math.max(BN, fit), ceilDiv(P, BN) * BN);
  const v = ctx.pool.acquire(XI * g.C * np * 4);
  const mo = ctx.pool.acquire(XI * g.M * np * 4);
  const [pt, pl] = g.pads;
  for (let t0 = 0; t0 < P; t0 += np) {
    const pc = Math.min(np, P - t0);
    ctx.dispatch({
      name: `ConvWinogradInput[${shape}]`,
      shader: 'conv/winograd-input.wgsl',
      defines: { T },
      uniforms: { C: g.C, H: g.H, W: g.W, TH, TW, P, t0, np, pt, pl },
      buffers: { x: x!.buffer, v },
      workgroups: linearGrid(g.C * np, 256),
    });
    ctx.dispatch({
      name: `ConvWinogradGemm${direct ? 'Direct' : ''}[${shape}]`,
      shader: 'conv/winograd-gemm.wgsl',
      entry: direct ? 'direct' : 'main',
      defines: { T },
      overrides: { WG_X, WG_Y, BK },
      uniforms: { C: g.C, M: g.M, Cg: g.Cg, Mg: g.Mg, Mq, group: g.group, np },
      buffers: { u, v, mo },
      workgroups: [np / BN, ceilDiv(Mq, WG_Y * RM), XI * g.group],
    });
    ctx.dispatch({
      name: `ConvWinogradOutput[${shape}]`,
      shader: 'conv/winograd-output.wgsl',
      defines: { T },
      uniforms: { M: g.M, OH: g.OH, OW: g.OW, TH, TW, t0, pc, np, has_bias: b ? 1 : 0, has_z: z ? 1 : 0, ...act },
      buffers: { mo, bias: (b ?? x!).buffer, z: (z ?? x!).buffer, y: y.buffer },
      workgroups: linearGrid(g.M * pc, 256),
    });
  }
  ctx.pool.release(v);
  ctx.pool.release(mo);
  if (u !== w!.buffer) ctx.pool.release(u);
}

/**
 * The Winograd variants of Conv / FusedConv (conv.ts lists them last; `geometry` is its convGeometry):
 * 'winograd' stages the GEMM operands in workgroup memory (the GPU shape), 'winograd-direct' loads
 * them per invocation without barriers (faster on lavapipe); see winograd-gemm.wgsl.
 */
export function winogradVariants(op: 'Conv' | 'FusedConv', geometry: Geometry): Variant[] {
  return [false, true].map((direct) => ({
    name: direct ? 'winograd-direct' : 'winograd',
    applies: (inputs, attrs, info) => applies(geometry(inputs, attrs), inputs[0]!.dtype, info),
    prepack(_ctx, index, data, inputs, attrs) {
      if (index !== 1) return undefined;
      const g = geometry(inputs, attrs);
      return { data: winogradWeights(data, g), dtype: inputs[1]!.dtype, key: packKey(layout(g).Mp) };
    },
    encode(ctx, inputs, [y], attrs) {
      const ins = op === 'Conv' ? inputs.slice(0, 3) : inputs;
      encode(ctx, direct, op, geometry(ins, attrs), ins, y, attrs);
    },
  }));
}
