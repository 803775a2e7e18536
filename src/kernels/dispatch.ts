import type { KernelContext } from '../core/op';
import { WgsegError } from '../core/errors';
import { numel } from '../core/dtype';
import type { GpuTensor } from '../core/op';
import type { Attrs } from '../core/attrs';
import type { HostValues, OpKernel, TensorInfo } from '../core/op';
import { pickVariant } from './variants';

/**
 * Workgroup grid for `threads` invocations of `wg` lanes, folded into 2-D when it exceeds the
 * per-dimension limit. Shaders recover the flat index as
 * `gid.x + gid.y * num_workgroups.x * WG` (see shaders/common/index.wgsl).
 */
export function linearGrid(threads: number, wg: number, max = 65535): [number, number] {
  const groups = Math.ceil(threads / wg);
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/**
 * Run one op outside a graph: infer shapes, allocate outputs from the pool, encode. The caller
 * submits (rt.read does) and releases the outputs. `variant` forces one of the op's kernel
 * variants by name (BAD_INPUT when it does not apply); constant weights are then not prepacked,
 * so the variant packs them itself, as for weights computed at run time.
 */
export function runKernel(
  rt: KernelContext,
  k: OpKernel,
  inputs: (GpuTensor | undefined)[],
  attrs: Attrs = {},
  host: HostValues = [],
  variant?: string,
): GpuTensor[] {
  const infos: (TensorInfo | undefined)[] = inputs.map((t) => t && { shape: t.shape, dtype: t.dtype });
  const outInfos = k.infer(infos, attrs, host);
  if (k.view) {
    const src = inputs[0];
    if (!src) throw new WgsegError('BAD_INPUT', `${k.op}: missing input 0`);
    return outInfos.map((o) => ({ buffer: src.buffer, shape: o.shape, dtype: o.dtype }));
  }
  const outputs = outInfos.map((o) => rt.alloc(o.shape, o.dtype));
  const impl = variant === undefined ? k : pickVariant(k, infos, attrs, rt.info, variant)!;
  if (outInfos.some((o) => numel(o.shape) > 0)) impl.encode(rt, inputs, outputs, attrs, host);
  return outputs;
}
