import type { TuningCache } from './graph/tuning';

/**
 * Where the autotuner's choices persist between sessions: a JSON file under the user's cache folder
 * in Node (`$WGSEG_TUNING_CACHE`, else `$XDG_CACHE_HOME/wgseg/tuning.json`, else
 * `~/.cache/wgseg/tuning.json`), IndexedDB (database "wgseg", store "tuning") in a browser. A
 * missing, unreadable or corrupt cache is an empty one, and a cache that cannot be written is
 * skipped: tuning then measures again next time, nothing fails. Keys carry wgseg's version and the
 * adapter, so a cache from another version or GPU is never read (only missed).
 */

export interface StoredTuning extends TuningCache {
  /** where it lives, for messages ('memory' when nothing persists) */
  readonly where: string;
  /** write what `set` added since opening (merged with what another process wrote meanwhile) */
  save(): Promise<void>;
}

const FORMAT = 'wgseg-tuning-1';
const isNode = typeof process !== 'undefined' && !!process.versions?.node;

class Entries {
  readonly added = new Map<string, string>();
  constructor(readonly entries: Map<string, string>) {}
  get(key: string) {
    return this.entries.get(key);
  }
  set(key: string, choice: string) {
    this.entries.set(key, choice);
    this.added.set(key, choice);
  }
}

/** Parse a cache file's text; anything malformed reads as empty. */
export function parseTuningFile(text: string): Map<string, string> {
  try {
    const j = JSON.parse(text) as { format?: unknown; entries?: unknown };
    if (j?.format !== FORMAT || typeof j.entries !== 'object' || j.entries === null) return new Map();
    return new Map(
      Object.entries(j.entries as Record<string, unknown>).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    );
  } catch {
    return new Map();
  }
}

/** The default cache file in Node, or null when caching is off (`WGSEG_TUNING_CACHE=off`). */
export async function defaultTuningPath(): Promise<string | null> {
  const env = process.env.WGSEG_TUNING_CACHE;
  if (env === 'off' || env === '0') return null;
  if (env) return env;
  const { homedir } = await import(/* @vite-ignore */ 'node:os');
  const { join } = await import(/* @vite-ignore */ 'node:path');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wgseg', 'tuning.json');
}

async function fileCache(path: string): Promise<StoredTuning> {
  const fs = await import(/* @vite-ignore */ 'node:fs/promises');
  const { dirname } = await import(/* @vite-ignore */ 'node:path');
  const read = async () => parseTuningFile(await fs.readFile(path, 'utf8').catch(() => ''));
  const e = new Entries(await read());
  return {
    where: path,
    get: (k) => e.get(k),
    set: (k, c) => e.set(k, c),
    async save() {
      if (!e.added.size) return;
      try {
        const merged = Object.fromEntries([...(await read()), ...e.added]);
        await fs.mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        await fs.writeFile(tmp, `${JSON.stringify({ format: FORMAT, entries: merged }, null, 1)}\n`);
        await fs.rename(tmp, path);
        e.added.clear();
      } catch {
        // a read-only home or a full disk: the choices are measured again next time
      }
    },
  };
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((ok, fail) => ((r.onsuccess = () => ok(r.result)), (r.onerror = () => fail(r.error))));
}

async function indexedDbCache(): Promise<StoredTuning> {
  const open = indexedDB.open('wgseg', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('tuning');
  const db = await request(open);
  const store = (mode: IDBTransactionMode) => db.transaction('tuning', mode).objectStore('tuning');
  const [keys, vals] = await Promise.all([
    request(store('readonly').getAllKeys()),
    request(store('readonly').getAll()),
  ]);
  const e = new Entries(
    new Map(keys.map((k, i) => [String(k), vals[i]]).filter((x): x is [string, string] => typeof x[1] === 'string')),
  );
  return {
    where: 'IndexedDB wgseg/tuning',
    get: (k) => e.get(k),
    set: (k, c) => e.set(k, c),
    async save() {
      const s = store('readwrite');
      await Promise.all([...e.added].map(([k, c]) => request(s.put(c, k))));
      e.added.clear();
    },
  };
}

/** An in-memory cache (nothing persists). */
export function memoryTuningCache(): StoredTuning {
  const e = new Entries(new Map());
  return { where: 'memory', get: (k) => e.get(k), set: (k, c) => e.set(k, c), save: async () => {} };
}

/**
 * The platform's tuning cache: `path` (Node) overrides the default file; a failure to open it gives
 * an in-memory one.
 */
export async function openTuningCache(path?: string): Promise<StoredTuning> {
  try {
    if (isNode) {
      const p = path ?? (await defaultTuningPath());
      return p ? await fileCache(p) : memoryTuningCache();
    }
    if (typeof indexedDB !== 'undefined') return await indexedDbCache();
  } catch {
    // private browsing without IndexedDB, an unreadable folder...
  }
  return memoryTuningCache();
}
