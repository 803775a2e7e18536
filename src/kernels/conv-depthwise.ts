import { convUniforms, isDepthwise, type ConvGeometry } from './conv-geometry';
import type { Attrs } from '../core/attrs';
import type { GpuTensor, KernelContext, TensorInfo, Variant } from '../core/op';
import { ceilDiv, linearGrid } from './dispatch';

/**
 * Conv's 'depthwise-flat' variant (shaders/conv/depthwise-flat.wgsl): one invocation per 4 adjacent
 * outputs of a row, numbered over (plane, row, quad) and packed 64 to a workgroup, for small maps
 * with many channels (7x7 / 8x8 x 960), where 'depthwise' (a 64 x 8 tile of one plane per
 * workgroup) leaves most lanes idle. It applies to every depthwise conv: no limit on the number of
 * planes (the grid folds into 2-D). conv.ts lists it; it takes conv.ts's geometry as a function so
 * that this file imports nothing from conv.ts.
 */

/** conv-geometry.ts's ConvGeometry (the name this file has used). */
export type DepthwiseGeometry = ConvGeometry;

type Geometry = (inputs: (TensorInfo | undefined)[], attrs: Attrs) => DepthwiseGeometry;

const FLAT = { shader: 'conv/depthwise-flat.wgsl', WG: 64, PX: 4 };

function encodeFlat(
  rt: KernelContext,
  op: 'Conv' | 'FusedConv',
  g: DepthwiseGeometry,
  [x, w, b, z]: (GpuTensor | undefined)[],
  y: GpuTensor,
  attrs: Attrs,
) {
  const OQ = ceilDiv(g.OW, FLAT.PX);
  const n = g.N * g.M * g.OH * OQ;
  rt.dispatch({
    name: `DepthwiseConvFlat[${g.N}x${g.C}x${g.H}x${g.W}->${g.M}x${g.OH}x${g.OW} k${g.kH}x${g.kW} s${g.sh} d${g.dh}]`,
    shader: FLAT.shader,
    defines: { T: x!.dtype },
    overrides: { WG: FLAT.WG },
    uniforms: {
      ...convUniforms(op, g, attrs, !!b, !!z),
      mult: g.Mg,
      OQ,
      n,
    },
    buffers: { x: x!.buffer, w: w!.buffer, bias: (b ?? x!).buffer, z: (z ?? x!).buffer, y: y.buffer },
    workgroups: linearGrid(n, FLAT.WG),
  });
}

/** The variant for convKernel(op); `geometry` is conv.ts's convGeometry for this op. */
export function depthwiseFlat(op: 'Conv' | 'FusedConv', geometry: Geometry): Variant {
  return {
    name: 'depthwise-flat',
    applies(inputs, attrs) {
      const g = geometry(inputs, attrs);
      return isDepthwise(g) && g.N * g.M * g.OH * ceilDiv(g.OW, FLAT.PX) < 2 ** 32; // u32 flat index
    },
    encode(rt, inputs, [y], attrs) {
      const ins = op === 'Conv' ? inputs.slice(0, 3) : inputs;
      encodeFlat(rt, op, geometry(ins, attrs), ins, y, attrs);
    },
  };
}
