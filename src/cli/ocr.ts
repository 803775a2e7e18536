import { createOcr, type OcrOptions } from '../pipelines/ocr';
import { type CliIo, withStatus } from './io';
import { readBytes } from './files';
import { decodeImage } from './image';

export type OcrCmd = { image: string; maxSide?: number; det?: string; rec?: string; dict?: string };

const num = (v: number) => (Math.round(v * 10) / 10).toString();

/**
 * `wgseg ocr <image>`: PP-OCRv4 text reading on WebGPU. One line per text line, top to bottom:
 * the text (JSON-quoted), the mean character confidence and the box corners (TL TR BR BL, source
 * pixels); then one `#` line with the count and the ms of each stage.
 */
export async function ocrCommand(cmd: OcrCmd, io: CliIo): Promise<void> {
  const image = decodeImage(await readBytes(cmd.image, 'the image'), cmd.image);
  const opts: OcrOptions = { maxSide: cmd.maxSide, detModel: cmd.det, recModel: cmd.rec, dict: cmd.dict };
  const ocr = await withStatus(io, 'loading the OCR models', () => createOcr(opts));
  try {
    const lines = await withStatus(io, 'reading (the first read compiles the shaders)', () => ocr.read(image));
    for (const l of lines)
      io.out(
        `${JSON.stringify(l.text)}  confidence ${l.confidence.toFixed(3)}  box ${l.box.map((p) => p.map(num).join(',')).join(' ')}`,
      );
    const t = ocr.lastTimings!;
    io.out(
      `# ${lines.length} line${lines.length === 1 ? '' : 's'} in ${image.width}x${image.height}; ms: preprocess ${num(t.preprocess)}, det ${num(t.det)}, ` +
        `boxes ${num(t.boxes)} (host ${num(t.boxesCpu)}), rectify ${num(t.rectify)}, rec ${num(t.rec)}, decode ${num(t.decode)}, total ${num(t.total)} (first run: shader compilation included)`,
    );
  } finally {
    ocr.dispose();
  }
}
