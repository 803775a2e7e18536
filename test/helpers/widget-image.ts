// The still image of the widget demo (demos/widget/person.jpg): the drawn person-in-a-room scene the
// selfie tests use (test/models/selfie-scene.ts) at 320x240. tools/make-widget-image.ts writes it;
// test/browser/widget.test.ts checks the file is this picture and compares the mask with `person`.
import jpeg from 'jpeg-js';
import type { Page } from 'playwright-core';
import { selfieScene } from '../models/selfie-scene';

export const WIDGET_IMAGE = { path: 'demos/widget/person.jpg', width: 320, height: 240 };

/** The scene (RGB and the drawn person's mask) and its JPEG bytes (quality 90; deterministic). */
export function widgetImage(): { jpeg: Buffer; person: Uint8Array } {
  const { width, height } = WIDGET_IMAGE;
  const { rgb, person } = selfieScene(height, width);
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
  return { jpeg: jpeg.encode({ data, width, height }, 90).data, person };
}

/** A mask read back from a view by `el.readMask()` (the fields the tests compare). */
export type MaskSample = { mask: number[]; maskW: number; maskH: number };

/** IoU of (mask > 0.5) with the drawn person, sampled at each mask pixel's centre (the model saw the whole image, stretched). */
export function personIoU(s: MaskSample, person: Uint8Array): number {
  const { width: iw, height: ih } = WIDGET_IMAGE;
  let inter = 0,
    union = 0;
  for (let y = 0; y < s.maskH; y++)
    for (let x = 0; x < s.maskW; x++) {
      const p = person[Math.floor(((y + 0.5) * ih) / s.maskH) * iw + Math.floor(((x + 0.5) * iw) / s.maskW)] > 0;
      const m = s.mask[y * s.maskW + x] > 0.5;
      if (p && m) inter++;
      if (p || m) union++;
    }
  return inter / union;
}

/** The message a `<wgseg-view>` shows over itself ('' when hidden). */
export const viewMessage = (page: Page, id: string) =>
  page.evaluate((id) => {
    const m = document.getElementById(id)!.shadowRoot!.querySelector('.msg') as HTMLElement;
    return m.hidden ? '' : m.textContent;
  }, id);
