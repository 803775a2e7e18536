import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { WgsegError } from '../core/errors';
import type { RgbaImage } from '../pipelines/ocr/source';

/** PNG or JPEG bytes -> RGBA (told by the file's signature, not its name). */
export function decodeImage(bytes: Uint8Array, path: string): RgbaImage {
  const png = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const jpg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!png && !jpg) throw new WgsegError('BAD_INPUT', `${path}: not a PNG or JPEG file`);
  try {
    if (png) {
      const img = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return {
        data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength),
        width: img.width,
        height: img.height,
      };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { data: img.data, width: img.width, height: img.height };
  } catch (e) {
    throw new WgsegError('BAD_INPUT', `${path}: cannot decode the ${png ? 'PNG' : 'JPEG'} (${(e as Error).message})`);
  }
}
