// <wgseg-view> recovers from a lost device on its own (demos/widget/ in headless Chromium, the fake
// camera view and the still image view sharing one device): after device.destroy() both views say
// so ('devicelost' event, a message over the view), move to a new device, fire 'ready' again and
// keep rendering; the still view's mask is again the drawn person (IoU against the scene's person
// pixels, as in test/browser/widget.test.ts).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WgsegViewStats } from '../../src/web/widget';
import { SKIP_BROWSER, watchPage, type Site } from '../helpers/browser';
import { openCameraSite } from '../helpers/camera-clip';
import { personIoU, viewMessage, widgetImage } from '../helpers/widget-image';

type Seen = Record<string, { count: number; last: { message?: string; code?: string } }>;
type Sample = { mask: number[]; maskW: number; maskH: number };

/** Before the page's scripts: record the views' events and keep every GPUDevice the page makes. */
function instrument(page: Page) {
  return page.addInitScript(() => {
    const w = window as unknown as { __seen: Record<string, { count: number; last: unknown }>; __devices: GPUDevice[] };
    w.__seen = {};
    w.__devices = [];
    for (const type of ['ready', 'frame', 'error', 'devicelost'])
      document.addEventListener(type, (e) => {
        const el = e.target as HTMLElement;
        if (el.localName !== 'wgseg-view') return;
        const k = `${el.id}:${type}`;
        w.__seen[k] = { count: (w.__seen[k]?.count ?? 0) + 1, last: (e as CustomEvent).detail };
      });
    const request = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, desc?: GPUDeviceDescriptor) {
      const d = await request.call(this, desc);
      w.__devices.push(d);
      return d;
    };
  });
}

const seen = (page: Page) => page.evaluate(() => (window as unknown as { __seen: Seen }).__seen);
const count = async (page: Page, key: string) => (await seen(page))[key]?.count ?? 0;
const waitCount = (page: Page, key: string, n: number, timeout = 90_000) =>
  page.waitForFunction(
    ([k, n]) => ((window as unknown as { __seen: Seen }).__seen[k as string]?.count ?? 0) >= (n as number),
    [key, n] as const,
    { timeout },
  );
const message = viewMessage;
const readMask = (page: Page, id: string): Promise<Sample> =>
  page.evaluate(
    (id) =>
      (document.getElementById(id) as unknown as { readMask(): Promise<Sample> })
        .readMask()
        .then(({ mask, maskW, maskH }) => ({ mask, maskW, maskH })),
    id,
  );

describe.skipIf(!!SKIP_BROWSER)('<wgseg-view> device loss in headless Chromium', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openCameraSite();
  }, 60_000);
  afterAll(async () => {
    await site?.close();
  });

  it('both views say the device was lost, recover onto a new one and render the right mask again', async () => {
    const page = await site.context.newPage();
    const { errors, logs } = watchPage(page);
    await instrument(page);
    await page.goto(new URL('demos/widget/', site.server.url).href);
    await waitCount(page, 'camera:frame', 1);
    await waitCount(page, 'still:frame', 1);
    expect(await page.evaluate(() => (window as unknown as { __devices: GPUDevice[] }).__devices.length)).toBe(1);
    const ready = { camera: await count(page, 'camera:ready'), still: await count(page, 'still:ready') };

    await page.evaluate(() => (window as unknown as { __devices: GPUDevice[] }).__devices[0].destroy());
    for (const id of ['camera', 'still']) await waitCount(page, `${id}:devicelost`, 1);
    const ev = await seen(page);
    for (const id of ['camera', 'still'])
      expect(ev[`${id}:devicelost`].last).toMatchObject({
        code: 'DEVICE_LOST',
        message: expect.stringMatching(/^The GPU device was lost \((destroyed.*|replaced)\); recovering…$/),
      });
    expect(ev['camera:devicelost'].last.message! + ev['still:devicelost'].last.message!).toMatch(/\(destroyed/);

    for (const id of ['camera', 'still'] as const) await waitCount(page, `${id}:ready`, ready[id] + 1);
    const frames = await count(page, 'camera:frame');
    await waitCount(page, 'camera:frame', frames + 2); // the camera view keeps rendering on the new device
    expect(await message(page, 'camera')).toBe('');
    expect(await message(page, 'still')).toBe('');
    const still = await readMask(page, 'still');
    const iou = personIoU(still, widgetImage().person);
    const st = (await page.evaluate(() =>
      (customElements.get('wgseg-view') as unknown as { stats(): Promise<WgsegViewStats> }).stats(),
    )) as WgsegViewStats;
    const devices = await page.evaluate(() => (window as unknown as { __devices: GPUDevice[] }).__devices.length);
    console.log(
      `after the loss: ${devices} devices requested, stats ${JSON.stringify(st)}, still mask IoU ${iou.toFixed(3)}; events ${JSON.stringify(await seen(page))}`,
    );
    expect(devices).toBe(2);
    expect(st).toMatchObject({ views: 2, devices: 1, runtimes: 1 });
    expect(st.sessions).toHaveLength(1);
    expect(iou).toBeGreaterThan(0.85);
    expect(await count(page, 'camera:error')).toBe(0);
    expect(await count(page, 'still:error')).toBe(0);
    expect(errors, logs.join('\n')).toEqual([]);
    await page.close();
  }, 180_000);
});
