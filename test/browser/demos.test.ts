// The demo pages in real headless Chromium (Debian's, WebGPU on SwiftShader): the Vite build of the
// site served from 127.0.0.1, each page driven until it reports results, no console errors, and a
// screenshot of each in test-artifacts/ (WGSEG_DOCS_SCREENSHOTS=1 also refreshes docs/rectify.png).
import { readdirSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSite, ROOT, saveScreenshot, SKIP_BROWSER, type Site } from '../helpers/browser';

const demos = readdirSync(`${ROOT}/demos`, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`${ROOT}/demos/${d.name}/index.html`))
  .map((d) => d.name);

describe.skipIf(!!SKIP_BROWSER)('demos in headless Chromium', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openSite();
  }, 60_000);
  afterAll(async () => site?.close());

  it('the root index.html links every demo, and each link loads', async () => {
    const { page, errors } = await site.open('');
    const hrefs = await page.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    for (const name of demos) {
      expect(hrefs, `link to demos/${name}/`).toContain(`demos/${name}/`);
      const r = await page.request.get(new URL(`demos/${name}/`, site.server.url).href);
      expect(r.status(), `demos/${name}/`).toBe(200);
    }
    await saveScreenshot(page, 'index');
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('demos/kernels runs kernels on the browser adapter and lists their times', async () => {
    const only = ['depthwise', 'grid_sample', 'resize'];
    const { page, errors } = await site.open(`demos/kernels/?only=${only.join(',')}&runs=1`);
    await page.click('#run');
    await page.waitForFunction(
      () => (window as { benchDone?: boolean }).benchDone || document.querySelector('#status.error'),
      null,
      { timeout: 45_000 },
    );
    expect(errors).toEqual([]);
    const status = await page.locator('#status').textContent();
    expect(status).toMatch(/^adapter: \S.* \(timestamp-query: (true|false), shader-f16: (true|false)\)$/);
    const rows = await page
      .locator('#rows tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent ?? '')));
    expect(rows.map((r) => only.find((w) => r[0].includes(w)))).toEqual(only);
    for (const [, ms, rate] of rows) {
      expect(Number(ms)).toBeGreaterThan(0);
      expect(rate).toMatch(/^\d+\.\d\d (GB|GFLOP)\/s$/);
    }
    await saveScreenshot(page, 'kernels');
    await page.close();
  }, 60_000);

  it('demos/rectify loads the STN through Session and classifies the rectified digits', async () => {
    const { page, errors, logs } = await site.open('demos/rectify/?seed=1&live=0');
    await page.waitForFunction(
      () => (window as { rectifyReady?: boolean }).rectifyReady || document.querySelector('#status.error'),
      null,
      { timeout: 45_000 },
    );
    expect(errors).toEqual([]);
    expect(await page.locator('#status').textContent()).toMatch(/^adapter: \S/);

    // 12 tiles: the distorted input with the STN's box, the rectified view, "label L → predicted P"
    const tiles = await page.locator('#tiles .tile').evaluateAll((els) =>
      els.map((el) => {
        const lit = (c: HTMLCanvasElement) => {
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) n += d[i] > 100 ? 1 : 0; // white digit pixels (the green box has red 0x33)
          return n / (c.width * c.height);
        };
        const [input, rect] = Array.from(el.querySelectorAll('canvas'));
        return { caption: el.querySelector('div')!.textContent ?? '', input: lit(input), rect: lit(rect) };
      }),
    );
    expect(tiles).toHaveLength(12);
    let right = 0;
    for (const t of tiles) {
      const m = /^label (\d) → predicted (\d)$/.exec(t.caption);
      expect(m, t.caption).not.toBeNull();
      right += m![1] === m![2] ? 1 : 0;
      expect(t.input, 'distorted digit drawn').toBeGreaterThan(0.01);
      expect(t.rect, 'rectified view drawn').toBeGreaterThan(0.03);
    }
    // the model's error rate on distorted test digits is 3.5% (models/stn-mnist/metrics.json); seed 1 gives 11/12
    expect(right).toBeGreaterThanOrEqual(9);
    expect(await page.locator('#tilestats').textContent()).toMatch(new RegExp(`^ ${right}/12 right; \\d+\\.\\d ms`));
    // "Your digit": one test digit through the second session (batch 1)
    expect(await page.locator('#pred').textContent()).toMatch(/^predicted \d · \d+\.\d ms$/);

    if (logs.length) console.log(`demos/rectify console:\n  ${logs.join('\n  ')}`);
    await saveScreenshot(
      page,
      'rectify',
      process.env.WGSEG_DOCS_SCREENSHOTS === '1' ? ['docs/rectify.png'] : [],
      'body',
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
