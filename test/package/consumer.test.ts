// The package as a user gets it: `npm pack` of dist/ as `prepare` builds it (dist/index.js and the
// bundled dist/index.d.ts), the tarball unpacked into a fresh project whose other dependencies link to this
// repository's node_modules (no download), then: TypeScript strict with skipLibCheck off under
// moduleResolution NodeNext and Bundler; a Node run of a small ONNX model from the tarball against
// the f64 conv reference; `wgseg segment` from the installed bin with the shipped selfie model; a
// page importing `wgseg` type-checked with the DOM lib, built by Vite (this repository's, no config
// beyond the chunk-size warning) and run in headless Chromium on WebGPU against the f64 conv
// reference; publint and @arethetypeswrong/cli (ESM-only profile) on the package.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/import/npy';
import { closeChromium, launchChromium, serveDir, SKIP_BROWSER, watchPage } from '../helpers/browser';
import { selfieScene } from '../models/selfie-scene';
import { ensureCliBuilt } from '../helpers/npx';
import { OnnxBuilder } from '../helpers/onnx-build';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { convRef } from '../reference/conv';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);
let dir = '';
let tarball = '';

const CONSUMER_TS = `import { Session, kernels, WgsegError, type SessionOptions, type TensorInput } from 'wgseg';

const opts: SessionOptions = { tune: 'cached', precision: 'f32' };
export async function infer(model: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const s = await Session.create(model, opts);
  const feed: TensorInput = { data: x, dims: [1, 2, 8, 8] };
  const out = await s.run({ x: feed });
  const y = (await Object.values(out)[0].read()) as Float32Array;
  s.dispose();
  return y;
}
export const isBadInput = (e: unknown) => e instanceof WgsegError && e.code === 'BAD_INPUT';
export const runtime: Promise<kernels.Runtime> = kernels.Runtime.create();
`;

/** The consumer's page: loads a model by URL with progress, runs it, leaves the result in window.__result. */
const PAGE_TS = `import { Session, WgsegError } from 'wgseg';

export interface PageResult {
  y?: number[];
  adapter?: string;
  progress?: [number, number | undefined][];
  error?: string;
}
async function main(): Promise<PageResult> {
  const progress: [number, number | undefined][] = [];
  const s = await Session.create('./model.onnx', { onProgress: (loaded, total) => progress.push([loaded, total]) });
  const x = Float32Array.from((await (await fetch('./x.json')).json()) as number[]);
  const out = await s.run({ x: { data: x, dims: [1, 2, 8, 8] } });
  const y = Array.from(await Object.values(out)[0].read());
  const adapter = s.rt.info.adapter;
  s.dispose();
  return { y, adapter, progress };
}
const done = (r: PageResult) => Object.assign(window, { __result: r });
main().then(done, (e: unknown) => done({ error: e instanceof WgsegError ? \`\${e.code}: \${e.message}\` : String(e) }));
`;
const PAGE_HTML = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>wgseg from npm</title></head>
  <body><script type="module" src="./main.ts"></script></body>
</html>
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wgseg-consumer-'));
  // dist/ as `prepare` builds it (rebuilt here only when older than the sources), packed without
  // running `prepare` again: other test files run dist/cli.js meanwhile
  ensureCliBuilt();
  const types = join(ROOT, 'dist/index.d.ts');
  if (!existsSync(types) || statSync(types).mtimeMs < statSync(join(ROOT, 'dist/index.js')).mtimeMs)
    await run(process.execPath, ['scripts/build-types.mjs'], { cwd: ROOT });
  const { stdout } = await run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], {
    cwd: ROOT,
  });
  tarball = join(dir, stdout.trim().split('\n').pop()!);
  const nm = join(dir, 'app/node_modules');
  mkdirSync(join(nm, 'wgseg'), { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', join(nm, 'wgseg'), '--strip-components', '1']);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
    mkdirSync(join(nm, dep, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(nm, dep));
  }
  writeFileSync(join(dir, 'app/package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  writeFileSync(join(dir, 'app/index.ts'), CONSUMER_TS);
}, 300_000);
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('the packed package in a fresh project', () => {
  for (const [resolution, extra] of [
    ['NodeNext', { module: 'NodeNext', types: ['node'] }],
    ['Bundler', { module: 'ESNext', lib: ['ES2022'] }],
  ] as const)
    it(`type-checks under moduleResolution ${resolution} (strict, skipLibCheck off)`, async () => {
      const tsconfig = {
        compilerOptions: {
          moduleResolution: resolution,
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          ...extra,
        },
        files: ['index.ts'],
      };
      writeFileSync(join(dir, `app/tsconfig.${resolution}.json`), JSON.stringify(tsconfig));
      const r = await run(bin('tsc'), ['-p', `tsconfig.${resolution}.json`], { cwd: join(dir, 'app') }).catch((e) => e);
      expect(`${r.stdout ?? ''}${r.stderr ?? ''}`).toBe('');
      // and a type error in the consumer is reported, through the bundled declarations
      writeFileSync(
        join(dir, 'app/bad.ts'),
        "import { Session } from 'wgseg';\nexport const s: number = Session.create;\n",
      );
      writeFileSync(join(dir, 'app/tsconfig.bad.json'), JSON.stringify({ ...tsconfig, files: ['bad.ts'] }));
      const bad = await run(bin('tsc'), ['-p', 'tsconfig.bad.json'], { cwd: join(dir, 'app') }).catch((e) => e);
      expect(bad.stdout).toMatch(/bad\.ts\(2,14\): error TS2322/);
    });

  it('runs an ONNX conv in Node from the tarball, equal to the f64 reference', async () => {
    const r = rng(5);
    const w = r.array(3 * 2 * 9, -0.5, 0.5);
    const x = Float32Array.from(r.array(2 * 8 * 8));
    const b = new OnnxBuilder({ opset: 17 });
    b.output(b.node('Conv', [b.input('x', [1, 2, 8, 8]), b.init('w', w, [3, 2, 3, 3])], { pads: [1, 1, 1, 1] }));
    writeFileSync(join(dir, 'app/model.onnx'), b.bytes());
    writeFileSync(join(dir, 'app/x.json'), JSON.stringify(Array.from(x)));
    writeFileSync(
      join(dir, 'app/run.mjs'),
      `import { readFileSync } from 'node:fs';
import { Session } from 'wgseg';
const s = await Session.create(new Uint8Array(readFileSync('model.onnx')));
const x = Float32Array.from(JSON.parse(readFileSync('x.json', 'utf8')));
const out = await s.run({ x: { data: x, dims: [1, 2, 8, 8] } });
process.stdout.write(JSON.stringify(Array.from(await Object.values(out)[0].read())));
process.exit(0);
`,
    );
    const { stdout } = await run(process.execPath, ['run.mjs'], { cwd: join(dir, 'app') });
    const want = convRef({ x, xShape: [1, 2, 8, 8], w, wShape: [3, 2, 3, 3], pads: [1, 1, 1, 1] });
    expectClose(JSON.parse(stdout) as number[], want.data, TOL.f32Reduce, 'conv from the packed wgseg');
  });

  it('`wgseg segment` from the installed package: the shipped selfie model, its licence, the f64 reference mask', async () => {
    const files = (await run('tar', ['-tzf', tarball])).stdout.split('\n');
    for (const f of ['selfie_segmentation.tflite', 'selfie_segmentation_landscape.tflite', 'LICENSE', 'README.md'])
      expect(files).toContain(`package/models/selfie/${f}`);
    // the selfie scene at the model's size (test/cli/segment.test.ts): the mask PNG is the softened
    // reference mask pixel for pixel
    const { rgb } = selfieScene(256, 256);
    const png = new PNG({ width: 256, height: 256 });
    for (let i = 0; i < 256 * 256; i++) png.data.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
    writeFileSync(join(dir, 'app/scene.png'), PNG.sync.write(png));
    const r = await run(process.execPath, ['node_modules/wgseg/bin/wgseg.js', 'segment', 'scene.png'], {
      cwd: join(dir, 'app'),
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('-> mask -> scene.mask.png;');
    const got = PNG.sync.read(readFileSync(join(dir, 'app/scene.mask.png'))).data;
    const ref = readNpy(new Uint8Array(readFileSync(join(ROOT, 'test/fixtures/selfie/selfie_segmentation.mask.npy'))))
      .data as Float32Array;
    let worst = 0;
    for (let i = 0; i < ref.length; i++) {
      const t = Math.min(1, Math.max(0, (ref[i] - 0.3) / 0.4));
      worst = Math.max(worst, Math.abs(got[4 * i] / 255 - t * t * (3 - 2 * t)));
    }
    expect(worst).toBeLessThan(2.5 / 255);
  });

  it.skipIf(!!SKIP_BROWSER)(
    'a Vite build of a page importing wgseg runs on WebGPU in headless Chromium, equal to the f64 reference',
    async () => {
      const app = join(dir, 'app'),
        web = join(dir, 'web');
      writeFileSync(join(app, 'index.html'), PAGE_HTML);
      writeFileSync(join(app, 'main.ts'), PAGE_TS);
      // Vite does not type-check: tsc does, with the DOM lib, against the bundled declarations
      const tsconfig = {
        compilerOptions: {
          moduleResolution: 'Bundler',
          module: 'ESNext',
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['main.ts'],
      };
      writeFileSync(join(app, 'tsconfig.page.json'), JSON.stringify(tsconfig));
      const tsc = await run(bin('tsc'), ['-p', 'tsconfig.page.json'], { cwd: app }).catch((e) => e);
      expect(`${tsc.stdout ?? ''}${tsc.stderr ?? ''}`).toBe('');
      // the one-module library is larger than Vite's default chunk warning (500 kB); any other warning fails
      writeFileSync(join(app, 'vite.config.js'), 'export default { build: { chunkSizeWarningLimit: 2048 } };\n');
      const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
      const built = await run(
        process.execPath,
        [vite, 'build', app, '--outDir', web, '--emptyOutDir', '--logLevel', 'warn'],
        {
          cwd: dir,
        },
      );
      expect(`${built.stdout}${built.stderr}`).toBe('');

      const r = rng(8);
      const w = r.array(4 * 2 * 9, -0.5, 0.5);
      const x = Float32Array.from(r.array(2 * 8 * 8));
      const b = new OnnxBuilder({ opset: 17 });
      b.output(b.node('Conv', [b.input('x', [1, 2, 8, 8]), b.init('w', w, [4, 2, 3, 3])], { pads: [1, 1, 1, 1] }));
      const model = b.bytes();
      writeFileSync(join(web, 'model.onnx'), model);
      writeFileSync(join(web, 'x.json'), JSON.stringify(Array.from(x)));
      const server = await serveDir(web);
      const context = await launchChromium();
      try {
        const page = await context.newPage();
        const { errors } = watchPage(page);
        await page.goto(server.url);
        await page.waitForFunction(() => '__result' in window, null, { timeout: 60_000 });
        const got = await page.evaluate(
          () =>
            (
              window as unknown as {
                __result: { y?: number[]; adapter?: string; progress?: number[][]; error?: string };
              }
            ).__result,
        );
        console.log(
          `a Vite-built page from the tarball in Chromium: adapter ${got.adapter}, progress ${JSON.stringify(got.progress)}`,
        );
        expect(got.error).toBeUndefined();
        expect(errors).toEqual([]);
        expect(got.adapter).toMatch(/\S/);
        expect(got.progress?.at(-1)).toEqual([model.length, model.length]);
        const want = convRef({ x, xShape: [1, 2, 8, 8], w, wShape: [4, 2, 3, 3], pads: [1, 1, 1, 1] });
        expectClose(got.y!, want.data, TOL.f32Reduce, 'conv in a Vite-built page');
      } finally {
        await closeChromium(context);
        await server.close();
      }
    },
  );

  it('publint and arethetypeswrong (ESM-only) find no problem', async () => {
    const lint = await run(bin('publint'), [], { cwd: ROOT });
    expect(lint.stdout).toMatch(/All good!/);
    const attw = await run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii'], { cwd: ROOT }).catch(
      (e) => e,
    );
    expect(attw.code ?? 0, `${attw.stdout}${attw.stderr}`).toBe(0);
  });
});
