import { Session } from '../../src/index';
import { CANVAS, DIGIT, distortDigit, mulberry32, parseIdx, randomDistortion, type Distortion } from './distort';

// The trained STN+CNN (tools/train_stn.py): input [N,1,42,42] -> log_probs [N,10], rectified [N,1,42,42], theta [N,2,3].
const MODEL_URL = new URL('../../models/stn-mnist/stn.onnx', import.meta.url).href;
const DIGITS_URL = new URL('./mnist-test-100.idx3', import.meta.url).href;
const LABELS_URL = new URL('./mnist-test-100.idx1', import.meta.url).href;
const TILES = 12;
const PIX = CANVAS * CANVAS;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
// ?seed=N makes the digits and distortions repeatable, ?live=0 starts with the live refresh off (the browser test uses both)
const params = new URLSearchParams(location.search);
const rand = params.has('seed') ? mulberry32(Number(params.get('seed'))) : Math.random;

interface StnOut {
  logProbs: Float32Array;
  rectified: Float32Array;
  theta: Float32Array;
  ms: number;
}

/** Every GPU run goes through one queue, so the tiles and the drawing never interleave. */
let queue: Promise<unknown> = Promise.resolve();
function runStn(s: Session, x: Float32Array, n: number): Promise<StnOut> {
  const job = queue.then(async () => {
    const t0 = performance.now();
    const out = await s.run({ input: { data: x, dims: [n, 1, CANVAS, CANVAS] } });
    const [logProbs, rectified, theta] = await Promise.all([
      out.log_probs.read(),
      out.rectified.read(),
      out.theta.read(),
    ]);
    for (const t of Object.values(out)) t.dispose();
    return { logProbs, rectified, theta, ms: performance.now() - t0 } as StnOut;
  });
  queue = job.catch(() => undefined);
  return job;
}

const argmax = (v: ArrayLike<number>, off: number) => {
  let b = 0;
  for (let c = 1; c < 10; c++) if (v[off + c] > v[off + b]) b = c;
  return b;
};

/** A 42x42 image in [0,1] onto a (larger) canvas, pixelated; with theta, the box the STN samples from. */
function paint(canvas: HTMLCanvasElement, img: ArrayLike<number>, theta?: ArrayLike<number>) {
  const small = document.createElement('canvas');
  small.width = small.height = CANVAS;
  const sctx = small.getContext('2d')!;
  const data = sctx.createImageData(CANVAS, CANVAS);
  for (let i = 0; i < PIX; i++) {
    const v = Math.max(0, Math.min(255, Math.round(img[i] * 255)));
    data.data.set([v, v, v, 255], i * 4);
  }
  sctx.putImageData(data, 0, 0);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  if (!theta) return;
  const w = canvas.width;
  const corner = ([x, y]: number[]) => [
    ((theta[0] * x + theta[1] * y + theta[2] + 1) / 2) * w,
    ((theta[3] * x + theta[4] * y + theta[5] + 1) / 2) * w,
  ];
  ctx.strokeStyle = '#3f3';
  ctx.lineWidth = 2;
  ctx.beginPath();
  [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ]
    .map(corner)
    .forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.closePath();
  ctx.stroke();
  // the rectified view's top edge, thicker: shows the orientation the STN chose
  const [a, b] = [corner([-1, -1]), corner([1, -1])];
  ctx.lineWidth = 4;
  ctx.beginPath();
  ctx.moveTo(a[0], a[1]);
  ctx.lineTo(b[0], b[1]);
  ctx.stroke();
}

// ---- distorted test digits ----------------------------------------------------------------------
function makeTiles() {
  const root = $('tiles');
  return Array.from({ length: TILES }, () => {
    const tile = document.createElement('div');
    tile.className = 'tile';
    const input = Object.assign(document.createElement('canvas'), { width: 168, height: 168, className: 'px' });
    const rect = Object.assign(document.createElement('canvas'), { width: 168, height: 168, className: 'px' });
    const caption = document.createElement('div');
    tile.append(input, ' ', rect, caption);
    root.append(tile);
    return { input, rect, caption };
  });
}

async function tilesLoop(s: Session, images: Uint8Array, labels: Uint8Array) {
  const tiles = makeTiles();
  let busy = false;
  const shuffle = async () => {
    if (busy) return;
    busy = true;
    try {
      const x = new Float32Array(TILES * PIX),
        picks: number[] = [];
      for (let i = 0; i < TILES; i++) {
        const k = Math.floor(rand() * labels.length);
        picks.push(k);
        x.set(
          distortDigit(images.subarray(k * DIGIT * DIGIT, (k + 1) * DIGIT * DIGIT), randomDistortion(rand)),
          i * PIX,
        );
      }
      const r = await runStn(s, x, TILES);
      let wrong = 0;
      tiles.forEach((t, i) => {
        paint(t.input, x.subarray(i * PIX, (i + 1) * PIX), r.theta.subarray(i * 6, i * 6 + 6));
        paint(t.rect, r.rectified.subarray(i * PIX, (i + 1) * PIX));
        const p = argmax(r.logProbs, i * 10),
          label = labels[picks[i]];
        wrong += p !== label ? 1 : 0;
        t.caption.innerHTML = `label ${label} → predicted <span class="${p === label ? '' : 'wrong'}">${p}</span>`;
      });
      $('tilestats').textContent =
        ` ${TILES - wrong}/${TILES} right; ${r.ms.toFixed(1)} ms for the batch of ${TILES} (upload, run, read back)`;
    } finally {
      busy = false;
    }
  };
  $('shuffle').onclick = () => void shuffle().catch(fail);
  setInterval(() => {
    if (($('auto') as HTMLInputElement).checked && !document.hidden) void shuffle().catch(fail);
  }, 1000);
  await shuffle();
}

// ---- your digit -------------------------------------------------------------------------------
/** The drawing as an MNIST-style 28x28 digit: its bounding box fit into 20x20, centred by mass. */
function padToDigit(pad: HTMLCanvasElement): Float32Array {
  const ctx = pad.getContext('2d')!;
  const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (data[(y * width + x) * 4] > 20)
        (x0 = Math.min(x0, x)), (x1 = Math.max(x1, x)), (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y));
  const out = new Float32Array(DIGIT * DIGIT);
  if (x1 < 0) return out;
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1),
    k = 20 / side;
  const w = (x1 - x0 + 1) * k,
    h = (y1 - y0 + 1) * k;
  const small = Object.assign(document.createElement('canvas'), { width: DIGIT, height: DIGIT });
  const sctx = small.getContext('2d')!;
  sctx.imageSmoothingQuality = 'high';
  sctx.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (DIGIT - w) / 2, (DIGIT - h) / 2, w, h);
  const px = sctx.getImageData(0, 0, DIGIT, DIGIT).data;
  let m = 0,
    mx = 0,
    my = 0;
  for (let i = 0; i < DIGIT * DIGIT; i++)
    (m += px[i * 4]), (mx += px[i * 4] * (i % DIGIT)), (my += px[i * 4] * Math.floor(i / DIGIT));
  const dx = Math.round(13.5 - mx / m),
    dy = Math.round(13.5 - my / m);
  for (let y = 0; y < DIGIT; y++)
    for (let x = 0; x < DIGIT; x++) {
      const sx = x - dx,
        sy = y - dy;
      if (sx >= 0 && sx < DIGIT && sy >= 0 && sy < DIGIT) out[y * DIGIT + x] = px[(sy * DIGIT + sx) * 4] / 255;
    }
  return out;
}

function setupDrawing(s: Session, images: Uint8Array) {
  const pad = $<HTMLCanvasElement>('pad'),
    ctx = pad.getContext('2d')!;
  const sliders = ['angle', 'scale', 'tx', 'ty'].map((id) => $<HTMLInputElement>(id));
  let digit: Float32Array = new Float32Array(DIGIT * DIGIT),
    running = false,
    dirty = false;

  const update = async () => {
    if (running) return void (dirty = true);
    running = true;
    try {
      do {
        dirty = false;
        const [angle, scale, tx, ty] = sliders.map((el) => Number(el.value));
        sliders.forEach((el) => (el.nextElementSibling!.textContent = el.id === 'angle' ? `${el.value}°` : el.value));
        const x = distortDigit(digit, { angle, scale, tx, ty } as Distortion, false);
        const r = await runStn(s, x, 1);
        paint($('in'), x, r.theta);
        paint($('out'), r.rectified);
        const e = Array.from(r.logProbs, (v) => Math.exp(v - Math.max(...r.logProbs))),
          z = e.reduce((a, b) => a + b);
        $('pred').textContent = `predicted ${argmax(r.logProbs, 0)} · ${r.ms.toFixed(1)} ms`;
        $('bars').innerHTML = e
          .map((v, c) => `<div style="width:${Math.max(2, (100 * v) / z)}%">${c}: ${((100 * v) / z).toFixed(0)}%</div>`)
          .join('');
      } while (dirty);
    } finally {
      running = false;
    }
  };
  const go = () => void update().catch(fail);

  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  const showSample = () => {
    const k = Math.floor(rand() * (images.length / (DIGIT * DIGIT)));
    const small = Object.assign(document.createElement('canvas'), { width: DIGIT, height: DIGIT });
    const sctx = small.getContext('2d')!,
      img = sctx.createImageData(DIGIT, DIGIT);
    for (let i = 0; i < DIGIT * DIGIT; i++)
      img.data.set(
        [images[k * DIGIT * DIGIT + i], images[k * DIGIT * DIGIT + i], images[k * DIGIT * DIGIT + i], 255],
        i * 4,
      );
    sctx.putImageData(img, 0, 0);
    clear();
    ctx.drawImage(small, 0, 0, pad.width, pad.height);
    digit = Float32Array.from(images.subarray(k * DIGIT * DIGIT, (k + 1) * DIGIT * DIGIT), (v) => v / 255);
    go();
  };

  let last: [number, number] | null = null;
  const pos = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.onpointerdown = (e) => {
    pad.setPointerCapture(e.pointerId);
    last = pos(e);
  };
  pad.onpointermove = (e) => {
    if (!last) return;
    const p = pos(e);
    Object.assign(ctx, { strokeStyle: '#fff', lineWidth: 18, lineCap: 'round', lineJoin: 'round' });
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    digit = padToDigit(pad);
    go();
  };
  pad.onpointerup = pad.onpointercancel = () => (last = null);
  $('clear').onclick = () => {
    clear();
    digit = new Float32Array(DIGIT * DIGIT);
    go();
  };
  $('sample').onclick = showSample;
  $('randomize').onclick = () => {
    const d = randomDistortion(rand);
    [d.angle, d.scale, d.tx, d.ty].forEach((v, i) => (sliders[i].value = String(Math.round(v * 100) / 100)));
    go();
  };
  sliders.forEach((el) => (el.oninput = go));
  showSample();
}

function fail(e: unknown) {
  status.textContent = String(e instanceof Error ? e.message : e);
  status.className = 'error';
}

async function main() {
  if (!('gpu' in navigator))
    throw new Error('This browser has no WebGPU (navigator.gpu): try a recent Chrome, Edge or Safari.');
  const [digits, labels] = await Promise.all(
    [DIGITS_URL, LABELS_URL].map(async (u) => parseIdx(new Uint8Array(await (await fetch(u)).arrayBuffer())).data),
  );
  // one session per batch size (12 tiles, 1 drawing), sharing a device: neither replans on the other's runs
  if (params.get('live') === '0') $<HTMLInputElement>('auto').checked = false;
  const tiles = await Session.create(MODEL_URL);
  const mine = await Session.create(MODEL_URL, { device: tiles.rt });
  status.textContent = `adapter: ${tiles.rt.info.adapter}`;
  setupDrawing(mine, digits);
  await tilesLoop(tiles, digits, labels);
  (window as unknown as { rectifyReady: boolean }).rectifyReady = true;
}

main().catch(fail);
