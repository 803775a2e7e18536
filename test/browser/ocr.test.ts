// The OCR demo in real headless Chromium (Debian's, WebGPU on SwiftShader): demos/ocr/?sample=1 loads
// PP-OCRv4 from the site's own assets, reads demos/ocr/sample.png (three straight lines and one turned
// by 15 degrees, drawn by test/helpers/ocr-sample.ts) and reports window.ocrDone; the test compares the
// lines with the drawn strings (character error rate), checks the page lists them with the per-stage
// times and draws the boxes, and that there are no console errors. Also: the camera path (a fake camera
// playing the same picture, one snapshot), and the message where the browser has no WebGPU.
// Screenshot: test-artifacts/ocr.png (docs/ocr.png with WGSEG_DOCS_SCREENSHOTS=1).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OcrDone } from '../../demos/ocr/main';
import { fakeCameraFlags, openSite, ROOT, saveScreenshot, SKIP_BROWSER, type Site } from '../helpers/browser';
import { sceneCer } from '../helpers/ocr-cer';
import { OCR_SAMPLE_PATH, ocrSample } from '../helpers/ocr-sample';

type W = { ocrDone?: OcrDone };
const STAGES = ['preprocess', 'det', 'boxes', 'rectify', 'rec', 'decode'] as const;
/** SwiftShader runs the two nets on the CPU through Vulkan emulation: a read of the sample takes minutes under load */
const READ_TIMEOUT = 360_000;

const sample = ocrSample();

/** Bound on the character error rate with spaces removed (PP-OCR's Chinese+ASCII model often drops the space between English words; the Node pipeline reads this image with 0 errors) */
const MAX_CER = 0.02;

/** A 4:2:0 y4m clip (BT.601 limited range, as Chromium's file camera reads it) of an RGBA image: two equal frames, odd sizes padded with the edge. */
function writeY4m(path: string, img: { data: Uint8Array; width: number; height: number }) {
  const W = img.width + (img.width & 1),
    H = img.height + (img.height & 1);
  const px = (r: number, c: number) =>
    img.data.subarray((Math.min(r, img.height - 1) * img.width + Math.min(c, img.width - 1)) * 4);
  const y = Buffer.alloc(W * H),
    u = Buffer.alloc((W / 2) * (H / 2)),
    v = Buffer.alloc((W / 2) * (H / 2));
  const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
  for (let r = 0; r < H; r++)
    for (let c = 0; c < W; c++) {
      const p = px(r, c);
      y[r * W + c] = clamp(16 + (219 / 255) * (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]));
    }
  for (let r = 0; r < H / 2; r++)
    for (let c = 0; c < W / 2; c++) {
      let R = 0,
        G = 0,
        B = 0;
      for (const [dr, dc] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]) {
        const p = px(2 * r + dr, 2 * c + dc);
        (R += p[0] / 4), (G += p[1] / 4), (B += p[2] / 4);
      }
      u[r * (W / 2) + c] = clamp(128 + (224 / 255) * (-0.168736 * R - 0.331264 * G + 0.5 * B));
      v[r * (W / 2) + c] = clamp(128 + (224 / 255) * (0.5 * R - 0.418688 * G - 0.081312 * B));
    }
  const frame = [Buffer.from('FRAME\n'), y, u, v];
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420\n`), ...frame, ...frame]));
}

/** CER of what the page read against the drawn lines, printed per line. */
function check(done: OcrDone, what: string) {
  const strict = sceneCer(done.lines, sample.lines, false),
    spaced = sceneCer(done.lines, sample.lines, true);
  const pct = (r: { errors: number; chars: number }) =>
    `${((100 * r.errors) / r.chars).toFixed(2)}% (${r.errors}/${r.chars})`;
  console.log(
    `${what} on ${done.adapter}: CER ${pct(strict)} without spaces, ${pct(spaced)} with spaces; ` +
      `ms ${STAGES.map((k) => `${k} ${done.timings[k].toFixed(0)}`).join(', ')}, total ${done.timings.total.toFixed(0)} (read ${done.reads})\n` +
      spaced.lines.map((l) => `  "${l.truth}" read "${l.read}"`).join('\n') +
      (spaced.extra.length ? `\n  extra: ${spaced.extra.join(' | ')}` : ''),
  );
  expect(strict.extra, 'lines read where nothing was drawn').toEqual([]);
  for (const l of strict.lines) expect(l.read, `"${l.truth}" was read`).not.toBe('');
  expect(strict.errors / strict.chars).toBeLessThanOrEqual(MAX_CER);
}

it('demos/ocr/sample.png is the picture test/helpers/ocr-sample.ts draws', () => {
  expect(
    readFileSync(join(ROOT, OCR_SAMPLE_PATH)).equals(sample.png),
    `${OCR_SAMPLE_PATH}: regenerate with npx vite-node tools/make-ocr-sample.ts`,
  ).toBe(true);
});

describe.skipIf(!!SKIP_BROWSER)('demos/ocr in headless Chromium', () => {
  let site: Site, dir: string;
  /** the page of the first test, which the camera test goes on with (its pipelines are compiled) */
  let sampled: { page: Page; errors: string[] } | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgseg-ocr-'));
    writeY4m(join(dir, 'sample.y4m'), PNG.sync.read(sample.png));
    site = await openSite(fakeCameraFlags(join(dir, 'sample.y4m')));
  }, 120_000);
  afterAll(async () => {
    await site?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    '?sample=1 reads the sample image: the drawn lines within the CER bound, listed with per-stage ms, boxes drawn, no console errors',
    async () => {
      const { page, errors } = await site.open('demos/ocr/?sample=1');
      sampled = undefined;
      await page.waitForFunction(() => (window as W).ocrDone || document.querySelector('#status.error'), null, {
        timeout: READ_TIMEOUT,
        polling: 1000,
      });
      const statusText = await page.locator('#status').textContent();
      const done = await page.evaluate(() => (window as W).ocrDone);
      expect(done, `status: ${statusText}`).toBeDefined();
      expect(errors).toEqual([]);
      expect([done!.width, done!.height]).toEqual([sample.width, sample.height]);
      expect(statusText).toMatch(/^adapter: \S.* · the sample image: \d+ lines? in \d+ ms$/);
      check(done!, 'sample');

      // the page lists the lines (text and confidence) and one time per stage
      const rows = await page
        .locator('#lines tbody tr')
        .evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent ?? '')));
      expect(rows.map((r) => r[1])).toEqual(done!.lines.map((l) => l.text));
      rows.forEach((r, i) => expect(r[2]).toBe(`${(100 * done!.lines[i].confidence).toFixed(1)}%`));
      const times = await page
        .locator('#timings tbody tr')
        .evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent ?? '')));
      expect(times.map((t) => t[0].split(' ')[0])).toEqual([...STAGES, 'total']);
      for (const [, ms] of times) expect(Number(ms)).toBeGreaterThan(0);

      // the boxes are drawn over the image: each read box's outline has the line's colour on the canvas
      const outlined = await page.evaluate((lines) => {
        const c = document.querySelector('#view') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        const colours = ['#e6194b', '#3cb44b', '#4363d8', '#f58231'].map((h) =>
          [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)),
        );
        return lines.map((l, i) => {
          // points along the bottom edge (the label sits above the top edge)
          const [a, b] = [l.box[3], l.box[2]];
          let hit = 0;
          for (let t = 0.1; t < 0.95; t += 0.1) {
            const x = Math.round(a[0] + t * (b[0] - a[0])),
              y = Math.round(a[1] + t * (b[1] - a[1]));
            let near = false;
            for (let dy = -2; dy <= 2; dy++)
              for (let dx = -2; dx <= 2; dx++) {
                const o = ((y + dy) * c.width + x + dx) * 4;
                if (colours[i % 4].every((v, k) => Math.abs(d[o + k] - v) < 40)) near = true;
              }
            hit += near ? 1 : 0;
          }
          return hit;
        });
      }, done!.lines);
      for (const hits of outlined)
        expect(hits, 'box outline points found in the line colour (of 9)').toBeGreaterThanOrEqual(8);

      await saveScreenshot(page, 'ocr', process.env.WGSEG_DOCS_SCREENSHOTS === '1' ? ['docs/ocr.png'] : [], 'body');
      sampled = { page, errors };
    },
    READ_TIMEOUT + 60_000,
  );

  it(
    'the camera: a snapshot of a fake camera playing the sample is read the same way (same page, second read)',
    async () => {
      expect(sampled, 'the sample test ran').toBeDefined();
      const { page, errors } = sampled!;
      await page.click('#camera');
      await page.waitForFunction(
        () =>
          (document.querySelector('#preview') as HTMLVideoElement).readyState >= 2 ||
          document.querySelector('#status.error'),
        null,
        { timeout: 30_000 },
      );
      await page.click('#snap');
      await page.waitForFunction(
        () => ((window as W).ocrDone?.reads ?? 0) >= 2 || document.querySelector('#status.error'),
        null,
        { timeout: READ_TIMEOUT, polling: 1000 },
      );
      const done = await page.evaluate(() => (window as W).ocrDone);
      expect(done?.reads, `status: ${await page.locator('#status').textContent()}`).toBe(2);
      expect(errors).toEqual([]);
      expect([done!.width, done!.height]).toEqual([
        sample.width + (sample.width & 1),
        sample.height + (sample.height & 1),
      ]);
      check(done!, 'camera snapshot');
      await page.click('#camera'); // stops it
      expect(await page.locator('#snap').isDisabled()).toBe(true);
      await page.close();
    },
    READ_TIMEOUT + 60_000,
  );

  it('without WebGPU the page says so', async () => {
    const page = await site.context.newPage();
    await page.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }),
    );
    await page.goto(new URL('demos/ocr/', site.server.url).href);
    await page.waitForSelector('#status.error', { timeout: 30_000 });
    expect(await page.locator('#status').textContent()).toMatch(/^WebGPU is not available in this browser\./);
    expect(await page.locator('#sample').isDisabled()).toBe(true);
    await page.close();
  }, 60_000);
});
