// Loading models in real headless Chromium, served slowly (1 KB, or 16 KB of the widget's model,
// every 60 ms: XHR progress events are at least 50 ms apart) so that the download is seen in steps. The library (test/browser/pages/model-load.*, a test-only page): progress events up
// to the total, the model run against the f64 conv reference, `cache: true` storing the model in
// Cache Storage so that the second load makes no request, and an AbortSignal rejecting with ABORTED.
// The widget (the site's wgseg-widget.js on a page the test writes): a progress bar whose value
// follows the download, the model cached by default (a second visit makes no request and its mask is
// the drawn person), and cache="off" fetching again.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SELFIE_DIR } from '../../vite.widget.config';
import {
  openSite,
  ROOT,
  serveDir,
  SKIP_BROWSER,
  watchPage,
  WEBGPU_CANVAS_FLAGS,
  type Server,
  type Site,
} from '../helpers/browser';
import { OnnxBuilder } from '../helpers/onnx-build';
import { rng } from '../helpers/random';
import { expectClose, TOL } from '../helpers/tolerance';
import { personIoU, widgetImage } from '../helpers/widget-image';
import { convRef } from '../reference/conv';
import type { LoadRequest, LoadResult } from './pages/model-load';

const CHUNK = 1024;
const slow = (path: string) =>
  path.includes('/slow/') ? { bytes: path.endsWith('.tflite') ? 16 * CHUNK : CHUNK, ms: 60 } : undefined;

// a 3x3 conv, 16 -> 16 channels: 9.2 KB of weights, 10 chunks
const X_DIMS = [1, 16, 10, 10];
const W_DIMS = [16, 16, 3, 3];
const w = rng(21).array(16 * 16 * 9, -0.5, 0.5);
const x = Array.from(rng(22).array(16 * 10 * 10));
const builder = new OnnxBuilder({ opset: 17 });
builder.output(
  builder.node('Conv', [builder.input('x', X_DIMS), builder.init('w', w, W_DIMS)], { pads: [1, 1, 1, 1] }),
);
const model = builder.bytes();
const want = convRef({ x, xShape: X_DIMS, w, wShape: W_DIMS, pads: [1, 1, 1, 1] }).data;

/** Requests the page made, by URL path. */
function requestLog(page: Page): string[] {
  const paths: string[] = [];
  page.on('request', (r) => paths.push(new URL(r.url()).pathname));
  return paths;
}

describe.skipIf(!!SKIP_BROWSER)('model loading in headless Chromium', () => {
  let site: Site, pages: Server, pagesDir: string;
  beforeAll(async () => {
    pagesDir = mkdtempSync(join(tmpdir(), 'wgseg-pages-'));
    await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'test/browser/pages/vite.config.ts'].concat([
        '--outDir',
        pagesDir,
        '--emptyOutDir',
        '--logLevel',
        'warn',
      ]),
      { cwd: ROOT },
    );
    mkdirSync(join(pagesDir, 'slow'));
    writeFileSync(join(pagesDir, 'slow/conv.onnx'), model);
    writeFileSync(join(pagesDir, 'slow/abort.onnx'), model);
    pages = await serveDir(pagesDir, { chunked: slow });
    site = await openSite(WEBGPU_CANVAS_FLAGS, { chunked: slow });
  }, 180_000);
  afterAll(async () => {
    await site?.close();
    await pages?.close();
    if (pagesDir) rmSync(pagesDir, { recursive: true, force: true });
  });

  describe('Session.create(url)', () => {
    let page: Page, errors: string[], requests: string[];
    const load = (req: Omit<LoadRequest, 'x' | 'dims'>) =>
      page.evaluate((r) => (window as unknown as { __load(r: LoadRequest): Promise<LoadResult> }).__load(r), {
        ...req,
        x,
        dims: X_DIMS,
      });
    beforeAll(async () => {
      page = await site.context.newPage();
      ({ errors } = watchPage(page));
      requests = requestLog(page);
      await page.goto(new URL('test/browser/pages/model-load.html', pages.url).href);
      await page.waitForFunction(() => '__load' in window);
    });

    it('progress up to the total; cache: true keeps the model, the second load makes no request', async () => {
      const url = new URL('slow/conv.onnx', pages.url).href;
      const first = await load({ url, cache: true });
      expect(first.error).toBeUndefined();
      console.log(`progress of a ${model.length}-byte model: ${JSON.stringify(first.progress)}`);
      expect(first.progress.length).toBeGreaterThan(3);
      const loaded = first.progress.map(([l]) => l);
      expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
      expect(new Set(loaded).size).toBe(loaded.length);
      expect(first.progress.every(([, t]) => t === model.length)).toBe(true);
      expect(loaded.at(-1)).toBe(model.length);
      expectClose(first.y!, want, TOL.f32Reduce, 'conv loaded over the network');
      expect(requests.filter((p) => p === '/slow/conv.onnx')).toHaveLength(1);
      const stored = await page.evaluate(
        async (u) => (await (await caches.open('wgseg-models')).match(u))?.arrayBuffer().then((b) => b.byteLength),
        url,
      );
      expect(stored).toBe(model.length);

      const second = await load({ url, cache: true });
      expect(second.error).toBeUndefined();
      expect(second.progress).toEqual([[model.length, model.length]]);
      expectClose(second.y!, want, TOL.f32Reduce, 'conv loaded from Cache Storage');
      expect(requests.filter((p) => p === '/slow/conv.onnx')).toHaveLength(1);

      // without the option the cached copy is not used
      const third = await load({ url });
      expect(third.error).toBeUndefined();
      expect(requests.filter((p) => p === '/slow/conv.onnx')).toHaveLength(2);
      expect(errors).toEqual([]);
    });

    it('an AbortSignal stops the download half-way: ABORTED, nothing cached', async () => {
      const url = new URL('slow/abort.onnx', pages.url).href;
      const r = await load({ url, cache: true, abortAt: 2 * CHUNK });
      expect(r.error).toMatchObject({
        name: 'WgsegError',
        code: 'ABORTED',
        message: `${url}: loading aborted (stopped by the test)`,
      });
      expect(r.progress.at(-1)![0]).toBeGreaterThanOrEqual(2 * CHUNK);
      expect(r.progress.at(-1)![0]).toBeLessThan(model.length);
      const cached = await page.evaluate(async (u) => !!(await caches.match(u)), url);
      expect(cached).toBe(false);
      // the one request failure is the aborted download itself
      expect(errors).toEqual([expect.stringMatching(/^request failed: .*\/slow\/abort\.onnx \(net::ERR_ABORTED\)$/)]);
      errors.length = 0;
    });
  });

  describe('<wgseg-view>', () => {
    type Step = { loaded: number; total?: number; hidden: boolean; value: number; max: number };
    const MODEL = 'selfie_segmentation.tflite';
    const open = async (file: string, until: 'ready' | 'loaded' = 'ready') => {
      const page = await site.context.newPage();
      const watch = watchPage(page);
      const requests = requestLog(page);
      // every progress event with the view's bar as it stood then
      await page.addInitScript(() => {
        const w = window as unknown as {
          __steps: { loaded: number; total?: number }[];
          __ready: boolean;
          __loaded(): boolean;
        };
        w.__steps = [];
        document.addEventListener('progress', (e) => {
          const el = e.target as HTMLElement;
          if (el.localName !== 'wgseg-view') return;
          const bar = el.shadowRoot!.querySelector('progress')!;
          w.__steps.push({
            ...(e as unknown as CustomEvent).detail,
            hidden: bar.hidden,
            value: bar.value,
            max: bar.max,
          });
        });
        document.addEventListener('ready', () => (w.__ready = true));
        w.__loaded = () => w.__steps.some((s) => s.loaded === s.total);
        document.addEventListener('error', (e) => console.error((e as unknown as CustomEvent).detail?.message));
      });
      await page.goto(new URL(`demos/widget/${file}`, site.server.url).href);
      await page.waitForFunction(
        (until) => {
          const w = window as unknown as { __ready?: boolean; __loaded(): boolean };
          return until === 'ready' ? w.__ready : w.__loaded();
        },
        until,
        { timeout: 90_000 },
      );
      const steps = await page.evaluate(() => (window as unknown as { __steps: Step[] }).__steps);
      const barHidden = await page.evaluate(
        // after ready; an unfinished load's bar shows
        () => document.querySelector('wgseg-view')!.shadowRoot!.querySelector('progress')!.hidden,
      );
      const modelRequests = requests.filter((p) => p.endsWith(`/slow/${MODEL}`)).length;
      return { page, errors: watch.errors, steps, barHidden, modelRequests };
    };
    const mask = (page: Page) =>
      page.evaluate(() =>
        (
          document.querySelector('wgseg-view') as unknown as {
            readMask(): Promise<{ mask: number[]; maskW: number; maskH: number }>;
          }
        )
          .readMask()
          .then(({ mask, maskW, maskH }) => ({ mask, maskW, maskH })),
      );
    let size = 0;
    beforeAll(() => {
      const dir = join(site.dir, 'demos/widget');
      mkdirSync(join(dir, 'slow'), { recursive: true });
      copyFileSync(join(SELFIE_DIR, MODEL), join(dir, 'slow', MODEL));
      size = statSync(join(dir, 'slow', MODEL)).size;
      for (const [file, attrs] of [
        ['progress.html', ''],
        ['progress-nocache.html', ' cache="off"'],
      ])
        writeFileSync(
          join(dir, file),
          `<!doctype html><meta charset="utf-8"><title>progress</title><script type="module" src="./wgseg-widget.js"></script>
<wgseg-view src="./person.jpg" model="./slow/${MODEL}" mode="mask"${attrs}></wgseg-view>\n`,
        );
    });

    it('shows a progress bar that follows the download; the model is cached for the next visit; cache="off" fetches again', async () => {
      const first = await open('progress.html');
      console.log(`widget progress (${size} bytes): ${JSON.stringify(first.steps.map((s) => s.loaded))}`);
      expect(first.errors).toEqual([]);
      expect(first.modelRequests).toBe(1);
      expect(first.steps.length).toBeGreaterThan(5);
      for (const s of first.steps) expect(s).toMatchObject({ total: size, hidden: false, value: s.loaded, max: size });
      const loaded = first.steps.map((s) => s.loaded);
      expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
      expect(loaded.at(-1)).toBe(size);
      expect(first.barHidden).toBe(true);
      await first.page.close();

      const again = await open('progress.html');
      expect(again.errors).toEqual([]);
      expect(again.modelRequests).toBe(0);
      expect(again.steps).toEqual([{ loaded: size, total: size, hidden: false, value: size, max: size }]);
      const iou = personIoU(await mask(again.page), widgetImage().person);
      console.log(`the model from Cache Storage: mask IoU with the drawn person ${iou.toFixed(3)}`);
      expect(iou).toBeGreaterThan(0.85);
      await again.page.close();

      const off = await open('progress-nocache.html', 'loaded');
      expect(off.errors).toEqual([]);
      expect(off.modelRequests).toBe(1);
      expect(off.steps.length).toBeGreaterThan(5);
      await off.page.close();
    });
  });
});
