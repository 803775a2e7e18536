import { Runtime } from '../../src/gpu/runtime';
import type { DType, HostArray } from '../../src/core/dtype';
import { runKernel } from '../../src/kernels/dispatch';
import { kernelFor } from '../../src/kernels/registry';
import type { Attrs } from '../../src/core/attrs';
import type { HostValues } from '../../src/core/op';

let rt: Promise<Runtime> | null = null;

/** One runtime per test worker; a missing adapter throws (GPU tests never pass silently). */
export function gpu(): Promise<Runtime> {
  return (rt ??= Runtime.create());
}

export interface HostTensor {
  data: ArrayLike<number>;
  shape: number[];
  dtype?: DType;
}

/** Upload inputs, run one registered op, read every output back, release everything. */
export async function runOp(op: string, inputs: (HostTensor | undefined)[], attrs: Attrs = {}, host: HostValues = []): Promise<{ data: HostArray; shape: number[] }[]> {
  const r = await gpu();
  const k = kernelFor(op);
  const ts = inputs.map((t, i) => (t && !k.hostInputs?.includes(i) ? r.upload(t.data, t.shape, t.dtype ?? 'f32') : undefined));
  const hostVals: HostValues = inputs.map((t, i) => host[i] ?? (t && k.hostInputs?.includes(i) ? Array.from(t.data) : undefined));
  const outs = runKernel(r, k, ts, attrs, hostVals);
  try {
    return await Promise.all(outs.map(async (o) => ({ data: await r.read(o), shape: o.shape })));
  } finally {
    r.release(...ts.filter((t) => t !== undefined));
    if (!k.view) r.release(...outs); // a view's output is its input's buffer
    r.submit();
  }
}
