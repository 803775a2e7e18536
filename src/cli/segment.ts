import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { WgsegError } from '../core/errors';
import { createTracked, destroyTracked } from '../gpu/memory';
import { Runtime } from '../gpu/runtime';
import { Compositor } from '../web/composite';
import { Preprocessor, type PixelSource } from '../web/preprocess';
import { loadSegModel, type SegModel } from '../web/seg-model';
import type { SegmentMode } from './args';
import { readBytes, writeBytes } from './files';
import { decodeImage } from './image';
import { type CliIo, withStatus } from './io';

/** The models shipped in the package (models/selfie/, MediaPipe, Apache-2.0), by the names the widget knows them by. */
export const SHIPPED_MODELS: Record<string, string> = {
  selfie: 'selfie_segmentation.tflite',
  'selfie-landscape': 'selfie_segmentation_landscape.tflite',
};

/**
 * A shipped model's path: models/selfie/<file> in the package root, found upwards from this module
 * (src/cli/ in the repository, dist/ or dist/chunks/ once built and installed).
 */
export function shippedModelPath(name: string): string | undefined {
  const file = SHIPPED_MODELS[name];
  if (!file) return undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    const p = join(dir, 'models', 'selfie', file);
    if (existsSync(p)) return p;
  }
  throw new WgsegError(
    'BAD_INPUT',
    `--model ${name}: models/selfie/${file} is missing from the wgseg package (looked upwards from ${fileURLToPath(import.meta.url)})`,
  );
}

/** Milliseconds per stage of one `segment` run (each waits for the GPU). */
export interface SegmentTimes {
  load: number;
  preprocess: number;
  model: number;
  composite: number;
}

/**
 * One still image through the live view's GPU path (src/web): Preprocessor (host pixels -> frame
 * texture -> the model's input, resized and in [0,1]), the model's Session fed that GPU buffer, and
 * the Compositor drawing frame + mask at the image's size into an rgba8unorm texture, without the
 * temporal smoothing a video gets. Returns the RGBA pixels read back: for 'mask', grey = the
 * softened mask; for 'cutout', the image with alpha = the softened mask.
 */
export async function segmentPixels(
  rt: Runtime,
  model: SegModel,
  image: PixelSource,
  mode: SegmentMode,
): Promise<{ rgba: Uint8Array; ms: Omit<SegmentTimes, 'load'> }> {
  const { device } = rt;
  const { width, height } = image;
  const max = device.limits.maxTextureDimension2D;
  if (width > max || height > max)
    throw new WgsegError(
      'BAD_INPUT',
      `the image is ${width}x${height}; this adapter's textures go up to ${max}x${max}`,
    );
  const pre = new Preprocessor(rt, { width: model.width, height: model.height, layout: model.layout });
  const comp = new Compositor(device, 'rgba8unorm');
  const target = device.createTexture({
    size: [width, height],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
    label: 'wgseg segment output',
  });
  const row = Math.ceil((width * 4) / 256) * 256; // copyTextureToBuffer's row alignment
  const staging = createTracked(device, {
    size: row * height,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
    label: 'wgseg segment read-back',
  });
  let outs: Awaited<ReturnType<typeof model.session.run>> = {};
  try {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    pre.encode(enc, image, width, height);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const t1 = performance.now();
    outs = await model.session.run({ [model.input]: { buffer: pre.output, dims: pre.dims, type: 'float32' } });
    await device.queue.onSubmittedWorkDone();
    const t2 = performance.now();
    const enc2 = device.createCommandEncoder();
    comp.encode(enc2, target.createView(), pre.frame!, outs[model.output].buffer, model.maskW, model.maskH, {
      mode: mode === 'mask' ? 'cutout' : mode,
      transparent: mode === 'mask' || mode === 'cutout',
    });
    enc2.copyTextureToBuffer({ texture: target }, { buffer: staging, bytesPerRow: row }, [width, height]);
    device.queue.submit([enc2.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const padded = new Uint8Array(staging.getMappedRange());
    const rgba = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) rgba.set(padded.subarray(y * row, y * row + width * 4), y * width * 4);
    staging.unmap();
    if (mode === 'mask')
      for (let i = 0; i < rgba.length; i += 4) {
        const a = rgba[i + 3];
        rgba[i] = rgba[i + 1] = rgba[i + 2] = a;
        rgba[i + 3] = 255;
      }
    const t3 = performance.now();
    return { rgba, ms: { preprocess: t1 - t0, model: t2 - t1, composite: t3 - t2 } };
  } finally {
    for (const t of Object.values(outs)) t.dispose();
    pre.dispose();
    comp.dispose();
    target.destroy();
    destroyTracked(staging);
  }
}

/** RGBA pixels as PNG bytes: grey (one channel) for a mask, RGBA otherwise. */
export function encodePng(rgba: Uint8Array, width: number, height: number, grey: boolean): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png, { colorType: grey ? 0 : 6 });
}

const ms = (v: number) => v.toFixed(1);

/**
 * `wgseg segment <image>`: PNG/JPEG in, PNG of the same size out (src/cli/args.ts has the modes).
 * Host work first (image decoded, model read: cheap errors before the GPU starts); prints the
 * adapter and model, the ms of each stage, and the file written.
 */
export async function segmentCommand(
  cmd: { image: string; model: string; mode: SegmentMode; out?: string },
  io: CliIo,
): Promise<void> {
  const image = decodeImage(await readBytes(cmd.image, 'the image'), cmd.image);
  const shipped = shippedModelPath(cmd.model);
  const modelPath = shipped ?? cmd.model;
  const t0 = performance.now();
  const bytes = await readBytes(modelPath, 'the model');
  const out = cmd.out ?? `${basename(cmd.image, extname(cmd.image))}.${cmd.mode}.png`;
  const rt = await Runtime.create();
  try {
    const model = await withStatus(io, `loading ${shipped ? cmd.model : basename(modelPath)}`, () =>
      loadSegModel(rt, bytes, shipped ? basename(modelPath) : modelPath),
    );
    try {
      const load = performance.now() - t0;
      const r = await withStatus(io, 'segmenting (the first run compiles the shaders)', () =>
        segmentPixels(rt, model, image, cmd.mode),
      );
      await writeBytes(out, encodePng(r.rgba, image.width, image.height, cmd.mode === 'mask'));
      io.out(`adapter: ${rt.info.adapter}`);
      io.out(`model: ${model.label}, input ${model.input} -> mask ${model.output} ${model.maskW}x${model.maskH}`);
      io.out(
        `${cmd.image} (${image.width}x${image.height}) -> ${cmd.mode} -> ${out}; ms: load ${ms(load)}, preprocess ${ms(r.ms.preprocess)}, ` +
          `model ${ms(r.ms.model)}, composite ${ms(r.ms.composite)} (first run: shader compilation included)`,
      );
    } finally {
      model.session.dispose();
    }
  } finally {
    rt.dispose();
  }
}
