// The webcam demo in real headless Chromium on a fake camera: Chromium plays a .y4m clip this test
// writes (a drawn person in a room, the view panning so the person crosses the frame left to right),
// the demo runs MediaPipe's selfie model on every frame through wgseg (SwiftShader WebGPU), and the
// test checks the mask is non-trivial and follows the person: for frames sampled from the page (the
// model input and mask of the same frame), the mask centroid sits on the drawn person's shirt, found
// by colour in that same input. Screenshot: test-artifacts/webcam.png (docs/webcam.png with
// WGSEG_DOCS_SCREENSHOTS=1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSite, WEBGPU_CANVAS_FLAGS, saveScreenshot, SKIP_BROWSER, type Site } from '../helpers/browser';
import { openCameraSite } from '../helpers/camera-clip';

/** Mean |input - frame / 255| against the clip frame that matches best (the model input is 256x256 like the clip: no resampling). */
function bestFrameError(input: number[], frames: Uint8Array[]): number {
  let best = Infinity;
  for (const f of frames) {
    let e = 0;
    for (let i = 0; i < f.length; i++) e += Math.abs(input[i] - f[i] / 255);
    best = Math.min(best, e / f.length);
  }
  return best;
}

/** Horizontal centre (0..1) of the drawn person's blue shirt in a model input (RGB in [0,1]). */
function shirtCx(s: { input: number[]; layout: string; width: number; height: number }): number {
  const { width: w, height: h } = s;
  let n = 0,
    sx = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const [r, g, b] =
        s.layout === 'nhwc'
          ? [s.input[3 * i], s.input[3 * i + 1], s.input[3 * i + 2]]
          : [s.input[i], s.input[w * h + i], s.input[2 * w * h + i]];
      if (b > r + 0.25 && g < 0.45 && r < 0.35) n++, (sx += x + 0.5); // the shirt; not the window (g > 0.7)
    }
  return n > 20 ? sx / n / w : NaN;
}

describe.skipIf(!!SKIP_BROWSER)('demos/webcam in headless Chromium on a fake camera', () => {
  let site: Site, clip: Uint8Array[];
  beforeAll(async () => {
    const s = await openCameraSite();
    ({ clip } = s);
    site = s;
  }, 60_000);
  afterAll(async () => {
    await site?.close();
  });

  it('segments the person on every frame, the mask follows them, no console errors', async () => {
    const { page, errors, logs } = await site.open('demos/webcam/?model=portrait&mode=mask&mirror=0');
    type W = { __wgseg?: { ready: boolean; frames: number; error: string } };
    await page.waitForFunction(() => ((window as W).__wgseg?.frames ?? 0) >= 3 || (window as W).__wgseg?.error, null, {
      timeout: 40_000,
    });
    expect(await page.evaluate(() => (window as W).__wgseg!.error)).toBe('');
    const samples: { cx: number; shirt: number; coverage: number; mean: number; inputErr: number }[] = [];
    for (let k = 0; k < 6; k++) {
      const s = await page.evaluate(() =>
        (
          window as unknown as {
            __wgseg: {
              sample(): Promise<{
                input: number[];
                layout: string;
                width: number;
                height: number;
                cx: number;
                coverage: number;
                mean: number;
              }>;
            };
          }
        ).__wgseg.sample(),
      );
      samples.push({
        cx: s.cx,
        coverage: s.coverage,
        mean: s.mean,
        shirt: shirtCx(s),
        inputErr: bestFrameError(s.input, clip),
      });
      await page.waitForTimeout(350);
    }
    const st = await page.evaluate(() => {
      const s = (
        window as unknown as {
          __wgseg: {
            frames: number;
            fps: number;
            ms: Record<string, number>;
            model: string;
            camera: string;
            adapter: string;
          };
        }
      ).__wgseg;
      return { frames: s.frames, fps: s.fps, ms: s.ms, model: s.model, camera: s.camera, adapter: s.adapter };
    });
    console.log(
      `webcam demo: ${JSON.stringify(st)}\n  samples (mask cx, shirt cx, coverage, input vs clip): ${samples.map((s) => `${s.cx.toFixed(3)}/${s.shirt.toFixed(3)}/${s.coverage.toFixed(3)}/${s.inputErr.toFixed(4)}`).join('  ')}`,
    );
    for (const s of samples) {
      // the GPU preprocessing: camera frame -> RGB in [0,1], NHWC, not mirrored (left: the browser's YUV 4:2:0 round trip)
      expect(s.inputErr, 'model input = a clip frame').toBeLessThan(0.02);
      expect(s.coverage, 'non-trivial mask').toBeGreaterThan(0.02);
      expect(s.coverage, 'non-trivial mask').toBeLessThan(0.9);
      expect(Number.isFinite(s.shirt), 'the clip shows the person').toBe(true);
      expect(Math.abs(s.cx - s.shirt), 'mask centroid on the person').toBeLessThan(0.05);
    }
    const xs = samples.map((s) => s.shirt);
    expect(Math.max(...xs) - Math.min(...xs), 'the sampled frames show the person at different places').toBeGreaterThan(
      0.1,
    );
    expect(st.frames).toBeGreaterThanOrEqual(6);
    expect(await page.locator('#hud').textContent()).toMatch(
      /^\d+\.\d fps {3}frame \d+\nprep \d+\.\d ms · model \d+\.\d ms · composite \d+\.\d ms\n/,
    );
    await saveScreenshot(page, 'webcam', process.env.WGSEG_DOCS_SCREENSHOTS === '1' ? ['docs/webcam.png'] : [], 'body');

    // the other compositing modes and the landscape model keep running (each frame takes ~1.7 s on SwiftShader)
    type S = {
      __wgseg: {
        frames: number;
        model: string;
        sample(): Promise<{ coverage: number; width: number; height: number }>;
      };
    };
    const framesNow = () => page.evaluate(() => (window as unknown as S).__wgseg.frames);
    for (const mode of ['blur', 'replace', 'cutout']) {
      await page.selectOption('#mode', mode);
      const f0 = await framesNow();
      await page.waitForFunction((f) => (window as unknown as S).__wgseg.frames >= f + 2, f0, { timeout: 15_000 });
      await saveScreenshot(page, `webcam-${mode}`, [], '#view');
    }
    await page.selectOption('#model', 'landscape');
    await page.waitForFunction(() => (window as unknown as S).__wgseg.model.startsWith('landscape'), null, {
      timeout: 15_000,
    });
    const ls = await page.evaluate(() =>
      (window as unknown as S).__wgseg.sample().then(({ coverage, width, height }) => ({ coverage, width, height })),
    );
    expect(ls).toMatchObject({ width: 256, height: 144 });
    expect(ls.coverage).toBeGreaterThan(0.02);
    expect(ls.coverage).toBeLessThan(0.9);
    if (logs.length) console.log(`demos/webcam console:\n  ${logs.join('\n  ')}`);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

describe.skipIf(!!SKIP_BROWSER)('demos/webcam error messages', () => {
  let site: Site;
  beforeAll(async () => {
    // a fake camera but no --use-fake-ui-for-media-stream: headless Chromium dismisses the permission prompt
    site = await openSite([...WEBGPU_CANVAS_FLAGS, '--use-fake-device-for-media-stream']);
  }, 60_000);
  afterAll(async () => site?.close());

  const statusOf = async (page: import('playwright-core').Page) => {
    await page.waitForSelector('#status.error', { timeout: 30_000 });
    return page.locator('#status').textContent();
  };

  it('says so when the camera is denied', async () => {
    const { page, errors } = await site.open('demos/webcam/');
    expect(await statusOf(page)).toMatch(/^Camera access was denied: allow the camera/);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('says so when the browser has no WebGPU', async () => {
    const page = await site.context.newPage();
    await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await page.goto(new URL('demos/webcam/', site.server.url).href);
    expect(await statusOf(page)).toMatch(/^WebGPU is not available in this browser/);
    await page.close();
  }, 60_000);
});
