// `npm start` (scripts/start.sh) in a copy of the repository whose node_modules links to this one's
// (so no `npm ci`: that branch is the README's fresh-clone run): the driver check, the two
// `wgseg segment` runs on the sample picture, what it prints, and the PNGs it writes, whose mask is
// compared with the drawn person the picture was made from (test/helpers/widget-image.ts).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, ROOT } from '../helpers/npx';
import { WIDGET_IMAGE, widgetImage } from '../helpers/widget-image';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'wgseg-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  ensureCliBuilt();
  // cp -a keeps the times: start.sh rebuilds dist/ only when a source is newer than dist/cli.js
  await run('cp', ['-a', 'bin', 'dist', 'models', 'scripts', 'src', 'shaders', 'package.json', dir], { cwd: ROOT });
  mkdirSync(join(dir, 'demos/widget'), { recursive: true });
  await run('cp', ['-a', WIDGET_IMAGE.path, join(dir, WIDGET_IMAGE.path)], { cwd: ROOT });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
}, 120_000);

describe('npm start (scripts/start.sh)', () => {
  it('segments the sample picture into out/ and says what it did and what to try next', async () => {
    const { stdout, stderr } = await run('bash', ['scripts/start.sh'], { cwd: dir });
    // (setup-webgpu.sh may say on stderr that it fell back to SwiftShader; wgseg itself says nothing)
    expect(stderr).not.toMatch(/^wgseg:/m);
    const lines = stdout.split('\n');
    expect(lines.filter((l) => /^adapter: \S/.test(l))).toHaveLength(2);
    for (const mode of ['mask', 'cutout']) {
      expect(lines).toContain(`$ npx wgseg segment ${WIDGET_IMAGE.path} --mode ${mode} --out out/person-${mode}.png`);
      expect(stdout).toMatch(
        new RegExp(
          `\\(320x240\\) -> ${mode} -> out/person-${mode}\\.png; ms: load [\\d.]+, preprocess [\\d.]+, model [\\d.]+`,
        ),
      );
    }
    expect(stdout).toMatch(/^Done in \d+ s: out\/person-mask\.png .* out\/person-cutout\.png/m);
    expect(stdout).toMatch(/^ {2}npm run dev /m);
    expect(stdout).toMatch(/^ {2}your own model {5}npx wgseg segment photo\.jpg --model /m);

    const { width, height } = WIDGET_IMAGE;
    const mask = PNG.sync.read(readFileSync(join(dir, 'out/person-mask.png')));
    const cutout = PNG.sync.read(readFileSync(join(dir, 'out/person-cutout.png')));
    expect([mask.width, mask.height, cutout.width, cutout.height]).toEqual([width, height, width, height]);
    const { person } = widgetImage();
    let inter = 0,
      union = 0,
      alphaDiff = 0;
    for (let i = 0; i < width * height; i++) {
      const m = mask.data[4 * i] > 127,
        p = person[i] > 0;
      inter += +(m && p);
      union += +(m || p);
      alphaDiff = Math.max(alphaDiff, Math.abs(cutout.data[4 * i + 3] - mask.data[4 * i]));
    }
    expect(alphaDiff, 'the cut-out alpha is the mask').toBe(0);
    console.log(`npm start: mask IoU with the drawn person ${(inter / union).toFixed(3)}`);
    expect(inter / union).toBeGreaterThan(0.95);
  });
});
