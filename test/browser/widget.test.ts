// <wgseg-view> in real headless Chromium: demos/widget/ (an ordinary page that loads the library
// build, dist-style wgseg-widget.js + the selfie .tflite files beside it, with one script tag) with two
// views: the fake camera (the clip of test/helpers/camera-clip.ts) blurred, and a still image
// (demos/widget/person.jpg, the drawn scene of test/helpers/widget-image.ts) cut out. Checked: ready and
// frame events, one GPUDevice and one Session for both views, the still view's mask against the drawn
// person, live attribute changes (a replace background colour read back from the screen, the model
// switched), and removal: camera tracks ended, sessions disposed, wgseg's GPU memory back to its
// baseline. Errors: no WebGPU, camera denied, a file that is not a model. Screenshot:
// test-artifacts/widget.png (docs/widget.png with WGSEG_DOCS_SCREENSHOTS=1).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WgsegViewStats } from '../../src/web/widget';
import { ROOT, saveScreenshot, SKIP_BROWSER, watchPage, type Site } from '../helpers/browser';
import { openCameraSite } from '../helpers/camera-clip';
import { personIoU, viewMessage, WIDGET_IMAGE, widgetImage } from '../helpers/widget-image';

type Sample = { mask: number[]; maskW: number; maskH: number; coverage: number; width: number; height: number };
type Seen = Record<
  string,
  {
    count: number;
    last: {
      model?: string;
      adapter?: string;
      source?: string;
      message?: string;
      ms?: Record<string, number>;
      fps?: number;
      frames?: number;
    };
  }
>;

/** Records every view's events (count and last detail per "id:type") from before the page's scripts run. */
function recordEvents(page: Page) {
  return page.addInitScript(() => {
    const seen: Record<string, { count: number; last: unknown }> = ((
      window as unknown as { __seen: typeof seen }
    ).__seen = {});
    for (const type of ['ready', 'frame', 'error'])
      document.addEventListener(type, (e) => {
        const el = e.target as HTMLElement;
        if (el.localName !== 'wgseg-view') return;
        const k = `${el.id}:${type}`;
        seen[k] = { count: (seen[k]?.count ?? 0) + 1, last: (e as CustomEvent).detail };
      });
  });
}

const seen = (page: Page) => page.evaluate(() => (window as unknown as { __seen: Seen }).__seen);
const count = async (page: Page, key: string) => (await seen(page))[key]?.count ?? 0;
const waitCount = (page: Page, key: string, n: number, timeout = 60_000) =>
  page.waitForFunction(
    ([k, n]) => ((window as unknown as { __seen: Seen }).__seen[k as string]?.count ?? 0) >= (n as number),
    [key, n] as const,
    { timeout },
  );
const stats = (page: Page): Promise<WgsegViewStats> =>
  page.evaluate(() => (customElements.get('wgseg-view') as unknown as { stats(): Promise<WgsegViewStats> }).stats());
const readMask = (page: Page, id: string): Promise<Sample> =>
  page.evaluate(
    (id) =>
      (document.getElementById(id) as unknown as { readMask(): Promise<Sample> })
        .readMask()
        .then(({ mask, maskW, maskH, coverage, width, height }) => ({ mask, maskW, maskH, coverage, width, height })),
    id,
  );
/** Polls `stats` until `ok` holds (stats() is async: page.waitForFunction would take its promise for true). */
async function statsUntil(
  page: Page,
  ok: (s: WgsegViewStats) => boolean,
  what: string,
  timeout = 30_000,
): Promise<WgsegViewStats> {
  const end = Date.now() + timeout;
  for (;;) {
    const s = await stats(page);
    if (ok(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stats: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const message = viewMessage;

describe.skipIf(!!SKIP_BROWSER)('<wgseg-view> (demos/widget) in headless Chromium', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openCameraSite();
  }, 60_000);
  afterAll(async () => {
    await site?.close();
  });

  it('the demo image is the drawn test scene', () => {
    expect(
      readFileSync(join(ROOT, WIDGET_IMAGE.path)).equals(widgetImage().jpeg),
      `${WIDGET_IMAGE.path}: regenerate with npx vite-node tools/make-widget-image.ts`,
    ).toBe(true);
  });

  it('two views: ready and frame events, one device and one session, masks, live attributes, release on removal', async () => {
    const page = await site.context.newPage();
    const { errors, logs } = watchPage(page);
    await recordEvents(page);
    await page.goto(new URL('demos/widget/', site.server.url).href);
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { __seen: Seen }).__seen;
        return (s['camera:frame'] && s['still:frame']) || s['camera:error'] || s['still:error'];
      },
      null,
      { timeout: 90_000 },
    );
    let ev = await seen(page);
    expect(ev['camera:error'], 'camera view error').toBeUndefined();
    expect(ev['still:error'], 'still view error').toBeUndefined();
    for (const id of ['camera', 'still']) {
      expect(ev[`${id}:ready`].last).toMatchObject({
        model: 'selfie (256×256)',
        source: id === 'camera' ? 'camera' : 'image',
      });
      expect(ev[`${id}:ready`].last.adapter).toMatch(/\S/);
      const { ms, frames } = ev[`${id}:frame`].last;
      for (const k of ['prep', 'model', 'composite']) expect(ms![k], `${id} ${k} ms`).toBeGreaterThanOrEqual(0);
      expect(frames).toBeGreaterThanOrEqual(1);
    }
    const both = await stats(page);
    console.log(`two views: ${JSON.stringify(both)}\n  events: ${JSON.stringify(ev)}`);
    expect(both).toMatchObject({ views: 2, devices: 1, runtimes: 1, cameraTracks: 1 });
    expect(both.sessions).toHaveLength(1);
    expect(both.sessions[0]).toMatchObject({ refs: 2 });
    expect(both.sessions[0].url).toMatch(/\/demos\/widget\/selfie_segmentation\.tflite$/);

    // the still image's mask is the drawn person; the camera's is non-trivial
    const still = await readMask(page, 'still');
    const iou = personIoU(still, widgetImage().person);
    const cam = await readMask(page, 'camera');
    console.log(
      `still image: mask ${still.maskW}x${still.maskH}, coverage ${still.coverage.toFixed(3)}, IoU with the drawn person ${iou.toFixed(3)}; camera: coverage ${cam.coverage.toFixed(3)}`,
    );
    expect(still).toMatchObject({ maskW: 256, maskH: 256, width: 256, height: 256 });
    expect(iou).toBeGreaterThan(0.85);
    expect(cam.coverage).toBeGreaterThan(0.02);
    expect(cam.coverage).toBeLessThan(0.9);
    await waitCount(page, 'camera:frame', ev['camera:frame'].count + 1); // the camera view keeps rendering
    await saveScreenshot(page, 'widget', process.env.WGSEG_DOCS_SCREENSHOTS === '1' ? ['docs/widget.png'] : [], 'body');

    // attributes take effect live: replace on a pure colour (read from the screen), then the landscape model
    let n = await count(page, 'still:frame');
    await page.evaluate(() => {
      const v = document.getElementById('still')!;
      v.setAttribute('mode', 'replace');
      v.setAttribute('background', 'rgb(0, 255, 0)');
    });
    await waitCount(page, 'still:frame', n + 1);
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))); // presented
    const png = PNG.sync.read(readFileSync(await saveScreenshot(page, 'widget-replace', [], '#still')));
    const px = (u: number, v: number) =>
      Array.from(
        png.data.subarray(
          4 * (Math.floor(v * png.height) * png.width + Math.floor(u * png.width)),
          4 * (Math.floor(v * png.height) * png.width + Math.floor(u * png.width)) + 3,
        ),
      );
    const corner = px(0.4, 0.05),
      shirt = px(0.52, 0.9);
    console.log(
      `replace on rgb(0,255,0) (${png.width}x${png.height} screenshot): background pixel ${corner}, shirt pixel ${shirt}`,
    );
    expect(Math.max(Math.abs(corner[0] - 0), Math.abs(corner[1] - 255), Math.abs(corner[2] - 0))).toBeLessThanOrEqual(
      2,
    );
    expect(shirt[2]).toBeGreaterThan(shirt[1]); // the blue shirt stays
    n = await count(page, 'still:ready');
    await page.evaluate(() => document.getElementById('still')!.setAttribute('model', 'selfie-landscape'));
    await waitCount(page, 'still:ready', n + 1);
    ev = await seen(page);
    expect(ev['still:ready'].last.model).toBe('selfie-landscape (256×144)');
    const ls = await readMask(page, 'still');
    expect(ls).toMatchObject({ maskW: 256, maskH: 144 });
    const lsIoU = personIoU(ls, widgetImage().person);
    console.log(`landscape model: mask ${ls.maskW}x${ls.maskH}, IoU with the drawn person ${lsIoU.toFixed(3)}`);
    expect(lsIoU).toBeGreaterThan(0.85);
    const switched = await stats(page);
    expect(switched.sessions.map((s) => [s.url.replace(/.*\//, ''), s.refs]).sort()).toEqual([
      ['selfie_segmentation.tflite', 1],
      ['selfie_segmentation_landscape.tflite', 1],
    ]);

    // removal: the camera goes off at once, the GPU memory when the view's frame is over; a second
    // add/remove cycle returns to the same figures (nothing accumulates)
    const gone = (views: number) =>
      statsUntil(
        page,
        (s) => s.views === views && s.sessions.length === views && s.runtimes === Math.min(1, views),
        `${views} view(s) and session(s)`,
      );
    const cycle = async () => {
      await page.evaluate(() => {
        const w = window as unknown as { __tracks: MediaStreamTrack[] };
        w.__tracks = (
          document.getElementById('camera')!.shadowRoot!.querySelector('video')!.srcObject as MediaStream
        ).getTracks();
        document.getElementById('camera')!.remove();
      });
      const tracks = await page.evaluate(() =>
        (window as unknown as { __tracks: MediaStreamTrack[] }).__tracks.map((t) => t.readyState),
      );
      return { tracks, after: await gone(1) };
    };
    const first = await cycle();
    expect(first.tracks).toEqual(['ended']);
    // the same camera view again
    n = await count(page, 'camera:frame');
    await page.evaluate(() => {
      const v = document.createElement('wgseg-view');
      Object.entries({ id: 'camera', src: 'camera', model: 'selfie', mode: 'blur' }).forEach(([k, x]) =>
        v.setAttribute(k, x),
      );
      document.querySelector('figure')!.prepend(v);
    });
    await waitCount(page, 'camera:frame', n + 1);
    const again = await stats(page);
    const second = await cycle();
    console.log(
      `GPU memory: two views ${switched.gpuBytes} B, camera removed ${first.after.gpuBytes} B, camera added again ${again.gpuBytes} B, removed again ${second.after.gpuBytes} B`,
    );
    expect(second.tracks).toEqual(['ended']);
    expect(again).toMatchObject({ views: 2, devices: 1, cameraTracks: 1 });
    expect(again.gpuBytes).toBe(switched.gpuBytes);
    for (const s of [first.after, second.after]) {
      expect(s).toMatchObject({ views: 1, devices: 1, cameraTracks: 0 });
      expect(s.sessions.map((x) => x.url.replace(/.*\//, ''))).toEqual(['selfie_segmentation_landscape.tflite']);
      expect(s.gpuBytes).toBeLessThan(switched.gpuBytes);
    }
    expect(second.after.gpuBytes).toBe(first.after.gpuBytes);
    expect(second.after.gpuBuffers).toBe(first.after.gpuBuffers);
    // the last view: everything goes (the page's baseline is no wgseg GPU memory at all)
    await page.evaluate(() => document.getElementById('still')!.remove());
    const none = await gone(0);
    console.log(`no views: ${JSON.stringify(none)}`);
    expect(none).toMatchObject({
      views: 0,
      devices: 0,
      runtimes: 0,
      cameraTracks: 0,
      viewBytes: 0,
      sessions: [],
      gpuBytes: 0,
      gpuBuffers: 0,
    });
    if (logs.length) console.log(`demos/widget console:\n  ${logs.slice(0, 20).join('\n  ')}`);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('says so inside the view: no WebGPU', async () => {
    const page = await site.context.newPage();
    await recordEvents(page);
    await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await page.goto(new URL('demos/widget/', site.server.url).href);
    await waitCount(page, 'still:error', 1, 20_000);
    expect((await seen(page))['still:error'].last.message).toMatch(/^WebGPU is not available in this browser/);
    expect(await message(page, 'camera')).toMatch(/^WebGPU is not available in this browser/);
    await page.close();
  }, 60_000);

  it('says so inside the view: camera denied, a file that is not a model (and recovers)', async () => {
    const page = await site.context.newPage();
    const { errors } = watchPage(page);
    await recordEvents(page);
    await page.addInitScript(
      () =>
        (navigator.mediaDevices.getUserMedia = () =>
          Promise.reject(new DOMException('Permission denied', 'NotAllowedError'))),
    );
    await page.goto(new URL('demos/widget/', site.server.url).href);
    await waitCount(page, 'camera:error', 1, 30_000);
    expect((await seen(page))['camera:error'].last.message).toMatch(/^Camera access was denied: allow the camera/);
    expect(await message(page, 'camera')).toMatch(/^Camera access was denied/);
    await waitCount(page, 'still:frame', 1, 60_000);
    await page.evaluate(() => document.getElementById('still')!.setAttribute('model', '../../index.html'));
    await waitCount(page, 'still:error', 1, 30_000);
    const bad = (await seen(page))['still:error'].last.message!;
    console.log(`not a model: ${bad}`);
    expect(bad).toMatch(/index\.html/);
    expect(await message(page, 'still')).toBe(bad);
    const n = await count(page, 'still:ready');
    await page.evaluate(() => document.getElementById('still')!.setAttribute('model', 'selfie'));
    await waitCount(page, 'still:ready', n + 1, 60_000);
    await waitCount(page, 'still:frame', 2, 60_000);
    expect(await message(page, 'still')).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
