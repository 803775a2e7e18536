import { gpuMemory } from '../gpu/memory';
import { Runtime } from '../gpu/runtime';
import { Compositor } from './composite';
import { loadSegModel, type SegModel } from './seg-model';

/**
 * What every <wgseg-view> on a page shares: one Runtime (one GPUDevice, buffer pool and pipeline
 * cache), one Compositor per canvas format, and one Session per model URL, each reference-counted.
 * When the last view lets go, the sessions are disposed and the runtime's pool is destroyed.
 */
interface Shared {
  rt: Runtime;
  refs: number;
  compositors: Map<GPUTextureFormat, Compositor>;
  models: Map<string, { model: Promise<SegModel>; refs: number; progress: Set<Progress> }>;
}

let shared: { value: Promise<Shared>; refs: number } | null = null;

/** Take a reference on the shared runtime (created on the first call). */
export async function acquireRuntime(): Promise<Runtime> {
  if (!shared) {
    const value = Runtime.create().then((rt) => ({ rt, refs: 0, compositors: new Map(), models: new Map() }) as Shared);
    shared = { value, refs: 0 };
    value.catch(() => shared?.value === value && (shared = null));
  }
  const s = shared;
  s.refs++;
  try {
    return (await s.value).rt;
  } catch (e) {
    s.refs--;
    throw e;
  }
}

/** Drop a reference; the last one disposes the compositors, any remaining sessions and the pool. */
export function releaseRuntime(): void {
  const s = shared;
  if (!s || --s.refs > 0) return;
  shared = null;
  void s.value.then(
    (v) => {
      for (const c of v.compositors.values()) c.dispose();
      for (const m of v.models.values())
        void m.model.then(
          (x) => x.session.dispose(),
          () => {},
        );
      v.rt.dispose();
    },
    () => {},
  );
}

async function current(): Promise<Shared> {
  if (!shared) throw new Error('wgseg: the shared runtime was released');
  return shared.value;
}

export async function compositorFor(format: GPUTextureFormat): Promise<Compositor> {
  const s = await current();
  let c = s.compositors.get(format);
  if (c && c.device !== s.rt.device) c.dispose(), (c = undefined); // made before a device loss
  if (!c) s.compositors.set(format, (c = new Compositor(s.rt.device, format)));
  return c;
}

type Progress = (loaded: number, total: number | undefined) => void;

/**
 * Take a reference on the session for `url` (loaded on the first call, kept in Cache Storage as
 * `cache` says); `name` labels it in messages; `onProgress` hears the download, also one that
 * another view started.
 */
export async function acquireModel(
  url: string,
  name: string,
  cache: boolean | string,
  onProgress?: Progress,
): Promise<SegModel> {
  const s = await current();
  let entry = s.models.get(url);
  if (!entry) {
    const progress = new Set<Progress>();
    const model = loadSegModel(s.rt, url, name, { cache, onProgress: (l, t) => progress.forEach((f) => f(l, t)) });
    entry = { model, refs: 0, progress };
    s.models.set(url, entry);
    model.catch(() => s.models.get(url)?.model === model && s.models.delete(url));
  }
  entry.refs++;
  if (onProgress) entry.progress.add(onProgress);
  try {
    return await entry.model;
  } catch (e) {
    entry.refs--;
    throw e;
  } finally {
    if (onProgress) entry.progress.delete(onProgress);
  }
}

/** Drop a reference on the session for `url`; the last one disposes it. */
export function releaseModel(url: string): void {
  const s = shared;
  if (!s) return;
  void s.value.then(
    (v) => {
      const entry = v.models.get(url);
      if (!entry || --entry.refs > 0) return;
      v.models.delete(url);
      void entry.model.then(
        (m) => m.session.dispose(),
        () => {},
      );
    },
    () => {},
  );
}

export interface SharedStats {
  /** runtimes (= GPUDevices) held by views: 0 or 1 */
  runtimes: number;
  devices: number;
  adapter: string;
  /** loaded sessions by model URL, with how many views use each and their planned intermediate bytes */
  sessions: { url: string; refs: number; peakBytes: number }[];
  /** the shared runtime's buffer pool */
  pool: { allocatedBytes: number; inUseBytes: number; buffers: number };
  /** every GPU buffer wgseg holds in this page (pool, planned intermediates, weights, the views' buffers): gpuMemory() */
  gpuBytes: number;
  gpuBuffers: number;
}

export async function sharedStats(): Promise<SharedStats> {
  const v = shared ? await shared.value.catch(() => null) : null;
  const mem = gpuMemory();
  if (!v)
    return {
      runtimes: 0,
      devices: 0,
      adapter: '',
      sessions: [],
      pool: { allocatedBytes: 0, inUseBytes: 0, buffers: 0 },
      gpuBytes: mem.bytes,
      gpuBuffers: mem.buffers,
    };
  const sessions = [];
  for (const [url, e] of v.models) {
    const m = await e.model.catch(() => null);
    if (m) sessions.push({ url, refs: e.refs, peakBytes: m.session.plannedPeakBytes ?? 0 });
  }
  const p = v.rt.pool.stats();
  return {
    runtimes: 1,
    devices: new Set([v.rt.device]).size,
    adapter: v.rt.info.adapter,
    sessions,
    pool: { allocatedBytes: p.allocatedBytes, inUseBytes: p.inUseBytes, buffers: p.buffers },
    gpuBytes: mem.bytes,
    gpuBuffers: mem.buffers,
  };
}
