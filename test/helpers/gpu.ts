import { Runtime } from '../../src/gpu/runtime';
import type { DType, HostArray } from '../../src/core/dtype';
import { runKernel } from '../../src/kernels/dispatch';
import { kernelFor } from '../../src/kernels/registry';
import { applicable } from '../../src/kernels/variants';
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

/**
 * Upload inputs, run one registered op, read every output back, release everything. `opts.variant`
 * forces one of the op's kernel variants (see `variantsOf`); `opts.rt` runs on another runtime than
 * the worker's default one.
 */
export async function runOp(
  op: string,
  inputs: (HostTensor | undefined)[],
  attrs: Attrs = {},
  host: HostValues = [],
  opts: RunOpOptions = {},
): Promise<{ data: HostArray; shape: number[] }[]> {
  const r = opts.rt ?? (await gpu());
  const k = kernelFor(op);
  const ts = inputs.map((t, i) =>
    t && !k.hostInputs?.includes(i) ? r.upload(t.data, t.shape, t.dtype ?? 'f32') : undefined,
  );
  const hostVals: HostValues = inputs.map(
    (t, i) => host[i] ?? (t && k.hostInputs?.includes(i) ? Array.from(t.data) : undefined),
  );
  const outs = runKernel(r, k, ts, attrs, hostVals, opts.variant);
  try {
    return await Promise.all(outs.map(async (o) => ({ data: await r.read(o), shape: o.shape })));
  } finally {
    r.release(...ts.filter((t) => t !== undefined));
    if (!k.view) r.release(...outs); // a view's output is its input's buffer
    r.submit();
  }
}

export interface RunOpOptions {
  /** force this kernel variant of the op (BAD_INPUT where it does not apply) */
  variant?: string;
  /** the runtime to run on (default: `gpu()`) */
  rt?: Runtime;
}

/** Names of the kernel variants of `op` that apply to these inputs on `rt` (default `gpu()`; empty: the op has none). */
export async function variantsOf(
  op: string,
  inputs: (HostTensor | undefined)[],
  attrs: Attrs = {},
  rt?: Runtime,
): Promise<string[]> {
  const r = rt ?? (await gpu());
  const infos = inputs.map((t) => t && { shape: t.shape, dtype: t.dtype ?? ('f32' as DType) });
  return applicable(kernelFor(op), infos, attrs, r.info).map((v) => v.name);
}

/**
 * The adapters a variant test runs on in this process: Dawn serves one adapter per process (the
 * first one asked for wins), so each test process has one. `npm test` runs the variant tests twice:
 * on the default adapter (lavapipe) and in the 'swiftshader' project (vite.config.ts,
 * WGSEG_ADAPTER=swiftshader). Named by Dawn's description of the adapter.
 */
export async function adapters(): Promise<[string, Runtime][]> {
  const rt = await gpu();
  return [[rt.info.adapter, rt]];
}
