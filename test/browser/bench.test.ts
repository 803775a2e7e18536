// demos/bench in real headless Chromium (SwiftShader): a small subset of the peer benchmark, wgseg
// and onnxruntime-web's WebGPU EP on the page's adapter; the table, chart, per-node timeline and the
// JSON (the same row schema as `npm run bench:peers --json`) are checked; screenshot
// test-artifacts/bench.png (WGSEG_DOCS_SCREENSHOTS=1 also docs/bench.png).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowProblems, ROW_KEYS, type Row } from '../../bench/peers/harness';
import { openSite, saveScreenshot, SKIP_BROWSER, type Site } from '../helpers/browser';

const MODELS = ['conv3x3', 'resize-x8'];
const ENGINES = ['wgseg', 'ort-webgpu'];

describe.skipIf(!!SKIP_BROWSER)('demos/bench in headless Chromium', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openSite();
  }, 60_000);
  afterAll(async () => site?.close());

  it('runs conv3x3 and resize-x8 on wgseg and onnxruntime WebGPU: table, chart, timeline, JSON rows', async () => {
    const { page, errors, logs } = await site.open(
      `demos/bench/?models=${MODELS.join(',')}&engines=${ENGINES.join(',')}&runs=2`,
    );
    await page.click('#run');
    await page.waitForFunction(
      () => (window as { benchDone?: boolean }).benchDone || document.querySelector('#status.error'),
      null,
      { timeout: 240_000 },
    );
    if (logs.length) console.log(`demos/bench console:\n  ${logs.join('\n  ')}`);
    expect(errors).toEqual([]);
    expect(await page.locator('#status').textContent()).toMatch(
      /^adapter: \S.* · 2 models, wgseg, ort-webgpu, 2 warm runs$/,
    );

    const rows = (await page.evaluate(() => (window as { benchRows?: unknown[] }).benchRows)) as Row[];
    expect(rows.map((r) => `${r.model}/${r.engine}`)).toEqual(MODELS.flatMap((m) => ENGINES.map((e) => `${m}/${e}`)));
    for (const r of rows) {
      expect(rowProblems(r), JSON.stringify(r)).toEqual([]);
      for (const k of ROW_KEYS) expect(r).toHaveProperty(k);
      expect(r.note ?? '', `${r.model}/${r.engine} ran`).not.toMatch(/^(error|skipped)/);
      expect(r.coldMs!).toBeGreaterThanOrEqual(r.medianMs!);
      expect(r.p95Ms!).toBeGreaterThanOrEqual(r.medianMs!);
      // both engines agree with onnxruntime on the CPU (f32 rounding of a 576-term dot product, bilinear weights)
      expect(r.maxAbsDiff!, `${r.model}/${r.engine} vs onnxruntime CPU`).toBeLessThan(1e-4);
    }
    // the text box holds the same rows as window.benchRows (what "copy results as JSON" copies)
    expect(JSON.parse(await page.locator('#json').inputValue())).toEqual(rows);

    // table: one line per row, ratio column filled for the peer rows only
    const cells = await page
      .locator('#rows tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent ?? '')));
    expect(cells).toHaveLength(rows.length);
    for (const [i, c] of cells.entries()) {
      expect(c.slice(0, 3)).toEqual([rows[i].model, rows[i].input, rows[i].engine]);
      expect(Number(c[4])).toBeCloseTo(rows[i].medianMs!, 1);
      if (rows[i].engine === 'wgseg') expect(c[8]).toBe('');
      else
        expect(Number(c[8])).toBeCloseTo(
          rows[i].medianMs! / rows.find((r) => r.model === rows[i].model && r.engine === 'wgseg')!.medianMs!,
          1,
        );
    }
    // chart: a bar per row, widths proportional to the medians within a model
    const bars = await page
      .locator('#chart rect.bar')
      .evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('width'))));
    expect(bars).toHaveLength(rows.length);
    for (let m = 0; m < MODELS.length; m++) {
      const [w0, w1] = bars.slice(2 * m, 2 * m + 2),
        [r0, r1] = rows.slice(2 * m, 2 * m + 2);
      expect(w0 / w1).toBeCloseTo(r0.medianMs! / r1.medianMs!, 1);
    }
    // timeline of the last model's wgseg nodes (resize-x8: one Resize node)
    expect(await page.locator('#profile-model option').allTextContents()).toEqual(MODELS);
    expect(await page.locator('#timeline rect.node').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#profile-info').textContent()).toMatch(/^1 nodes, \d+ dispatches, \d+\.\d\d ms/);

    await saveScreenshot(page, 'bench', process.env.WGSEG_DOCS_SCREENSHOTS === '1' ? ['docs/bench.png'] : []);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
