import { PNG } from 'pngjs';
import type { Quad } from '../../src/pipelines/ocr/geometry';
import { renderScene } from './ocr-scene';

/**
 * The OCR demo's sample image (demos/ocr/sample.png, written by tools/make-ocr-sample.ts): two
 * scenes of test/helpers/ocr-scene.ts stacked, three straight lines over one line turned by 15
 * degrees, small enough for SwiftShader. Returns the PNG and the true lines in its pixels.
 */
export const OCR_SAMPLE_PATH = 'demos/ocr/sample.png';

export function ocrSample(): { png: Buffer; width: number; height: number; lines: { text: string; quad: Quad }[] } {
  const parts = [
    renderScene({ seed: 11, lines: 3, fontPx: 22 }),
    renderScene({ seed: 12, lines: 1, fontPx: 22, angle: 15 }),
  ];
  const width = Math.max(...parts.map((p) => p.image.width)),
    height = parts.reduce((s, p) => s + p.image.height, 0);
  const png = new PNG({ width, height });
  const bg = [196, 204, 210, 255]; // ocr-scene's colour outside the page
  for (let i = 0; i < width * height; i++) png.data.set(bg, i * 4);
  const lines: { text: string; quad: Quad }[] = [];
  let y0 = 0;
  for (const { image, lines: ls } of parts) {
    for (let y = 0; y < image.height; y++)
      png.data.set(image.data.subarray(y * image.width * 4, (y + 1) * image.width * 4), (y0 + y) * width * 4);
    for (const l of ls) lines.push({ text: l.text, quad: l.quad.map(([x, y]) => [x, y + y0]) as Quad });
    y0 += image.height;
  }
  return { png: PNG.sync.write(png), width, height, lines };
}
