import { WgsegError } from '../../core/errors';
import type { Runtime } from '../../gpu/runtime';

/** RGBA bytes, row-major, 4 per pixel (an ImageData fits). */
export interface RgbaImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** What `Ocr.read` takes: browser images and frames, or RGBA bytes (Node and browser). */
export type OcrSource = RgbaImage | ImageBitmap | VideoFrame | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

/** An RGBA8 image on the GPU: one u32 per pixel, rows `pitch` pixels apart (shaders/ocr/rgba.wgsl). */
export interface GpuImage {
  buffer: GPUBuffer;
  width: number;
  height: number;
  pitch: number;
}

const isRgba = (s: unknown): s is RgbaImage =>
  typeof s === 'object' && s !== null && 'data' in s && 'width' in s && 'height' in s;

function sizeOf(s: Exclude<OcrSource, RgbaImage>): [number, number] {
  if (typeof VideoFrame !== 'undefined' && s instanceof VideoFrame) return [s.displayWidth, s.displayHeight];
  if (typeof HTMLImageElement !== 'undefined' && s instanceof HTMLImageElement)
    return [s.naturalWidth, s.naturalHeight];
  const { width, height } = s as { width: number; height: number };
  return [width, height];
}

function checkSize(w: number, h: number, what: string): void {
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0))
    throw new WgsegError('BAD_INPUT', `ocr: ${what} has size ${w}x${h}; width and height must be positive integers`);
}

/**
 * Put a source image on the GPU as RGBA8 in a storage buffer (from the runtime's pool; the caller
 * releases it). RGBA bytes are written as they are; browser images go through
 * copyExternalImageToTexture and a texture-to-buffer copy (no CPU pixels). The user's data is
 * never modified.
 */
export function uploadSource(rt: Runtime, source: OcrSource): GpuImage {
  if (source === null || typeof source !== 'object')
    throw new WgsegError(
      'BAD_INPUT',
      `ocr: the source must be an image (ImageBitmap, VideoFrame, image, canvas) or {data, width, height} RGBA bytes, got ${source === null ? 'null' : typeof source}`,
    );
  if (isRgba(source)) {
    const { data, width, height } = source;
    checkSize(width, height, 'the RGBA image');
    if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray))
      throw new WgsegError(
        'BAD_INPUT',
        `ocr: RGBA data must be a Uint8Array or Uint8ClampedArray, got ${(data as object)?.constructor?.name ?? typeof data}`,
      );
    if (data.length !== width * height * 4)
      throw new WgsegError(
        'BAD_INPUT',
        `ocr: RGBA data holds ${data.length} bytes; ${width}x${height} needs ${width * height * 4} (4 per pixel)`,
      );
    const buffer = rt.pool.acquire(data.length);
    rt.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return { buffer, width, height, pitch: width };
  }
  const [width, height] = sizeOf(source);
  checkSize(width, height, source.constructor?.name ?? 'the image');
  const dev = rt.device;
  const texture = dev.createTexture({
    size: [width, height],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.COPY_DST | GPUTextureUsage.COPY_SRC | GPUTextureUsage.RENDER_ATTACHMENT,
    label: 'wgseg ocr source',
  });
  try {
    dev.queue.copyExternalImageToTexture({ source }, { texture }, [width, height]);
    const pitch = Math.ceil((width * 4) / 256) * 64; // bytesPerRow must be a multiple of 256
    const buffer = rt.pool.acquire(pitch * 4 * height);
    const enc = dev.createCommandEncoder();
    enc.copyTextureToBuffer({ texture }, { buffer, bytesPerRow: pitch * 4, rowsPerImage: height }, [width, height]);
    dev.queue.submit([enc.finish()]);
    return { buffer, width, height, pitch };
  } finally {
    texture.destroy();
  }
}
