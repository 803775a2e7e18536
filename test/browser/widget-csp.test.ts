// Embedding safety of <wgseg-view>, in headless Chromium: demos/widget/ served with
// `Content-Security-Policy: default-src 'self'; script-src 'self'` (no inline script or style, no
// eval, no blob:/data: URLs, no WebAssembly) runs both views (fake camera blurred, still image cut
// out) with zero CSP violations, counted by a `securitypolicyviolation` listener and in the console
// (the listener is shown to work: an eval, an inline script and a shadow-root <style> the test adds are counted); an ONNX model loads
// and runs under that policy (protobuf decoding without code generation), its mask checked against
// an f64 reference of the model on the input it saw; the page requests nothing but the page, its
// script and stylesheet, the widget module, the model files and the image, all from 127.0.0.1; the
// built bundle holds no eval / Function / WebAssembly / blob: code. The camera is stopped when the
// page is hidden (visibilitychange) or left (pagehide) and restarted when shown again.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WgsegViewStats } from '../../src/web/widget';
import { SKIP_BROWSER, watchPage, type Site } from '../helpers/browser';
import { openCameraSite } from '../helpers/camera-clip';
import { OnnxBuilder } from '../helpers/onnx-build';

const CSP = "default-src 'self'; script-src 'self'";
type Seen = Record<
  string,
  { count: number; last: { model?: string; source?: string; message?: string; frames?: number } }
>;
type Violation = { directive: string; blocked: string; sample: string; source: string };
type Sample = {
  mask: number[];
  maskW: number;
  maskH: number;
  input: number[];
  layout: string;
  width: number;
  height: number;
};

/** The ONNX mask model: sigmoid(w · rgb + b) per pixel (a 1x1 Conv and a Sigmoid), NCHW 32x24. */
const MASK = { w: [2, -1.5, 0.5], b: -0.25, width: 32, height: 24 };
function maskModel(): Uint8Array {
  const g = new OnnxBuilder({ opset: 13 });
  const x = g.input('image', [1, 3, MASK.height, MASK.width]);
  const y = g.node('Conv', [x, g.init('w', MASK.w, [1, 3, 1, 1]), g.init('b', [MASK.b], [1])], {
    kernel_shape: [1, 1],
  });
  g.output(g.node('Sigmoid', [y], {}, { output: 'mask' }), 'float32', [1, 1, MASK.height, MASK.width]);
  return g.bytes();
}

/** Before the page's scripts: the views' events and every CSP violation (composed events reach document from shadow roots). */
function instrument(page: Page) {
  return page.addInitScript(() => {
    const w = window as unknown as {
      __seen: Record<string, { count: number; last: unknown }>;
      __csp: unknown[];
      __cameraFrameTimes: number[];
    };
    w.__seen = {};
    w.__csp = [];
    w.__cameraFrameTimes = [];
    document.addEventListener(
      'frame',
      (e) => (e.target as HTMLElement).id === 'camera' && w.__cameraFrameTimes.push(performance.now()),
    );
    for (const type of ['ready', 'frame', 'error'])
      document.addEventListener(type, (e) => {
        const el = e.target as HTMLElement;
        if (el.localName !== 'wgseg-view') return;
        const k = `${el.id}:${type}`;
        w.__seen[k] = { count: (w.__seen[k]?.count ?? 0) + 1, last: (e as CustomEvent).detail };
      });
    document.addEventListener(
      'securitypolicyviolation',
      (e) =>
        w.__csp.push({
          directive: e.violatedDirective,
          blocked: e.blockedURI,
          sample: e.sample,
          source: `${e.sourceFile}:${e.lineNumber}`,
        }),
      true,
    );
  });
}

const seen = (page: Page) => page.evaluate(() => (window as unknown as { __seen: Seen }).__seen);
const count = async (page: Page, key: string) => (await seen(page))[key]?.count ?? 0;
const violations = (page: Page) => page.evaluate(() => (window as unknown as { __csp: Violation[] }).__csp);
const waitCount = (page: Page, key: string, n: number, timeout = 90_000) =>
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
        .then(({ mask, maskW, maskH, input, layout, width, height }) => ({
          mask,
          maskW,
          maskH,
          input,
          layout,
          width,
          height,
        })),
    id,
  );
type PageAction = 'hide' | 'show' | 'pagehide' | 'pageshow';
/**
 * Hides or shows the page as the browser would tell it: document.visibilityState + a visibilitychange
 * event, or a pagehide / pageshow event (persisted, as into and out of the back/forward cache).
 * Returns the camera view's tracks' states before and right after (same task: the stop is synchronous).
 */
const pageAction = (page: Page, action: PageAction) =>
  page.evaluate((action) => {
    const video = document.getElementById('camera')!.shadowRoot!.querySelector('video')!;
    const tracks = (video.srcObject as MediaStream | null)?.getTracks() ?? [];
    const before = tracks.map((t) => t.readyState);
    if (action === 'hide' || action === 'show') {
      Object.defineProperty(document, 'visibilityState', {
        value: action === 'hide' ? 'hidden' : 'visible',
        configurable: true,
      });
      Object.defineProperty(document, 'hidden', { value: action === 'hide', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    } else window.dispatchEvent(new PageTransitionEvent(action, { persisted: true }));
    return { before, after: tracks.map((t) => t.readyState), srcObject: video.srcObject !== null };
  }, action);

describe.skipIf(!!SKIP_BROWSER)('<wgseg-view> under a strict Content-Security-Policy (demos/widget)', () => {
  let site: Site, page: Page, errors: string[], logs: string[];
  const requests: string[] = [];
  beforeAll(async () => {
    site = await openCameraSite({ headers: () => ({ 'content-security-policy': CSP }) });
    writeFileSync(join(site.dir, 'demos/widget/mask.onnx'), maskModel());
    page = await site.context.newPage();
    ({ errors, logs } = watchPage(page));
    page.on('request', (r) => requests.push(r.url()));
    await instrument(page);
  }, 120_000);
  afterAll(async () => {
    await site?.close();
  });

  it('the widget bundle has no eval, Function, WebAssembly or blob: code, and no protobufjs', () => {
    const js = readFileSync(join(site.dir, 'demos/widget/wgseg-widget.js'), 'utf8');
    const found = [
      /\beval\s*\(/,
      /\bnew\s+Function\b/,
      /\bFunction\s*\(/,
      /\bWebAssembly\b/,
      /\bblob:/,
      /createObjectURL/,
      /\bimportScripts\b/,
      /protobufjs|codegen/,
    ]
      .filter((re) => re.test(js))
      .map(String);
    console.log(
      `wgseg-widget.js: ${js.length} bytes; forbidden patterns found: ${found.length ? found.join(' ') : 'none'}`,
    );
    expect(found).toEqual([]);
  });

  it("both views run, an ONNX model loads and runs, with no CSP violation and only the page's requests", async () => {
    const res = await page.goto(new URL('demos/widget/', site.server.url).href);
    expect(res!.headers()['content-security-policy']).toBe(CSP);
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { __seen: Seen }).__seen;
        return (s['camera:frame'] && s['still:frame']) || s['camera:error'] || s['still:error'];
      },
      null,
      { timeout: 120_000 },
    );
    let ev = await seen(page);
    expect(ev['camera:error'], 'camera view error').toBeUndefined();
    expect(ev['still:error'], 'still view error').toBeUndefined();
    expect(ev['camera:ready'].last).toMatchObject({ model: 'selfie (256×256)', source: 'camera' });
    expect(ev['still:ready'].last).toMatchObject({ model: 'selfie (256×256)', source: 'image' });
    // the page's own script ran (a module file under script-src 'self'): it logs the events under each view
    await page.waitForFunction(
      () => /^frame \d+:/m.test(document.querySelector('.log[data-for="still"]')!.textContent ?? ''),
      null,
      { timeout: 30_000 },
    );

    // an ONNX model under the same policy; its mask is sigmoid(w · rgb + b) of the input it saw
    const n = await count(page, 'still:ready');
    await page.evaluate(() => document.getElementById('still')!.setAttribute('model', './mask.onnx'));
    await page.waitForFunction(
      (n) => {
        const s = (window as unknown as { __seen: Seen }).__seen;
        return (s['still:ready']?.count ?? 0) > n || s['still:error'];
      },
      n,
      { timeout: 90_000 },
    );
    ev = await seen(page);
    expect(ev['still:error']?.last.message, 'still view error').toBeUndefined();
    expect(ev['still:ready'].last.model).toBe(`./mask.onnx (${MASK.width}×${MASK.height})`);
    const s = await readMask(page, 'still');
    expect(s).toMatchObject({
      layout: 'nchw',
      width: MASK.width,
      height: MASK.height,
      maskW: MASK.width,
      maskH: MASK.height,
    });
    const hw = MASK.width * MASK.height;
    let maxErr = 0,
      lo = 1,
      hi = 0;
    for (let p = 0; p < hw; p++) {
      const z = MASK.w[0] * s.input[p] + MASK.w[1] * s.input[hw + p] + MASK.w[2] * s.input[2 * hw + p] + MASK.b;
      const want = 1 / (1 + Math.exp(-z));
      maxErr = Math.max(maxErr, Math.abs(s.mask[p] - want));
      (lo = Math.min(lo, want)), (hi = Math.max(hi, want));
    }
    console.log(
      `mask.onnx under CSP: ${s.maskW}x${s.maskH} mask, max |mask - f64 sigmoid(w·rgb+b)| = ${maxErr.toExponential(2)} (reference range ${lo.toFixed(3)}..${hi.toFixed(3)})`,
    );
    expect(hi - lo).toBeGreaterThan(0.1); // the input is an image, not a constant
    expect(maxErr).toBeLessThan(1e-3);
    await waitCount(page, 'camera:frame', (await count(page, 'camera:frame')) + 2);

    // no violation, by the listener and in the console; no other error
    const v = await violations(page);
    const refused = logs.filter((l) => /Content Security Policy|Refused to/i.test(l));
    if (v.length || refused.length) console.log(`CSP violations: ${JSON.stringify(v)}\nconsole: ${refused.join('\n')}`);
    expect(v).toEqual([]);
    expect(refused).toEqual([]);
    expect(errors).toEqual([]);

    // requests: the page, what its HTML names (script, stylesheet, the widget), the models and the image; nothing else, nowhere else
    const pageUrl = new URL('demos/widget/', site.server.url).href;
    const html = readFileSync(join(site.dir, 'demos/widget/index.html'), 'utf8');
    const named = [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g)].map(
      (m) => new URL(m[1], pageUrl).href,
    );
    const expected = [
      pageUrl,
      ...named,
      ...['selfie_segmentation.tflite', 'person.jpg', 'mask.onnx'].map((f) => new URL(f, pageUrl).href),
    ].sort();
    const made = [...new Set(requests)].filter((u) => new URL(u).pathname !== '/favicon.ico').sort();
    console.log(
      `requests (${requests.length}, favicon ${requests.length === made.length ? 'not ' : ''}requested by the browser):\n  ${made.join('\n  ')}`,
    );
    // what the built HTML names: its script (and Vite's modulepreload polyfill chunk), its stylesheet, the widget module
    expect(named.filter((u) => u.endsWith('.css'))).toHaveLength(1);
    expect(named.filter((u) => u.endsWith('.js'))).toContain(new URL('wgseg-widget.js', pageUrl).href);
    expect(made).toEqual(expected);
    for (const u of made) expect(new URL(u).origin).toBe(new URL(site.server.url).origin);

    // the listener does see violations (page.evaluate itself may eval: DevTools exempts it, so the
    // controls are what the page would do): a string timer (eval), an inline script, a <style> in a shadow root
    await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      setTimeout('window.__evalRan = 1' as unknown as () => void, 0);
      document.head.append(Object.assign(document.createElement('script'), { textContent: 'window.__inlineRan = 1' }));
      const host = document.body.appendChild(document.createElement('div'));
      host
        .attachShadow({ mode: 'open' })
        .append(Object.assign(document.createElement('style'), { textContent: ':host { color: red }' }));
      w.__controlHost = host;
    });
    await page.waitForFunction(() => (window as unknown as { __csp: unknown[] }).__csp.length >= 3, null, {
      timeout: 10_000,
    });
    await new Promise((r) => setTimeout(r, 200));
    const control = await violations(page);
    const ran = await page.evaluate(() => [
      (window as unknown as Record<string, unknown>).__evalRan,
      (window as unknown as Record<string, unknown>).__inlineRan,
    ]);
    console.log(
      `controls: ${JSON.stringify(control.map((c) => [c.directive, c.blocked]))}, ran: ${JSON.stringify(ran)}`,
    );
    expect(control.map((c) => [c.directive, c.blocked]).sort()).toEqual([
      ['script-src', 'eval'],
      ['script-src-elem', 'inline'],
      ['style-src-elem', 'inline'],
    ]);
    expect(ran).toEqual([undefined, undefined]);
    // ... and the console check sees them too (Chromium logs each as an error)
    const consoleCsp = errors.filter((e) => /Content Security Policy/.test(e));
    expect(consoleCsp.map((e) => /Evaluating a string|inline script|inline style/.exec(e)?.[0])).toEqual([
      'Evaluating a string',
      'inline script',
      'inline style',
    ]);
    expect(errors.length).toBe(3);
    errors.length = logs.length = 0;
    await page.evaluate(
      () => (
        (window as unknown as { __controlHost: HTMLElement }).__controlHost.remove(),
        ((window as unknown as { __csp: unknown[] }).__csp.length = 0)
      ),
    );
  }, 300_000);

  it('the camera stops when the page is hidden or left, and starts again when it is shown', async () => {
    for (const [hide, show] of [
      ['hide', 'show'],
      ['pagehide', 'pageshow'],
    ] as const) {
      const what = hide === 'hide' ? 'visibilitychange' : 'pagehide';
      await waitCount(page, 'camera:frame', (await count(page, 'camera:frame')) + 1);
      const off = await pageAction(page, hide);
      expect(off, what).toEqual({ before: ['live'], after: ['ended'], srcObject: false });
      // the loop finishes the frame it may have been in (one more frame event at most), then waits:
      // no frame for 3 frame intervals (median, as slow as this loaded machine makes them) after that one
      const atHide = await count(page, 'camera:frame');
      const quiet = await page.evaluate(() => {
        const t = (window as unknown as { __cameraFrameTimes: number[] }).__cameraFrameTimes.slice(-6);
        const gaps = t
          .slice(1)
          .map((x, i) => x - t[i])
          .sort((a, b) => a - b);
        return Math.min(20_000, Math.max(1000, 3 * gaps[gaps.length >> 1])); // median: not the gap of an earlier hide
      });
      const lastFrameAge = () =>
        page.evaluate(
          () => performance.now() - (window as unknown as { __cameraFrameTimes: number[] }).__cameraFrameTimes.at(-1)!,
        );
      while ((await lastFrameAge()) < quiet) await new Promise((r) => setTimeout(r, 100));
      const frames = await count(page, 'camera:frame');
      await new Promise((r) => setTimeout(r, quiet));
      const hidden = await stats(page);
      expect(frames - atHide, `${what}: frames finished after the hide`).toBeLessThanOrEqual(1);
      expect(await count(page, 'camera:frame'), `${what}: camera frames while hidden (${quiet.toFixed(0)} ms)`).toBe(
        frames,
      );
      expect(hidden).toMatchObject({ views: 2, cameraTracks: 0 });
      // shown: a new camera stream, ready again, frames again
      const ready = await count(page, 'camera:ready');
      await pageAction(page, show);
      await waitCount(page, 'camera:ready', ready + 1);
      await waitCount(page, 'camera:frame', frames + 2);
      const shown = await stats(page);
      console.log(
        `${what}: hidden ${JSON.stringify({ cameraTracks: hidden.cameraTracks, framesAtHide: atHide, framesAfter: frames, quietMs: Math.round(quiet) })}, shown again ${JSON.stringify({ cameraTracks: shown.cameraTracks, frames: await count(page, 'camera:frame') })}`,
      );
      expect(shown).toMatchObject({ views: 2, cameraTracks: 1 });
    }
    expect(await violations(page)).toEqual([]);
    expect(errors).toEqual([]);
  }, 180_000);
});
