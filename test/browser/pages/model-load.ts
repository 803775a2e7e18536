// Session.create from a URL in the browser, driven by test/browser/model-load.test.ts through
// window.__load: the progress seen, the output of one run (compared with the f64 reference on the
// Node side), or the error's code and message.
import { Runtime } from '../../../src/gpu/runtime';
import { Session } from '../../../src/session';

export interface LoadRequest {
  url: string;
  cache?: boolean | string;
  /** aborts the load once this many bytes have arrived */
  abortAt?: number;
  x: number[];
  dims: number[];
}
export interface LoadResult {
  progress: [number, number | null][];
  y?: number[];
  error?: { name?: string; code?: string; message: string };
}

let rt: Promise<Runtime> | undefined;
async function load(req: LoadRequest): Promise<LoadResult> {
  const progress: LoadResult['progress'] = [];
  const ctl = new AbortController();
  try {
    const s = await Session.create(req.url, {
      device: await (rt ??= Runtime.create()),
      cache: req.cache,
      signal: ctl.signal,
      onProgress: (loaded, total) => {
        progress.push([loaded, total ?? null]);
        if (req.abortAt !== undefined && loaded >= req.abortAt) ctl.abort(new Error('stopped by the test'));
      },
    });
    const out = await s.run({ x: { data: Float32Array.from(req.x), dims: req.dims } });
    const y = Array.from(await Object.values(out)[0].read());
    s.dispose();
    return { progress, y };
  } catch (e) {
    const x = e as { name?: string; code?: string; message?: string };
    return { progress, error: { name: x?.name, code: x?.code, message: String(x?.message ?? e) } };
  }
}
Object.assign(window, { __load: load });
