// Session.create from a URL: progress (bytes loaded, the server's total) as the body streams, and
// an AbortSignal that stops the load (WgsegError 'ABORTED'), before it starts or half-way; the same
// signal on a path in Node. Served by a local HTTP server that sends the model in slow chunks.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { rng } from '../helpers/random';

const b = new OnnxBuilder({ opset: 17 });
b.output(b.node('Conv', [b.input('x', [1, 8, 8, 8]), b.init('w', rng(3).array(16 * 8 * 9), [16, 8, 3, 3])], {}));
const model = b.bytes();
const CHUNK = 1024;

let server: Server;
let url = '';
const dir = mkdtempSync(join(tmpdir(), 'wgseg-load-'));

beforeAll(async () => {
  server = createServer(async (req, res) => {
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
