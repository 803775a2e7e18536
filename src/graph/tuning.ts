import type { Attrs } from '../core/attrs';
import { BYTES, encodeHost, numel } from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { GpuTensor, OpKernel, TensorInfo, Variant } from '../core/op';
import { VERSION } from '../core/version';
import type { Runtime } from '../gpu/runtime';
import { kernelFor } from '../kernels/registry';
import { applicable, pickVariant } from '../kernels/variants';
import { nodeWhere, type Node } from './ir';
import { hostValues, type Resolved } from './shapes';

/**
 * The autotuner: for every node whose op has more than one kernel variant that applies, the
 * variant to run on this adapter. A choice is measured (each candidate timed on the node's own
 * shapes, GPU timestamps where the adapter has them, else wall clock) or read from the tuning
 * cache, keyed by wgseg's version, the adapter (vendor / architecture / device / driver), the op
 * and a shape class (burn's "anchor"): nodes of one class share one measurement.
 */

/**
 * 'cached': the cached choice, else the default variant (nothing measured: cold start as without
 * tuning); 'auto': the cached choice, else measured within the time budget (the rest run their
 * default); 'full': every node measured, whatever the cache says and however long; 'off': the
 * default variant everywhere (the first that applies), no cache.
 */
export type TuneMode = 'cached' | 'auto' | 'full' | 'off';

/** Where measured choices are kept between sessions (src/tuning-cache.ts: a JSON file in Node, IndexedDB in browsers). */
export interface TuningCache {
  get(key: string): string | undefined;
  set(key: string, choice: string): void;
}

export interface TuneOptions {
  mode?: TuneMode;
  /** most milliseconds 'auto' spends measuring in one session (default 2000) */
  budgetMs?: number;
  cache?: TuningCache;
  /** op -> variant name, forced (tests and benchmarks); overrides tuning for that op */
  force?: Record<string, string>;
}

export interface TuningChoice {
  node: string;
  op: string;
  /** the cache key */
  key: string;
  /** candidate -> best ms of the timed runs (measured choices only; a candidate that failed is absent) */
  times: Record<string, number>;
  candidates: string[];
  choice: string;
  source: 'forced' | 'default' | 'cache' | 'measured' | 'budget';
  /** the variant that ran the plan's first run while `choice` was made behind it (Variant.firstRun) */
  firstRun?: string;
}

export const DEFAULT_BUDGET_MS = 2000;
// the best of 5: on a shared or throttling device interference only ever adds time
const RUNS = 5;

// dims up to 16 exactly (kernel sizes, small channel counts), larger ones rounded up to a power of two
const pow2 = (d: number) => (d <= 16 ? d : 2 ** Math.ceil(Math.log2(d)));
const fmt = (ts: (TensorInfo | undefined)[]) =>
  ts.map((t) => (t ? `${t.shape.map(pow2).join('x')}${t.dtype}` : '-')).join(',');

/** Inputs, attributes (without the importer's opset stamp) and shape class of a node, as a key part. */
function shapeClass(k: OpKernel, infos: (TensorInfo | undefined)[], attrs: Attrs): string {
  if (k.shapeClass) return k.shapeClass(infos, attrs);
  const a = Object.entries(attrs)
    .filter(([n, v]) => n !== '__opset' && v !== undefined)
    .sort(([x], [y]) => (x < y ? -1 : 1));
  return `${fmt(infos)} ${JSON.stringify(a)}`;
}

export const tuningKey = (adapter: string, op: string, cls: string) => `${VERSION}|${adapter}|${op}|${cls}`;

interface Site {
  node: Node;
  kernel: OpKernel;
  infos: (TensorInfo | undefined)[];
  candidates: Variant[];
  key: string;
}

/**
 * Choose a variant for every node of `r`; `variants[i]` is node i's (undefined: the op has none).
 * `firstRun`, where some chosen variant names one (not when forced): the variants of the plan's
 * first run.
 */
export async function chooseVariants(
  rt: Runtime,
  r: Resolved,
  opts: TuneOptions = {},
): Promise<{ variants: (Variant | undefined)[]; choices: TuningChoice[]; firstRun?: (Variant | undefined)[] }> {
  const g = r.graph;
  const mode = opts.mode ?? 'auto';
  const budget = opts.budgetMs ?? DEFAULT_BUDGET_MS;
  const start = performance.now();
  const measured = new Map<string, { choice: string; times: Record<string, number> }>();
  const variants: (Variant | undefined)[] = [];
  const firsts: (Variant | undefined)[] = [];
  const choices: TuningChoice[] = [];
  for (const node of g.nodes) {
    const kernel = kernelFor(node.op);
    if (!kernel.variants?.length || kernel.view) {
      variants.push(undefined);
      firsts.push(undefined);
      continue;
    }
    const infos = node.inputs.map((x, i) =>
      x && !kernel.hostInputs?.includes(i)
        ? { shape: g.values.get(x)!.shape as number[], dtype: r.gpu.get(x)! }
        : undefined,
    );
    const forced = opts.force?.[node.op];
    const where = nodeWhere(g, node);
    let v: Variant;
    try {
      v = pickVariant(kernel, infos, node.attrs, rt.info, forced)!;
    } catch (e) {
      if (e instanceof WgsegError) throw new WgsegError(e.code, `${where}: ${e.message}`);
      throw e;
    }
    const candidates = applicable(kernel, infos, node.attrs, rt.info);
    const site: Site = {
      node,
      kernel,
      infos,
      candidates,
      key: tuningKey(rt.info.adapter, node.op, shapeClass(kernel, infos, node.attrs)),
    };
    const entry: TuningChoice = {
      node: node.name,
      op: node.op,
      key: site.key,
      times: {},
      candidates: candidates.map((c) => c.name),
      choice: v.name,
      source: forced ? 'forced' : 'default',
    };
    if (!forced && mode !== 'off' && candidates.length > 1) {
      const cached = mode === 'auto' || mode === 'cached' ? opts.cache?.get(site.key) : undefined;
      const hit = cached !== undefined ? candidates.find((c) => c.name === cached) : undefined;
      const prior = measured.get(site.key);
      if (hit) Object.assign(entry, { choice: hit.name, source: 'cache' });
      else if (prior) Object.assign(entry, { ...prior, source: 'measured' });
      else if (mode === 'full' || (mode === 'auto' && performance.now() - start < budget)) {
        const times = await measure(rt, r, site);
        const best = Object.entries(times).sort((a, b) => a[1] - b[1])[0];
        if (best) {
          measured.set(site.key, { choice: best[0], times });
          opts.cache?.set(site.key, best[0]);
          Object.assign(entry, { choice: best[0], times, source: 'measured' });
        }
      } else if (mode === 'auto') entry.source = 'budget'; // 'cached': a miss runs the default
      v = candidates.find((c) => c.name === entry.choice)!;
    }
    // not where forced, nor where measuring has just compiled the chosen kernel
    const quickName =
      entry.source === 'forced' || entry.source === 'measured' ? undefined : v.firstRun?.(infos, node.attrs, rt.info);
    const quick = quickName === undefined ? undefined : candidates.find((c) => c.name === quickName);
    if (quick) entry.firstRun = quick.name;
    variants.push(v);
    firsts.push(quick ?? v);
    choices.push(entry);
  }
  return { variants, choices, ...(choices.some((c) => c.firstRun) ? { firstRun: firsts } : {}) };
}

/** Best ms of RUNS timed runs of each candidate on the node's shapes (constants are the real ones). */
async function measure(rt: Runtime, r: Resolved, s: Site): Promise<Record<string, number>> {
  const g = r.graph;
  const host = hostValues(g, s.node, s.kernel);
  const outs = s.node.outputs.map((o) => ({ shape: g.values.get(o)!.shape as number[], dtype: r.gpu.get(o)! }));
  const times: Record<string, number> = {};
  for (const v of s.candidates) {
    const made: GpuTensor[] = [];
    try {
      const inputs = s.infos.map((t, i) => {
        if (!t) return undefined;
        const data = g.values.get(s.node.inputs[i])!.data;
        const p = data && v.prepack?.(rt, i, data, s.infos, s.node.attrs);
        const u = p
          ? { ...own(rt, p.data, [p.data.length], p.dtype), shape: t.shape, dtype: t.dtype, packed: p.key }
          : own(rt, data ?? filler(t), t.shape, t.dtype);
        made.push(u);
        return u;
      });
      const outputs = outs.map((o) => own(rt, null, o.shape, o.dtype));
      made.push(...outputs);
      const run = () => v.encode(rt, inputs, outputs, s.node.attrs, host);
      run(); // compiles the pipelines (lavapipe compiles at the first dispatch)
      await rt.sync();
      const ms: number[] = [];
      const best = Math.min(...Object.values(times));
      for (let i = 0; i < RUNS; i++) {
        ms.push((await rt.profile(run)).reduce((a, t) => a + t.ms, 0));
        if (ms[0] > 2 * best) break; // clearly slower than one already timed: once is enough
      }
      times[v.name] = Math.min(...ms);
    } catch (e) {
      // a candidate that cannot run here (too large, a validation error) is not chosen
      if (!(e instanceof WgsegError) || e.code === 'DEVICE_LOST') throw e;
    } finally {
      rt.submit();
      for (const t of made) rt.destroyBuffer(t.buffer);
    }
  }
  return times;
}

/**
 * A tensor in a buffer of its own (not the pool's: measuring leaves the pool as it was), holding
 * `data` when given.
 */
function own(rt: Runtime, data: ArrayLike<number> | null, shape: number[], dtype: TensorInfo['dtype']): GpuTensor {
  const bytes = encodeHost(data ?? [], dtype);
  const size = Math.max(16, Math.ceil((numel(shape) * BYTES[dtype]) / 16) * 16);
  const buffer = rt.createBuffer(size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  if (data) rt.device.queue.writeBuffer(buffer, 0, bytes, 0, Math.ceil(bytes.byteLength / 4) * 4);
  return { buffer, shape: [...shape], dtype };
}

/** Values in [-1, 1) for float inputs, zeros for integer ones (indices, sizes: always valid). */
function filler(t: TensorInfo): Float32Array {
  const n = numel(t.shape);
  const out = new Float32Array(n);
  if (t.dtype === 'f32' || t.dtype === 'f16') for (let i = 0; i < n; i++) out[i] = ((i * 2654435761) % 1000) / 500 - 1;
  return out;
}
