import { WgsegError } from './core/errors';
import type { ExternalData } from './import/onnx-proto';

/**
 * A model's bytes from a path (Node) or a URL: streamed with progress when asked, stopped by an
 * AbortSignal, and kept in the browser's Cache Storage when asked (`cache`), keyed by the URL.
 * Cache Storage is best effort: where it is missing (Node, an insecure page), fails or holds bytes
 * that do not parse, the model comes from the network as if there were no cache.
 */
export interface FetchOptions {
  /** called with the bytes loaded so far and the total when known (once, with the size, for a path or a cached copy) */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** stops the load: the caller's promise rejects with WgsegError('ABORTED') */
  signal?: AbortSignal;
  /** keep downloads in Cache Storage: true = the cache named MODEL_CACHE, a string = that cache; default false */
  cache?: boolean | string;
}

/** The Cache Storage cache `cache: true` uses (`caches.delete('wgseg-models')` empties it). */
export const MODEL_CACHE = 'wgseg-models';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

export const aborted = (src: string, signal?: AbortSignal) =>
  new WgsegError(
    'ABORTED',
    `${src}: loading aborted${signal?.reason instanceof Error ? ` (${signal.reason.message})` : ''}`,
  );

/**
 * Loads `src` and gives its bytes to `parse`. With `cache`, a copy in Cache Storage is used first
 * (a copy that `parse` refuses is deleted and the URL fetched again), and bytes that `parse`
 * accepted are stored for the next load.
 */
export async function loadModelBytes<T>(
  src: string,
  opts: FetchOptions,
  parse: (bytes: Uint8Array, external?: ExternalData) => T,
): Promise<T> {
  const { signal } = opts;
  if (signal?.aborted) throw aborted(src, signal);
  if (isNode && !/^(https?|data|blob):/.test(src)) {
    const path = src.startsWith('file:') ? decodeURIComponent(new URL(src).pathname) : src;
    return parse(await readPath(src, opts), await externalDataBeside(path));
  }
  const cache = await openCache(src, opts.cache);
  if (cache) {
    const hit = await cache.store
      .match(cache.key)
      .then((r) => r?.arrayBuffer())
      .catch(() => undefined);
    if (signal?.aborted) throw aborted(src, signal);
    if (hit) {
      try {
        const out = parse(new Uint8Array(hit));
        opts.onProgress?.(hit.byteLength, hit.byteLength);
        return out;
      } catch {
        await cache.store.delete(cache.key).catch(() => false); // a damaged copy: fetch it again
      }
    }
  }
  const bytes = await fetchUrl(src, opts);
  if (signal?.aborted) throw aborted(src, signal);
  const out = parse(bytes);
  await cache?.store
    .put(cache.key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }))
    .catch(() => undefined); // full or refused: the next load fetches again
  return out;
}

async function openCache(src: string, opt: FetchOptions['cache']): Promise<{ store: Cache; key: string } | undefined> {
  if (!opt || typeof caches === 'undefined') return undefined;
  try {
    const url = new URL(src, typeof location === 'undefined' ? undefined : location.href);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return { store: await caches.open(opt === true ? MODEL_CACHE : opt), key: url.href };
  } catch {
    return undefined;
  }
}

async function readPath(src: string, { signal, onProgress }: FetchOptions): Promise<Uint8Array> {
  const { readFile } = await import(/* @vite-ignore */ 'node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(src.startsWith('file:') ? new URL(src) : src, { signal }));
  } catch (e) {
    if (signal?.aborted) throw aborted(src, signal);
    throw new WgsegError('BAD_INPUT', `${src}: cannot read (${(e as Error).message})`);
  }
  onProgress?.(bytes.length, bytes.length);
  return bytes;
}

async function fetchUrl(src: string, opts: FetchOptions): Promise<Uint8Array<ArrayBuffer>> {
  const { signal, onProgress } = opts;
  if (onProgress && typeof XMLHttpRequest !== 'undefined') return xhrBytes(src, opts, onProgress);
  try {
    const res = await fetch(src, { signal });
    if (!res.ok) throw new WgsegError('BAD_INPUT', `${src}: HTTP ${res.status}`);
    const header = Number(res.headers.get('content-length'));
    const total = Number.isFinite(header) && header > 0 ? header : undefined;
    if (!res.body || !onProgress) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      onProgress?.(bytes.length, total);
      return bytes;
    }
    const chunks: Uint8Array[] = [];
    let loaded = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      onProgress(loaded, total);
    }
    const bytes = new Uint8Array(loaded);
    let at = 0;
    for (const c of chunks) bytes.set(c, (at += c.length) - c.length);
    return bytes;
  } catch (e) {
    if (signal?.aborted) throw aborted(src, signal);
    if (e instanceof WgsegError) throw e;
    throw new WgsegError('BAD_INPUT', `${src}: cannot fetch (${(e as Error).message})`);
  }
}

/**
 * In a page, progress comes from XMLHttpRequest (its events are at most 50 ms apart): Chromium
 * reports a fetch() response read through a stream reader as an aborted request (net::ERR_ABORTED
 * in DevTools) even when every byte arrived; an XHR completes cleanly.
 */
function xhrBytes(
  src: string,
  { signal }: FetchOptions,
  onProgress: NonNullable<FetchOptions['onProgress']>,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((ok, fail) => {
    const x = new XMLHttpRequest();
    const stop = () => x.abort();
    const settle = <T>(f: (v: T) => void, v: T) => (signal?.removeEventListener('abort', stop), f(v));
    let last = -1,
      total: number | undefined;
    x.onprogress = (e) => {
      total = e.lengthComputable && e.total > 0 ? e.total : undefined;
      if (e.loaded !== last) onProgress((last = e.loaded), total);
    };
    x.onload = () => {
      if (x.status < 200 || x.status > 299)
        return settle(fail, new WgsegError('BAD_INPUT', `${src}: HTTP ${x.status}`));
      const bytes = new Uint8Array(x.response as ArrayBuffer);
      if (bytes.length !== last) onProgress(bytes.length, total);
      settle(ok, bytes);
    };
    x.onerror = () => settle(fail, new WgsegError('BAD_INPUT', `${src}: cannot fetch (network error)`));
    x.onabort = () => settle(fail, aborted(src, signal));
    signal?.addEventListener('abort', stop);
    x.open('GET', src);
    x.responseType = 'arraybuffer';
    x.send();
  });
}

/**
 * Node: ONNX external data (weights past protobuf's 2 GB, written beside the model by
 * `torch.onnx.export` or `onnx.save(..., save_as_external_data=True)`) read from files in the model's
 * directory, at their offset and length. A location must stay in that directory (relative, no '..').
 */
export async function externalDataBeside(modelPath: string): Promise<ExternalData> {
  const fs = await import(/* @vite-ignore */ 'node:fs');
  const { dirname, join, isAbsolute, normalize, sep } = await import(/* @vite-ignore */ 'node:path');
  const dir = dirname(modelPath);
  return (location, offset, length) => {
    const rel = normalize(location);
    if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`))
      throw new WgsegError(
        'MALFORMED_FILE',
        `${modelPath}: external data location "${location}" leaves the model's directory`,
      );
    const file = join(dir, rel);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new WgsegError(
        'BAD_INPUT',
        `${modelPath}: external data file ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    try {
      const size = fs.fstatSync(fd).size;
      const n = length ?? size - offset;
      if (offset < 0 || n < 0 || offset + n > size)
        throw new WgsegError(
          'MALFORMED_FILE',
          `${modelPath}: external data ${file}: bytes ${offset}..${offset + n} past its end (${size} bytes)`,
        );
      const out = new Uint8Array(n);
      for (let got = 0; got < n; ) {
        const r = fs.readSync(fd, out, got, n - got, offset + got);
        if (r === 0) break;
        got += r;
      }
      return out;
    } finally {
      fs.closeSync(fd);
    }
  };
}
