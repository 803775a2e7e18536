// Device loss in real headless Chromium (WebGPU on SwiftShader): a test-only page
// (test/browser/pages/device-loss.*, built here with its own Vite config, never part of the site)
// loses the device between runs, while a run is submitted, while a read-back is pending, and on a
// caller's device. Outputs are compared with the float64 reference; errors by code and message.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeChromium,
  launchChromium,
  ROOT,
  serveDir,
  SKIP_BROWSER,
  watchPage,
  type Server,
} from '../helpers/browser';
import { smallNet } from '../helpers/small-net';
import { expectClose, TOL } from '../helpers/tolerance';

interface Result {
  adapter: string;
  outs: Record<string, number[]>;
  errors: Record<string, { name?: string; code?: string; message: string }>;
  newDevice: boolean;
  generation: number;
}

describe.skipIf(!!SKIP_BROWSER)('device loss in headless Chromium', () => {
  let dir: string, server: Server, context: BrowserContext;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgseg-pages-'));
    const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
    await promisify(execFile)(
      process.execPath,
      [vite, 'build', '--config', 'test/browser/pages/vite.config.ts', '--outDir', dir, '--emptyOutDir'],
      { cwd: ROOT },
    );
    server = await serveDir(dir);
    context = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    if (context) await closeChromium(context);
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects the run or read in flight with DEVICE_LOST and recovers on the next run', async () => {
    const page = await context.newPage();
    const { errors } = watchPage(page);
    await page.goto(new URL('test/browser/pages/device-loss.html', server.url).href);
    await page.waitForFunction(
      () => (window as { __deviceLoss?: unknown }).__deviceLoss || document.querySelector('#status.error'),
      null,
      { timeout: 90_000 },
    );
    const status = await page.locator('#status').textContent();
    expect(status).toBe('done');
    const r = (await page.evaluate(() => (window as unknown as { __deviceLoss: unknown }).__deviceLoss)) as Result;
    console.log(`device-loss page on ${r.adapter}: ${Object.keys(r.outs).length} outputs checked`);
    const net = smallNet();
    for (const [label, out] of Object.entries(r.outs)) expectClose(out, net.want, TOL.f32Reduce, label);
    expect(r.newDevice).toBe(true);
    expect(r.generation).toBe(3);
    const lost = (m: RegExp) =>
      expect.objectContaining({ name: 'WgsegError', code: 'DEVICE_LOST', message: expect.stringMatching(m) });
    expect(r.errors.staleRead).toEqual(
      lost(/tensor from a GPU device that was lost; its data is gone: run the session again/),
    );
    expect(r.errors.midRun).toEqual(
      lost(/^GPU device lost \(destroyed.*\) during a run of test\.onnx; the next Session\.run recreates the device/),
    );
    expect(r.errors.midRead).toEqual(lost(/^GPU device lost \(destroyed.*\) while reading a \[1,2,8,8\] f32 tensor/));
    expect(r.errors.callerDevice).toEqual(lost(/the device was given by the caller, so wgseg cannot recreate it/));
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
