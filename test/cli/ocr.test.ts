import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { decodeImage } from '../../src/cli/image';
import { editDistance } from '../helpers/ocr-cer';
import { renderScene } from '../helpers/ocr-scene';
import { ensureCliBuilt, npxWgseg } from '../helpers/npx';

// `wgseg ocr <image>`: in-process through main(argv, io) on a PNG, and the real `npx wgseg` child
// process on a JPEG. The scene's true text is the reference.

const dir = mkdtempSync(join(tmpdir(), 'wgseg-cli-ocr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string) => join(dir, name);

const scene = renderScene({ seed: 31, lines: 2, fontPx: 26, angle: 12 });
const { width, height, data } = scene.image;
const png = new PNG({ width, height });
png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
writeFileSync(tmp('scene.png'), PNG.sync.write(png));
writeFileSync(
  tmp('scene.jpg'),
  jpeg.encode({ data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), width, height }, 92).data,
);
writeFileSync(tmp('not-an-image.png'), 'hello');

const LINE = /^("(?:[^"\\]|\\.)*")  confidence (\d\.\d{3})  box ((?:-?[\d.]+,-?[\d.]+ ?){4})$/;

/** The printed lines vs the scene: same count, each text within 2% CER (spaces ignored), the '#' timing line last. */
function checkOutput(out: string[]) {
  const rows = out.slice(0, -1).map((l) => {
    const m = LINE.exec(l);
    expect(m, `line "${l}"`).not.toBeNull();
    return {
      text: JSON.parse(m![1]) as string,
      conf: Number(m![2]),
      box: m![3]
        .trim()
        .split(' ')
        .map((p) => p.split(',').map(Number)),
    };
  });
  expect(rows.length).toBe(scene.lines.length);
  rows.forEach((r, i) => {
    const want = scene.lines[i].text.replace(/\s/g, ''),
      got = r.text.replace(/\s/g, '');
    expect(editDistance(want, got) / want.length, `"${r.text}" vs "${scene.lines[i].text}"`).toBeLessThanOrEqual(0.02);
    expect(r.conf).toBeGreaterThan(0.5);
    expect(r.box).toHaveLength(4);
  });
  expect(out[out.length - 1]).toMatch(
    /^# 2 lines in \d+x\d+; ms: preprocess [\d.]+, det [\d.]+, boxes [\d.]+ \(host [\d.]+\), rectify [\d.]+, rec [\d.]+, decode [\d.]+, total [\d.]+/,
  );
}

async function wgseg(...argv: string[]) {
  const out: string[] = [],
    err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), debug: false });
  return { code, out, err };
}

describe('wgseg ocr (in process)', () => {
  it('reads the PNG: one line per text line, then the stage times', async () => {
    const r = await wgseg('ocr', tmp('scene.png'));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    console.log(r.out.join('\n'));
    checkOutput(r.out);
  }, 180_000);

  it('errors: one wgseg: line (missing file, not an image, bad option)', async () => {
    let r = await wgseg('ocr', tmp('missing.png'));
    expect([r.code, r.err]).toEqual([1, [`wgseg: ${tmp('missing.png')}: cannot read the image (no such file)`]]);
    r = await wgseg('ocr', tmp('not-an-image.png'));
    expect([r.code, r.err]).toEqual([1, [`wgseg: ${tmp('not-an-image.png')}: not a PNG or JPEG file`]]);
    r = await wgseg('ocr', tmp('scene.png'), '--max-side', '8');
    expect(r.code).toBe(2);
    expect(r.err).toEqual(['wgseg: --max-side must be an integer >= 32, got "8" (wgseg --help for usage)']);
    r = await wgseg('ocr');
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/ocr needs an image file/);
  });

  it('decodeImage: PNG and JPEG bytes to RGBA of the right size', async () => {
    const p = decodeImage(readFileSync(tmp('scene.png')), 'scene.png');
    expect([p.width, p.height, p.data.length]).toEqual([width, height, width * height * 4]);
    expect(Array.from(p.data.subarray(0, 400))).toEqual(Array.from(data.subarray(0, 400)));
    const j = decodeImage(readFileSync(tmp('scene.jpg')), 'scene.jpg');
    expect([j.width, j.height, j.data.length]).toEqual([width, height, width * height * 4]);
    let diff = 0;
    for (let i = 0; i < data.length; i++) diff += Math.abs(j.data[i] - data[i]);
    expect(diff / data.length).toBeLessThan(4); // JPEG quality 92
  });
});

describe('npx wgseg ocr (child process)', () => {
  beforeAll(ensureCliBuilt);

  it('reads the JPEG', () => {
    const r = npxWgseg(['ocr', tmp('scene.jpg'), '--max-side', '640']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    checkOutput(r.out);
  }, 180_000);
});
