// Compositor (src/web/composite.ts) on real WebGPU: frame + mask drawn into a texture and read back,
// against a float64 reference of the mask upsampling (bilinear, edge-clamped), smoothstep and the
// mask / replace / cut-out formulas, written here from the shader's comment; the replace background
// as the default gradient, a colour, and an image cover-fitted (bilinear, edge-clamped).
import { describe, expect, it } from 'vitest';
import { COMPOSITE_MODES, Compositor, coverFit, type CompositeMode } from '../../src/web/composite';
import { gpu } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { bilinearRgba8 } from '../reference/texture';

const W = 64,
  H = 48,
  MW = 16,
  MH = 12;
const LO = 0.3,
  HI = 0.7,
  TINT = [0.1, 0.9, 0.4, 0.5];

/** The background for 'replace' at pixel (x, y), channel c: the default gradient unless given. */
type BgRef = (x: number, y: number, c: number) => number;
const gradient: BgRef = (_x, y, c) => [0.15, 0.35, 0.6][c] * (1 - (y + 0.5) / H) + [0.9, 0.6, 0.4][c] * ((y + 0.5) / H);

function reference(
  mode: CompositeMode,
  frame: Uint8Array,
  mask: Float32Array,
  background: BgRef = gradient,
): Float64Array {
  const out = new Float64Array(W * H * 3);
  const at = (x: number, y: number) => mask[Math.min(MH - 1, Math.max(0, y)) * MW + Math.min(MW - 1, Math.max(0, x))];
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const u = (x + 0.5) / W,
        v = (y + 0.5) / H;
      const px = u * MW - 0.5,
        py = v * MH - 0.5,
        fx = Math.floor(px),
        fy = Math.floor(py),
        tx = px - fx,
        ty = py - fy;
      const top = at(fx, fy) * (1 - tx) + at(fx + 1, fy) * tx,
        bottom = at(fx, fy + 1) * (1 - tx) + at(fx + 1, fy + 1) * tx;
      const raw = top * (1 - ty) + bottom * ty;
      const t = Math.min(1, Math.max(0, (raw - LO) / (HI - LO))),
        m = t * t * (3 - 2 * t);
      for (let c = 0; c < 3; c++) {
        const rgb = frame[(y * W + x) * 4 + c] / 255;
        const bg =
          mode === 'replace' ? background(x, y, c) : (Math.floor(x / 16) + Math.floor(y / 16)) & 1 ? 0.55 : 0.8;
        out[(y * W + x) * 3 + c] = mode === 'mask' ? rgb + (TINT[c] - rgb) * m * TINT[3] : bg + (rgb - bg) * m;
      }
    }
  return out;
}

// the image background: 32x48 on the 64x48 frame, cover-fitted (uv scale 1 x 0.5, offset 0 x 0.25):
// every sample falls at a quarter texel, which the sampler's 8-bit filter weights hold exactly
const BW = 32,
  BH = 48;
const BG_COLOR: [number, number, number] = [0.2, 0.7, 0.35];

type Case = { name: string; mode: CompositeMode; background?: 'color' | 'image'; transparent?: boolean };
const CASES: Case[] = [
  { name: 'mask', mode: 'mask' },
  { name: 'replace (default gradient)', mode: 'replace' },
  { name: 'replace (colour)', mode: 'replace', background: 'color' },
  { name: 'replace (image, cover-fitted)', mode: 'replace', background: 'image' },
  { name: 'cutout', mode: 'cutout' },
  { name: 'cutout (transparent: the frame, alpha = mask)', mode: 'cutout', transparent: true },
];

describe('Compositor', () => {
  it('coverFit centres and crops without stretching', () => {
    expect(coverFit(64, 48, 32, 48)).toEqual([1, 0.5, 0, 0.25]); // taller image: crop top and bottom
    expect(coverFit(48, 48, 96, 48)).toEqual([0.5, 1, 0.25, 0]); // wider image: crop the sides
    expect(coverFit(64, 48, 128, 96)).toEqual([1, 1, 0, 0]);
  });

  it.each(CASES)('$name matches the float64 reference', async ({ mode, background, transparent }) => {
    expect(COMPOSITE_MODES).toContain(mode);
    const rt = await gpu(),
      device = rt.device,
      r = rng(5);
    const frame = Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 255 : Math.floor(r.next() * 256)));
    // a blob plus noise, so values cross the smoothstep band
    const mask = Float32Array.from({ length: MW * MH }, (_, i) =>
      Math.min(1, Math.max(0, 1.2 - Math.hypot((i % MW) - 8, Math.floor(i / MW) - 6) / 5 + (r.next() - 0.5) * 0.3)),
    );
    const bgImage = Uint8Array.from({ length: BW * BH * 4 }, (_, i) =>
      i % 4 === 3 ? 255 : Math.floor(r.next() * 256),
    );
    const tex = device.createTexture({
      size: [W, H],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    device.queue.writeTexture({ texture: tex }, frame, { bytesPerRow: W * 4 }, [W, H]);
    const bgTex = device.createTexture({
      size: [BW, BH],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    device.queue.writeTexture({ texture: bgTex }, bgImage, { bytesPerRow: BW * 4 }, [BW, BH]);
    const target = device.createTexture({
      size: [W, H],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
    });
    const maskBuf = rt.upload(mask, [MH, MW]);
    const read = device.createBuffer({ size: W * H * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const comp = new Compositor(device, 'rgba8unorm');
    try {
      const enc = device.createCommandEncoder();
      const bg = background === 'color' ? { color: BG_COLOR } : background === 'image' ? { texture: bgTex } : undefined;
      comp.encode(enc, target.createView(), tex, maskBuf.buffer, MW, MH, {
        mode,
        lo: LO,
        hi: HI,
        tint: TINT as [number, number, number, number],
        background: bg,
        transparent,
      });
      enc.copyTextureToBuffer({ texture: target }, { buffer: read, bytesPerRow: W * 4 }, [W, H]);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const got = new Uint8Array(read.getMappedRange().slice(0));
      const bgRef: BgRef | undefined =
        background === 'color'
          ? (_x, _y, c) => BG_COLOR[c]
          : background === 'image'
            ? (x, y, c) => bilinearRgba8(bgImage, BW, BH, (x + 0.5) / W, ((y + 0.5) / H) * 0.5 + 0.25, c)
            : undefined;
      const want = reference(mode, frame, mask, bgRef);
      // transparent: the frame as it is with alpha = the softened mask m, which the reference's replace
      // formula gives as 1 - m for a black frame over a white background; else opaque
      const white: BgRef = () => 1;
      const alpha = transparent ? reference('replace', new Uint8Array(W * H * 4), mask, white) : null;
      let worst = 0;
      for (let i = 0; i < W * H; i++) {
        for (let c = 0; c < 3; c++) {
          const w = transparent ? frame[i * 4 + c] / 255 : want[i * 3 + c];
          worst = Math.max(worst, Math.abs(got[i * 4 + c] / 255 - w));
        }
        worst = Math.max(worst, Math.abs(got[i * 4 + 3] / 255 - (alpha ? 1 - alpha[i * 3] : 1)));
      }
      expect(worst).toBeLessThan(1.5 / 255);
    } finally {
      comp.dispose();
      tex.destroy();
      bgTex.destroy();
      target.destroy();
      read.destroy();
      rt.pool.release(maskBuf.buffer);
    }
  });
});
