import type { Attrs } from '../core/attrs';
import { WgsegError } from '../core/errors';
import type { DeviceInfo, OpKernel, OpRecord, TensorInfo, Variant } from '../core/op';

/**
 * Choosing among an op's kernel variants. The default (tuning off, nothing measured) is the first
 * variant whose predicates (applies, defaultOn) hold; a measured or forced choice names one (src/graph/tuning.ts).
 */

const infos = (ts: readonly ({ shape: number[]; dtype: TensorInfo['dtype'] } | undefined)[]) =>
  ts.map((t) => t && { shape: t.shape, dtype: t.dtype });

/** The variants of `rec` that can run these inputs on this device, in default order. */
export function applicable(
  rec: OpRecord,
  inputs: (TensorInfo | undefined)[],
  attrs: Attrs,
  info: DeviceInfo,
): Variant[] {
  return (rec.variants ?? []).filter((v) => !v.applies || v.applies(inputs, attrs, info));
}

/**
 * The variant to run: `name` when given (BAD_INPUT if it does not apply here), else the first that
 * applies; undefined for a record without variants.
 */
export function pickVariant(
  rec: OpRecord,
  inputs: (TensorInfo | undefined)[],
  attrs: Attrs,
  info: DeviceInfo,
  name?: string,
): Variant | undefined {
  if (!rec.variants?.length) return undefined;
  const ok = applicable(rec, inputs, attrs, info);
  if (name !== undefined) {
    const v = ok.find((c) => c.name === name);
    if (v) return v;
    const known = rec.variants.map((c) => c.name);
    const why = known.includes(name)
      ? 'does not apply to these inputs on this device'
      : `is not one of ${known.join(', ')}`;
    throw new WgsegError(
      'BAD_INPUT',
      `${rec.op}: variant "${name}" ${why} (applicable: ${ok.map((c) => c.name).join(', ') || 'none'})`,
    );
  }
  if (!ok.length)
    throw new WgsegError(
      'UNSUPPORTED_OP',
      `${rec.op}: no kernel variant applies to inputs ${inputs.map((t) => (t ? `[${t.shape}] ${t.dtype}` : '-')).join(', ')}`,
    );
  return ok.find((v) => !v.defaultOn || v.defaultOn(info)) ?? ok[0];
}

/**
 * A record whose `encode` and `prepack` run its default variant, so that every caller that does not
 * choose (a single op, a converter) still works; the executor calls the chosen variant directly.
 */
export function withVariants(rec: OpRecord & Pick<OpKernel, 'infer'> & { variants: Variant[] }): OpKernel {
  return {
    ...rec,
    prepack: (ctx, index, data, inputs, attrs) =>
      pickVariant(rec, inputs, attrs, ctx.info)?.prepack?.(ctx, index, data, inputs, attrs),
    encode: (ctx, inputs, outputs, attrs, host) =>
      pickVariant(rec, infos(inputs), attrs, ctx.info)!.encode(ctx, inputs, outputs, attrs, host),
  };
}
