import { convUniforms, packConvWeights, packWeightsOnGpu, type ConvGeometry } from './conv-geometry';
import type { Attrs } from '../core/attrs';
import { WgsegError } from '../core/errors';
import type { GpuTensor, KernelContext, TensorInfo, Variant } from '../core/op';
import { ceilDiv, linearGrid } from './dispatch';

/**
 * Conv / FusedConv variant 'gemm-tiled': the classic GPU implicit GEMM (shaders/conv/conv2d-tiled.wgsl),
 * workgroups of 64-256 invocations with a 4x4 register block each, workgroup-memory tiles of the
 * weights and of the im2col input, no subgroups. Weights in pack-weights.wgsl's layout (vec4 quads of
 * output channels, k-major): packed on the host for constants, on the GPU per run otherwise.
 */

/** conv-geometry.ts's ConvGeometry (the name this file has used). */
export type TiledGeometry = ConvGeometry;

/** Tile configurations: channels x pixels per workgroup -> invocations along channels (TM) and pixels (TN). */
export const TILED_TILES = {
  '64x64': { TM: 16, TN: 16 },
  '64x32': { TM: 16, TN: 8 },
  '32x64': { TM: 8, TN: 16 },
  '32x32': { TM: 8, TN: 8 },
} as const;
export type TiledTile = keyof typeof TILED_TILES;

/** Tests and benches force a tile here; minWorkgroups is the rule's threshold (see tiledTile). */
export const convTiledTuning: { tile?: TiledTile; minWorkgroups: number } = { minWorkgroups: 128 };

/**
 * The tile for a layer: 64 channels when a group has more than 32, else 32; 64 pixels. Then, while the
 * grid has fewer than `minWorkgroups` (128: enough to fill the SMs / CUs of a large GPU about once)
 * workgroups, halve the pixels, then the channels (the smaller tiles trade FMAs per load for
 * occupancy on small layers).
 */
export function tiledTile(g: TiledGeometry): TiledTile {
  if (convTiledTuning.tile) return convTiledTuning.tile;
  let bm = g.Mg > 32 ? 64 : 32,
    bn = 64;
  const groups = () => g.group * ceilDiv(g.Mg, bm) * ceilDiv(g.N * g.OH * g.OW, bn);
  while (groups() < convTiledTuning.minWorkgroups && (bn > 32 || bm > 32)) {
    if (bn > 32) bn = 32;
    else bm = 32;
  }
  return `${bm}x${bn}` as TiledTile;
}

/** 1x1, stride 1, no padding, H * W a multiple of 4: the kernel stages the input with vec4 loads. */
const pointwise = (g: TiledGeometry) =>
  g.kH === 1 && g.kW === 1 && g.sh === 1 && g.sw === 1 && g.pads.every((p) => p === 0) && (g.H * g.W) % 4 === 0;

const mtilesOf = (g: TiledGeometry, tile: TiledTile) => ceilDiv(ceilDiv(g.Mg, 4), TILED_TILES[tile].TM);
const packKey = (Mq: number) => `conv-tiled quads Mq=${Mq}`;

function encodeTiled(
  op: string,
  rt: KernelContext,
  [x, w, b, z]: (GpuTensor | undefined)[],
  y: GpuTensor,
  attrs: Attrs,
  g: TiledGeometry,
) {
  const T = x!.dtype;
  const tile = tiledTile(g);
  const { TM, TN } = TILED_TILES[tile];
  const Mq = ceilDiv(g.Mg, 4);
  const mtiles = mtilesOf(g, tile);
  if (g.group * mtiles > 65535)
    throw new WgsegError('BAD_SHAPE', `${op}: ${g.group * mtiles} channel tiles exceed 65535`);
  if (w!.packed !== undefined && w!.packed !== packKey(Mq))
    throw new WgsegError(
      'BAD_INPUT',
      `${op}: weights were packed at load as ${w!.packed}, the gemm-tiled kernel wants ${packKey(Mq)}`,
    );
  // weights that are not a constant are packed on the GPU, every run
  const wp = w!.packed === undefined ? packWeightsOnGpu(rt, w!, g, Mq) : w!.buffer;
  const P = g.N * g.OH * g.OW;
  const [tx, ty] = linearGrid(P, 4 * TN);
  rt.dispatch({
    name: `ConvTiled${tile}[${g.N}x${g.C}x${g.H}x${g.W}->${g.M}x${g.OH}x${g.OW} k${g.kH}x${g.kW} s${g.sh} d${g.dh} g${g.group}]`,
    shader: 'conv/conv2d-tiled.wgsl',
    defines: { T },
    overrides: { TM, TN, PW: pointwise(g) ? 1 : 0 },
    uniforms: {
      ...convUniforms(op, g, attrs, !!b, !!z),
      P,
      Cg: g.Cg,
      Mg: g.Mg,
      Mq,
      ck: 0,
      mtiles,
    },
    buffers: { x: x!.buffer, x4: x!.buffer, wp, bias: (b ?? x!).buffer, z: (z ?? x!).buffer, y: y.buffer },
    workgroups: [tx, ty, g.group * mtiles],
  });
  if (wp !== w!.buffer) rt.pool.release(wp);
}

/**
 * The 'gemm-tiled' variant of Conv / FusedConv. `geometry` is conv.ts's convGeometry for the op
 * (passed in: conv.ts lists this variant, so this file cannot import it). Applies to every
 * non-depthwise conv whose channel tiles fit one grid dimension, f16 where the device has it.
 */
export function gemmTiledVariant(
  op: 'Conv' | 'FusedConv',
  geometry: (inputs: (TensorInfo | undefined)[], attrs: Attrs) => TiledGeometry,
): Variant {
  const ins = (inputs: (GpuTensor | undefined)[]) => (op === 'Conv' ? inputs.slice(0, 3) : inputs);
  return {
    name: 'gemm-tiled',
    applies(inputs, attrs, info) {
      const g = geometry(inputs, attrs);
      const depthwise = g.group === g.C && g.Cg === 1 && g.group > 1;
      if (depthwise || (inputs[0]!.dtype === 'f16' && !info.f16)) return false;
      return g.group * mtilesOf(g, tiledTile(g)) <= 65535;
    },
    prepack(_ctx, index, data, inputs, attrs) {
      if (index !== 1) return undefined;
      const g = geometry(inputs, attrs);
      return {
        data: packConvWeights(data, g, ceilDiv(g.Mg, 4)),
        dtype: inputs[1]!.dtype,
        key: packKey(ceilDiv(g.Mg, 4)),
      };
    },
    encode: (rt, inputs, [y], attrs) => encodeTiled(op, rt, ins(inputs), y, attrs, geometry(ins(inputs), attrs)),
  };
}
