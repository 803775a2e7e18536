// The soak: many inferences of one session, then many Session create/dispose cycles, watching what
// wgseg holds. Used by `npm run soak` (bench/soak.ts prints the figures) and test/bench/soak.test.ts.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { getDevice, gpuMemory, unet, type GpuMemory, type NamedTensor, type Session } from '../src/index';
import { PipelineCache } from '../src/internal';

/** A small U-Net (width 4, depth 2, 3x32x32 -> 2x32x32; BatchNorm folded) with seeded weights. */
export function soakModel() {
  const m = unet({ channels: 3, classes: 2, width: 4, depth: 2, inputHeight: 32, inputWidth: 32, batch: 1 });
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const weights = new Map<string, NamedTensor>();
  for (const [name, shape] of m.params) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = n / shape[0];
    // conv weights ~ U(-1, 1) / sqrt(fan-in); BatchNorm near identity, so activations stay O(1)
    const init = name.endsWith('running_var')
      ? () => 1 + 0.2 * rand()
      : name.endsWith('running_mean') || name.endsWith('bias')
        ? () => 0.1 * rand()
        : shape.length === 1
          ? () => 1 + 0.2 * rand()
          : () => rand() / Math.sqrt(fanIn);
    weights.set(name, { dtype: 'F32', shape, data: Float32Array.from({ length: n }, init) });
  }
  const input = Float32Array.from({ length: 3 * 32 * 32 }, () => rand());
  return { model: m.load(weights, 'soak.safetensors'), input, dims: [1, 3, 32, 32] };
}

let gcFn: (() => void) | null = null;
/** A full garbage collection (V8's gc, reachable without --expose-gc through a fresh context). */
export function collect(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = (globalThis as { gc?: () => void }).gc ?? (runInNewContext('gc') as () => void);
  }
  gcFn();
}

/**
 * Collect until the heap settles: the npm `webgpu` package keeps a WeakRef per GPUBuffer that a
 * FinalizationRegistry callback drops only after the buffer is collected, in a later task.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((r) => setTimeout(r, 20));
  }
  collect();
}

export interface SoakPoint {
  /** wgseg's live GPU buffers (pool, plans, constants, staging) */
  gpu: GpuMemory;
  /** the session's pool, when one session runs (runs phase) */
  pool?: { allocatedBytes: number; buffers: number };
  /** compute pipelines cached on the device */
  pipelines: number;
  /** V8 heap used after a full GC, bytes */
  heap: number;
}

export interface SoakResult {
  adapter: string;
  runs: number;
  cycles: number;
  run: { before: SoakPoint; after: SoakPoint; ms: number };
  cycle: { before: SoakPoint; after: SoakPoint; ms: number };
  /** first output value of the first and last run (same input: must agree) */
  first: number[];
  last: number[];
}

async function point(s?: Session): Promise<SoakPoint> {
  await settle();
  const device = await getDevice();
  const st = s?.rt.pool.stats();
  return {
    gpu: gpuMemory(),
    pool: st && { allocatedBytes: st.allocatedBytes, buffers: st.buffers },
    pipelines: PipelineCache.for(device).size,
    heap: process.memoryUsage().heapUsed,
  };
}

async function inferOnce(s: Session, input: Float32Array, dims: number[]): Promise<Float32Array> {
  const out = await s.run({ [s.inputs[0].name]: { data: input, dims } });
  const t = Object.values(out)[0];
  const v = (await t.read()) as Float32Array;
  for (const x of Object.values(out)) x.dispose();
  return v;
}

/**
 * `runs` inferences of one session (each read back and disposed), then `cycles` times: create a
 * session (its own runtime, as by default), run it once, read, dispose. Baselines are taken after
 * the warm-up of each (pipelines compiled, pools at their working size; the session's second run,
 * where the chosen kernels replace any first-run ones).
 */
export async function soak(
  runs: number,
  cycles: number,
  onProgress?: (phase: string, i: number) => void,
): Promise<SoakResult> {
  const { model, input, dims } = soakModel();
  const s = await model.session();
  const first = Array.from((await inferOnce(s, input, dims)).slice(0, 4));
  await inferOnce(s, input, dims); // first-run kernels (Variant.firstRun) give way at the second run
  const runBefore = await point(s);
  let t0 = performance.now();
  let last: number[] = first;
  for (let i = 0; i < runs; i++) {
    const v = await inferOnce(s, input, dims);
    if (i === runs - 1) last = Array.from(v.slice(0, 4));
    if (onProgress && i % 100 === 99) onProgress('runs', i + 1);
  }
  const runMs = performance.now() - t0;
  const runAfter = await point(s);
  s.dispose();

  const cycleOnce = async () => {
    const c = await model.session();
    await inferOnce(c, input, dims);
    c.dispose();
  };
  await cycleOnce();
  const cycleBefore = await point();
  t0 = performance.now();
  for (let i = 0; i < cycles; i++) {
    await cycleOnce();
    if (onProgress && i % 100 === 99) onProgress('cycles', i + 1);
  }
  const cycleMs = performance.now() - t0;
  const cycleAfter = await point();
  return {
    adapter: s.rt.info.adapter,
    runs,
    cycles,
    run: { before: runBefore, after: runAfter, ms: runMs },
    cycle: { before: cycleBefore, after: cycleAfter, ms: cycleMs },
    first,
    last,
  };
}
