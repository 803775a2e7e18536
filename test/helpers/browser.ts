/**
 * Real-Chromium test harness: builds the Vite site (root index.html + demos/*) once per test file,
 * serves it from 127.0.0.1 on a random port, drives Debian's /usr/bin/chromium through
 * playwright-core (never a downloaded browser), records console errors, page errors and failed
 * requests, and saves screenshots under test-artifacts/. Flags and how to run: DEVELOPERS.md.
 *
 * WGSEG_NO_BROWSER=1 skips the browser tests (with a printed reason); otherwise a Chromium that
 * cannot be launched fails them loudly. WGSEG_CHROMIUM=<path> picks another Chromium build,
 * WGSEG_SITE=<dir> serves an existing build instead of building.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const CHROMIUM = process.env.WGSEG_CHROMIUM || '/usr/bin/chromium';

/** Why the browser tests are skipped, or undefined when they run. */
export const SKIP_BROWSER = process.env.WGSEG_NO_BROWSER === '1' ? 'WGSEG_NO_BROWSER=1 is set' : undefined;
if (SKIP_BROWSER) console.log(`\nbrowser tests skipped: ${SKIP_BROWSER}\n`);

/** Headless Chromium with WebGPU on a GPU-less machine (SwiftShader adapter), no network chatter. */
export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Flags for pages that present on a WebGPU canvas (or import a video as an external texture): with
 * the defaults, the first submit after drawing to a WebGPU canvas loses the device ("A valid external
 * Instance reference no longer exists") and importExternalTexture(video) fails, on SwiftShader in
 * headless Chromium 156; with the compositor on Vulkan-SwiftShader too, both work and screenshots
 * show the canvas.
 */
export const WEBGPU_CANVAS_FLAGS = ['--use-angle=swiftshader', '--enable-features=Vulkan', '--use-vulkan=swiftshader'];

/** Flags for camera tests: a fake camera that plays `y4m` (a clip the test writes), permission granted. */
export const fakeCameraFlags = (y4m: string) => [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  `--use-file-for-fake-video-capture=${y4m}`,
];

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.wgsl': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.onnx': 'application/octet-stream',
  '.tflite': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

/** `vite build` of the whole site into a fresh temporary folder (about a second); returns the folder. */
export async function buildSite(): Promise<string> {
  if (process.env.WGSEG_SITE) return resolve(process.env.WGSEG_SITE);
  const out = mkdtempSync(join(tmpdir(), 'wgseg-site-'));
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  try {
    await promisify(execFile)(
      process.execPath,
      [vite, 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: ROOT },
    );
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`vite build of the demo site failed: ${err.stderr || err.message}`);
  }
  return out;
}

export interface Server {
  /** e.g. http://127.0.0.1:41234/ */
  url: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** extra response headers per request path (e.g. a Content-Security-Policy for one page) */
  headers?: (path: string) => Record<string, string> | undefined;
  /** paths whose body is sent slowly, `bytes` at a time every `ms` (every response has its content-length): how download progress is tested */
  chunked?: (path: string) => { bytes: number; ms: number } | undefined;
}

/** A static file server for `dir` on 127.0.0.1 (random port); folders serve their index.html. */
export async function serveDir(dir: string, opts: ServeOptions = {}): Promise<Server> {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      const slow = req.method !== 'HEAD' && opts.chunked?.(path);
      res.writeHead(200, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
        'content-length': String(body.length),
        ...opts.headers?.(path),
      });
      if (!slow) return void res.end(req.method === 'HEAD' ? undefined : body);
      for (let at = 0; at < body.length && !res.destroyed; at += slow.bytes) {
        res.write(body.subarray(at, at + slow.bytes));
        await new Promise((r) => setTimeout(r, slow.ms));
      }
      res.end();
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}

const profiles = new WeakMap<BrowserContext, string>();

/** Debian's Chromium through playwright-core with a throw-away profile (closeChromium removes it). Throws naming the reason if it cannot start. */
export async function launchChromium(extraFlags: string[] = []): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `browser tests: no Chromium at ${CHROMIUM}. Run \`npm run setup\` (installs Debian's chromium as root), ` +
        'set WGSEG_CHROMIUM=<path>, or skip these tests with WGSEG_NO_BROWSER=1.',
    );
  const profile = mkdtempSync(join(tmpdir(), 'wgseg-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...extraFlags],
      viewport: { width: 1280, height: 900 },
    });
    profiles.set(context, profile);
    return context;
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(
      `browser tests: ${CHROMIUM} could not be launched (WGSEG_NO_BROWSER=1 skips these tests): ${(e as Error).message}`,
    );
  }
}

/** Closes a launchChromium context (the browser exits) and removes its profile folder. */
export async function closeChromium(context: BrowserContext): Promise<void> {
  await context.close().catch(() => undefined);
  const profile = profiles.get(context);
  if (profile) rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/**
 * Everything that went wrong on a page: console errors, uncaught exceptions and HTTP errors (with
 * their URL). The browser's own /favicon.ico request is not counted: no demo declares an icon.
 */
export function watchPage(page: Page): { errors: string[]; logs: string[] } {
  const errors: string[] = [],
    logs: string[] = [];
  const favicon = (url: string) => new URL(url, 'http://x').pathname === '/favicon.ico';
  page.on('console', (m) => {
    logs.push(`${m.type()}: ${m.text()}`);
    if (m.type() === 'error' && !(m.text().startsWith('Failed to load resource') && favicon(m.location().url)))
      errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.stack ?? e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !favicon(r.url())) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    if (!favicon(r.url())) errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  page.on('crash', () => errors.push('page crashed'));
  return { errors, logs };
}

/**
 * Screenshot to test-artifacts/<name>.png (and to each of `copies`, repo-relative); the full page, or
 * only the element `selector` picks (e.g. 'body' crops a centred page to its content). Returns the path.
 */
export async function saveScreenshot(
  page: Page,
  name: string,
  copies: string[] = [],
  selector?: string,
): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const png = selector ? await page.locator(selector).screenshot() : await page.screenshot({ fullPage: true });
  const path = join(ARTIFACTS, `${name}.png`);
  for (const p of [path, ...copies.map((c) => join(ROOT, c))]) {
    mkdirSync(dirname(p), { recursive: true });
    await writeFile(p, png);
  }
  return path;
}

export interface Site {
  /** the built site being served (a test may add files, e.g. a model) */
  dir: string;
  server: Server;
  context: BrowserContext;
  /** opens `path` (relative to the site root) in a new tab that records its errors */
  open(path: string): Promise<{ page: Page; errors: string[]; logs: string[] }>;
  close(): Promise<void>;
}

/** Build + serve + launch, for a test file's beforeAll; `close` in afterAll. */
export async function openSite(extraFlags: string[] = [], serve: ServeOptions = {}): Promise<Site> {
  const dir = await buildSite();
  const server = await serveDir(dir, serve);
  let context: BrowserContext;
  try {
    context = await launchChromium(extraFlags);
  } catch (e) {
    await server.close();
    if (!process.env.WGSEG_SITE) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    server,
    context,
    async open(path) {
      const page = await context.newPage();
      const watch = watchPage(page);
      await page.goto(new URL(path, server.url).href);
      return { page, ...watch };
    },
    async close() {
      await closeChromium(context);
      await server.close();
      if (!process.env.WGSEG_SITE) rmSync(dir, { recursive: true, force: true });
    },
  };
}
