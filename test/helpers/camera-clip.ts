// The fake camera's clip for the browser tests (Chromium's --use-file-for-fake-video-capture): a
// drawn person in a room (test/models/selfie-scene.ts), the view panning so the person crosses the
// frame left to right.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfieScene } from '../models/selfie-scene';
import { fakeCameraFlags, openSite, WEBGPU_CANVAS_FLAGS, type ServeOptions, type Site } from './browser';

export const CLIP = { width: 256, height: 256, frames: 20 };
const W = CLIP.width,
  H = CLIP.height,
  FRAMES = CLIP.frames;

/** A 4:2:0 y4m clip (BT.601 limited range, which is how Chromium's file camera reads it): crops of a wide scene, panning right to left so the person moves left to right. */
export function writeCameraClip(path: string): Uint8Array[] {
  const rgbFrames: Uint8Array[] = [];
  const wide = Math.round(W * 1.5);
  const { rgb } = selfieScene(H, wide); // person centred at 0.52 * wide
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420\n`)];
  for (let f = 0; f < FRAMES; f++) {
    const x0 = Math.round(((wide - W) * (FRAMES - 1 - f)) / (FRAMES - 1));
    const y = Buffer.alloc(W * H),
      u = Buffer.alloc((W / 2) * (H / 2)),
      v = Buffer.alloc((W / 2) * (H / 2));
    const px = (r: number, c: number) => rgb.subarray((r * wide + x0 + c) * 3, (r * wide + x0 + c) * 3 + 3);
    const frame = new Uint8Array(W * H * 3);
    for (let r = 0; r < H; r++) frame.set(rgb.subarray((r * wide + x0) * 3, (r * wide + x0 + W) * 3), r * W * 3);
    rgbFrames.push(frame);
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++) {
        const [R, G, B] = px(r, c);
        y[r * W + c] = Math.round(16 + (219 / 255) * (0.299 * R + 0.587 * G + 0.114 * B));
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
        const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
        u[r * (W / 2) + c] = clamp(128 + (224 / 255) * (-0.168736 * R - 0.331264 * G + 0.5 * B));
        v[r * (W / 2) + c] = clamp(128 + (224 / 255) * (0.5 * R - 0.418688 * G - 0.081312 * B));
      }
    parts.push(Buffer.from('FRAME\n'), y, u, v);
  }
  writeFileSync(path, Buffer.concat(parts));
  return rgbFrames;
}

/**
 * The site in Chromium with the fake camera playing this clip (written to a temporary folder) and
 * the flags a WebGPU canvas needs; `close()` also removes the clip. `clip` holds its RGB frames.
 */
export async function openCameraSite(serve: ServeOptions = {}): Promise<Site & { clip: Uint8Array[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'wgseg-clip-'));
  try {
    const clip = writeCameraClip(join(dir, 'person.y4m'));
    const site = await openSite([...WEBGPU_CANVAS_FLAGS, ...fakeCameraFlags(join(dir, 'person.y4m'))], serve);
    const close = site.close.bind(site);
    return Object.assign(site, {
      clip,
      close: async () => {
        try {
          await close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
