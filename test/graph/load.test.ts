// Session.create from a URL: progress (bytes loaded, the server's total) as the body streams, and
// an AbortSignal that stops the load (WgsegError 'ABORTED'), before it starts or half-way; the same
// signal on a path in Node. Served by a local HTTP server that sends the model in slow chunks.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { rng } from '../helpers/random';
import { expectClose, TOL } from '../helpers/tolerance';
import { convRef } from '../reference/conv';

const W = rng(3).array(16 * 8 * 9);
const b = new OnnxBuilder({ opset: 17 });
b.output(b.node('Conv', [b.input('x', [1, 8, 8, 8]), b.init('w', W, [16, 8, 3, 3])], {}));
const model = b.bytes();
const CHUNK = 1024;

let server: Server;
let url = '';
/** requests the server answered, by path */
const requests: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'wgseg-load-'));

beforeAll(async () => {
  server = createServer(async (req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(model.length) });
    for (let at = 0; at < model.length; at += CHUNK) {
      if (res.destroyed) return;
      res.write(model.subarray(at, at + CHUNK));
      await new Promise((r) => setTimeout(r, req.url === '/slow.onnx' ? 20 : 1));
    }
    res.end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Session.create from a URL', () => {
  it('reports progress as the body streams, up to the total, and runs the model', async () => {
    const seen: [number, number | undefined][] = [];
    const s = await Session.create(`${url}/m.onnx`, { device: await gpu(), onProgress: (l, t) => seen.push([l, t]) });
    try {
      expect(seen.length).toBeGreaterThan(2);
      expect(seen.every(([, t]) => t === model.length)).toBe(true);
      expect(seen.map(([l]) => l)).toEqual([...seen.map(([l]) => l)].sort((x, y) => x - y));
      expect(seen[seen.length - 1][0]).toBe(model.length);
      expect(s.outputs[0].shape).toEqual([1, 16, 6, 6]);
    } finally {
      s.dispose();
    }
  });

  it('an AbortSignal stops the load half-way or before it starts: ABORTED, nothing left running', async () => {
    const ctl = new AbortController();
    let loaded = 0;
    const p = Session.create(`${url}/slow.onnx`, {
      device: await gpu(),
      signal: ctl.signal,
      onProgress: (l) => {
        loaded = l;
        if (l >= 2 * CHUNK) ctl.abort();
      },
    });
    await expect(p).rejects.toMatchObject({
      code: 'ABORTED',
      message: expect.stringMatching(/slow\.onnx: loading aborted/),
    });
    expect(loaded).toBeLessThan(model.length);
    const before = new AbortController();
    before.abort(new Error('user left the page'));
    await expect(Session.create(`${url}/m.onnx`, { signal: before.signal })).rejects.toMatchObject({
      code: 'ABORTED',
      message: expect.stringMatching(/loading aborted \(user left the page\)/),
    });
  });

  it('a path in Node: progress once with the size; an aborted signal rejects', async () => {
    const path = join(dir, 'm.onnx');
    writeFileSync(path, model);
    const seen: number[] = [];
    const s = await Session.create(path, { device: await gpu(), onProgress: (l, t) => seen.push(l, t ?? -1) });
    s.dispose();
    expect(seen).toEqual([model.length, model.length]);
    const ctl = new AbortController();
    ctl.abort();
    await expect(Session.create(path, { signal: ctl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('an unreachable server is BAD_INPUT naming the URL', async () => {
    await expect(Session.create('http://127.0.0.1:9/none.onnx')).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/^http:\/\/127\.0\.0\.1:9\/none\.onnx: cannot fetch/),
    });
  });
});

/** An in-memory CacheStorage with what the loader uses (open, match, put, delete); `broken` makes open() reject. */
function fakeCaches(broken = false) {
  const stores = new Map<string, Map<string, Uint8Array>>();
  const store = (name: string) => {
    const m = stores.get(name) ?? new Map<string, Uint8Array>();
    stores.set(name, m);
    return {
      match: async (key: string) => {
        const v = m.get(key);
        return v && new Response(v.slice());
      },
      put: async (key: string, r: Response) => void m.set(key, new Uint8Array(await r.arrayBuffer())),
      delete: async (key: string) => m.delete(key),
    };
  };
  return { stores, open: async (name: string) => (broken ? Promise.reject(new Error('quota')) : store(name)) };
}

describe('Session.create with cache (Cache Storage)', () => {
  afterEach(() => void vi.unstubAllGlobals());
  const x = rng(11).array(8 * 8 * 8);
  const want = convRef({ x, xShape: [1, 8, 8, 8], w: W, wShape: [16, 8, 3, 3] }).data;
  const runs = async (s: Session) => {
    const out = await s.run({ x: { data: Float32Array.from(x), dims: [1, 8, 8, 8] } });
    const y = await Object.values(out)[0].read();
    s.dispose();
    return y;
  };
  const fetched = (path: string) => requests.filter((r) => r === path).length;

  it('the first load stores the model under its URL, the second comes from the cache without a request', async () => {
    const c = fakeCaches();
    vi.stubGlobal('caches', c);
    const u = `${url}/cached.onnx`;
    await runs(await Session.create(u, { device: await gpu(), cache: true }));
    expect(fetched('/cached.onnx')).toBe(1);
    expect(c.stores.get('wgseg-models')?.get(u)).toEqual(new Uint8Array(model));
    const seen: [number, number | undefined][] = [];
    const s = await Session.create(u, { device: await gpu(), cache: true, onProgress: (l, t) => seen.push([l, t]) });
    expect(fetched('/cached.onnx')).toBe(1);
    expect(seen).toEqual([[model.length, model.length]]);
    expectClose(await runs(s), want, TOL.f32Reduce, 'conv loaded from the cache');
    // a named cache, and none without the option
    await runs(await Session.create(`${url}/named.onnx`, { device: await gpu(), cache: 'my-models' }));
    expect(c.stores.get('my-models')?.get(`${url}/named.onnx`)).toEqual(new Uint8Array(model));
    await runs(await Session.create(`${url}/plain.onnx`, { device: await gpu() }));
    expect([...c.stores.values()].some((m) => m.has(`${url}/plain.onnx`))).toBe(false);
  });

  it('a damaged cached copy is fetched again and replaced; a cache that cannot open is skipped', async () => {
    const c = fakeCaches();
    vi.stubGlobal('caches', c);
    const u = `${url}/damaged.onnx`;
    const store = await c.open('wgseg-models');
    await store.put(u, new Response(model.slice(0, 100)));
    const s = await Session.create(u, { device: await gpu(), cache: true });
    expectClose(await runs(s), want, TOL.f32Reduce, 'conv after a damaged cache entry');
    expect(fetched('/damaged.onnx')).toBe(1);
    expect(c.stores.get('wgseg-models')?.get(u)).toEqual(new Uint8Array(model));

    vi.stubGlobal('caches', fakeCaches(true));
    expectClose(
      await runs(await Session.create(`${url}/broken.onnx`, { device: await gpu(), cache: true })),
      want,
      TOL.f32Reduce,
      'conv with a cache that cannot open',
    );
    expect(fetched('/broken.onnx')).toBe(1);
  });
});
