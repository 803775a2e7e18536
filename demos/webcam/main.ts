import { Runtime } from '../../src/gpu/runtime';
import { Session } from '../../src/session';
import { Compositor, type CompositeMode } from '../../src/web/composite';
import { Preprocessor, type InputLayout } from '../../src/web/preprocess';
import { MaskSmoother } from '../../src/web/smooth';

// The MediaPipe selfie models as shipped in npm @mediapipe/selfie_segmentation, bundled by Vite as assets.
const MODELS: Record<string, string> = {
  portrait: new URL('../../node_modules/@mediapipe/selfie_segmentation/selfie_segmentation.tflite', import.meta.url).href,
  landscape: new URL('../../node_modules/@mediapipe/selfie_segmentation/selfie_segmentation_landscape.tflite', import.meta.url).href,
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status'), hud = $('hud'), video = $<HTMLVideoElement>('video'), canvas = $<HTMLCanvasElement>('canvas');
const pick = <T extends HTMLElement>(id: string, v: string | null) => (v !== null && (($(id) as unknown as HTMLInputElement).value = v), $<T>(id));
// ?model=portrait|landscape, ?mode=mask|blur|replace|cutout, ?mirror=0 (the browser test uses them)
const params = new URLSearchParams(location.search);
const modelSel = pick<HTMLSelectElement>('model', params.get('model'));
const modeSel = pick<HTMLSelectElement>('mode', params.get('mode'));
const resSel = pick<HTMLSelectElement>('res', params.get('res'));
const mirrorBox = $<HTMLInputElement>('mirror');
// ?smooth=0..0.9: weight of the previous frames' mask (temporal smoothing on the GPU; 0 = off)
const smoothIn = pick<HTMLInputElement>('smooth', params.get('smooth'));
if (params.get('mirror') === '0') mirrorBox.checked = false;

interface Sample {
  /** mean mask value, fraction of mask pixels > 0.5, centroid of those (0..1) */
  mean: number;
  coverage: number;
  cx: number;
  cy: number;
  /** the model input of that frame (what the mask was computed from), its layout and size */
  input: number[];
  layout: InputLayout;
  width: number;
  height: number;
}

/** What the page exposes for tests and curious users. */
const state = {
  ready: false,
  frames: 0,
  fps: 0,
  ms: { prep: 0, model: 0, composite: 0 },
  maskMean: NaN,
  maskCoverage: NaN,
  model: '',
  adapter: '',
  camera: '',
  /** how frames reach the GPU: importExternalTexture, or an ImageBitmap copy where that fails */
  path: 'external' as 'external' | 'bitmap',
  error: '',
  /** reads back the next frame's model input and mask (only when asked: frames never leave the GPU otherwise) */
  sample: (): Promise<Sample> => new Promise((ok) => sampleWaiters.push(ok)),
};
(window as unknown as { __wgseg: typeof state }).__wgseg = state;
let sampleWaiters: ((s: Sample) => void)[] = [];

function fail(message: string) {
  state.error = message;
  status.textContent = message;
  status.className = 'error';
}
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface Loaded {
  session: Session;
  pre: Preprocessor;
  smooth: MaskSmoother;
  input: string;
  output: string;
  maskW: number;
  maskH: number;
  label: string;
}

/** A model with one RGB image input ([1,h,w,3] or [1,3,h,w]) and a one-channel mask output. */
async function loadModel(rt: Runtime, src: string | Uint8Array, label: string): Promise<Loaded> {
  const session = await Session.create(src, { device: rt, source: label });
  try {
    const [inp] = session.inputs, [out] = session.outputs;
    const d = inp.shape;
    if (d.length !== 4 || d.some((x) => typeof x !== 'number') || (d[3] !== 3 && d[1] !== 3))
      throw new Error(`${label}: input ${inp.name} is [${d.join(',')}]; this demo needs a fixed-size RGB image, [1,h,w,3] or [1,3,h,w]`);
    const layout: InputLayout = d[3] === 3 ? 'nhwc' : 'nchw';
    const [h, w] = (layout === 'nhwc' ? d.slice(1, 3) : d.slice(2, 4)) as number[];
    const o = out.shape.filter((x) => x !== 1) as number[];
    if (o.length !== 2) throw new Error(`${label}: output ${out.name} is [${out.shape.join(',')}]; this demo needs a one-channel mask`);
    const pre = new Preprocessor(rt.device, { width: w, height: h, layout, mirror: mirrorBox.checked });
    return { session, pre, smooth: new MaskSmoother(rt.device, o[0] * o[1]), input: inp.name, output: out.name, maskH: o[0], maskW: o[1], label: `${label} (${w}×${h})` };
  } catch (e) {
    session.dispose();
    throw e;
  }
}

async function startCamera(): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('This page cannot use a camera here (getUserMedia needs https or localhost).');
  const [width, height] = resSel.value.split('x').map(Number);
  try {
    return await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: width }, height: { ideal: height } }, audio: false });
  } catch (e) {
    const name = (e as DOMException).name;
    if (name === 'NotAllowedError') throw new Error('Camera access was denied: allow the camera for this page (the camera icon in the address bar) and reload.');
    if (name === 'NotFoundError' || name === 'OverconstrainedError') throw new Error('No camera found: connect one and reload.');
    if (name === 'NotReadableError') throw new Error('The camera is busy (used by another application?).');
    throw new Error(`Camera failed: ${errText(e)}`);
  }
}

async function main() {
  if (!('gpu' in navigator) || !navigator.gpu) return fail('WebGPU is not available in this browser. Use a recent Chrome or Edge (or Safari / Firefox with WebGPU enabled); in Chromium without a GPU start it with --enable-unsafe-webgpu.');
  let rt: Runtime;
  try {
    rt = await Runtime.create();
  } catch (e) {
    return fail(`No usable WebGPU adapter: ${errText(e)}`);
  }
  const device = rt.device;
  device.lost.then((info) => info.reason !== 'destroyed' && fail(`The GPU device was lost (${info.message}); reload the page.`));
  state.adapter = rt.info.adapter;
  const ctx = canvas.getContext('webgpu');
  if (!ctx) return fail('This canvas cannot be used with WebGPU.');
  const format = navigator.gpu.getPreferredCanvasFormat();
  ctx.configure({ device, format, alphaMode: 'opaque' });
  const comp = new Compositor(device, format);

  let model: Loaded;
  let stream: MediaStream;
  try {
    status.textContent = 'loading the model and opening the camera…';
    const [m, s] = await Promise.allSettled([loadModel(rt, MODELS[modelSel.value], modelSel.value), startCamera()]);
    if (m.status === 'rejected' || s.status === 'rejected') {
      if (m.status === 'fulfilled') (m.value.session.dispose(), m.value.pre.dispose(), m.value.smooth.dispose());
      if (s.status === 'fulfilled') s.value.getTracks().forEach((t) => t.stop());
      throw s.status === 'rejected' ? s.reason : (m as PromiseRejectedResult).reason;
    }
    [model, stream] = [m.value, s.value];
    video.srcObject = stream;
    await video.play();
  } catch (e) {
    return fail(errText(e));
  }
  let next: Promise<Loaded | null> | null = null;
  const swap = (make: () => Promise<Loaded>) => {
    next = make().catch((e) => (fail(errText(e)), null));
  };
  modelSel.onchange = () => swap(() => loadModel(rt, MODELS[modelSel.value], modelSel.value));
  mirrorBox.onchange = () => swap(() => loadModel(rt, MODELS[modelSel.value], modelSel.value));
  $<HTMLInputElement>('file').onchange = (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) swap(async () => loadModel(rt, new Uint8Array(await f.arrayBuffer()), f.name));
  };
  resSel.onchange = async () => {
    try {
      const s = await startCamera();
      stream.getTracks().forEach((t) => t.stop());
      stream = s;
      video.srcObject = s;
      await video.play();
    } catch (e) {
      fail(errText(e));
    }
  };

  status.textContent = `adapter: ${rt.info.adapter}`;
  const stamps: number[] = [];
  let stage = '';
  const smooth = (old: number, v: number) => (state.frames < 2 ? v : old * 0.8 + v * 0.2);
  for (;;) {
    if (next) {
      const m = await next;
      next = null;
      if (m) {
        model.session.dispose();
        model.pre.dispose();
        model.smooth.dispose();
        model = m;
        status.textContent = `adapter: ${rt.info.adapter}`;
        status.className = '';
      }
    }
    const vw = video.videoWidth, vh = video.videoHeight;
    if (video.readyState >= 2 && vw && vh) {
      try {
        await frame(model, vw, vh);
      } catch (e) {
        return fail(`frame failed (${stage}): ${errText(e)}`);
      }
    }
    await new Promise((ok) => requestAnimationFrame(ok));
  }

  async function frame(m: Loaded, vw: number, vh: number) {
    stage = 'preprocess';
    if (canvas.width !== vw || canvas.height !== vh) Object.assign(canvas, { width: vw, height: vh });
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    if (state.path === 'external') {
      try {
        m.pre.encode(enc, video, vw, vh);
      } catch (e) {
        // this browser cannot import the video as an external texture (headless Chromium on SwiftShader): use an ImageBitmap
        console.info(`importExternalTexture failed (${errText(e)}); using createImageBitmap(video) instead`);
        state.path = 'bitmap';
      }
    }
    if (state.path === 'bitmap') {
      const bitmap = await createImageBitmap(video);
      m.pre.encode(enc, bitmap, vw, vh);
      bitmap.close();
    }
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const t1 = performance.now();
    stage = 'model';
    const out = await m.session.run({ [m.input]: { buffer: m.pre.output, dims: m.pre.dims, type: 'float32' } });
    const mask = out[m.output];
    await device.queue.onSubmittedWorkDone();
    const t2 = performance.now();
    stage = 'composite';
    const enc2 = device.createCommandEncoder();
    m.smooth.encode(enc2, mask.buffer, 1 - Number(smoothIn.value));
    comp.encode(enc2, ctx!.getCurrentTexture().createView(), m.pre.frame!, m.smooth.output, m.maskW, m.maskH, { mode: modeSel.value as CompositeMode, mirror: mirrorBox.checked });
    const waiters = sampleWaiters;
    sampleWaiters = [];
    const nIn = m.pre.output.size, nMask = m.maskW * m.maskH * 4;
    const staging = waiters.length ? device.createBuffer({ size: nIn + nMask, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ }) : null;
    if (staging) {
      enc2.copyBufferToBuffer(m.pre.output, 0, staging, 0, nIn);
      enc2.copyBufferToBuffer(mask.buffer, 0, staging, nIn, nMask);
    }
    device.queue.submit([enc2.finish()]);
    await device.queue.onSubmittedWorkDone();
    const t3 = performance.now();
    for (const t of Object.values(out)) t.dispose();

    state.frames++;
    state.ms = { prep: smooth(state.ms.prep, t1 - t0), model: smooth(state.ms.model, t2 - t1), composite: smooth(state.ms.composite, t3 - t2) };
    stamps.push(t3);
    if (stamps.length > 11) stamps.shift();
    state.fps = stamps.length > 1 ? ((stamps.length - 1) * 1000) / (t3 - stamps[0]) : 0;
    state.model = m.label;
    state.camera = `${vw}×${vh}`;
    state.ready = true;
    hud.textContent =
      `${state.fps.toFixed(1)} fps   frame ${state.frames}\n` +
      `prep ${state.ms.prep.toFixed(1)} ms · model ${state.ms.model.toFixed(1)} ms · composite ${state.ms.composite.toFixed(1)} ms\n` +
      `${m.label} · camera ${state.camera} (${state.path}) · ${rt.info.adapter}`;
    if (staging) {
      stage = 'read back';
      await staging.mapAsync(GPUMapMode.READ);
      const input = new Float32Array(staging.getMappedRange(0, nIn).slice(0));
      const mk = new Float32Array(staging.getMappedRange(nIn, nMask).slice(0));
      staging.destroy();
      const s = maskStats(mk, m.maskW, m.maskH);
      state.maskMean = s.mean;
      state.maskCoverage = s.coverage;
      const [layout, dims] = [m.pre.opts.layout, m.pre.dims];
      for (const ok of waiters) ok({ ...s, input: Array.from(input), layout, width: layout === 'nhwc' ? dims[2] : dims[3], height: layout === 'nhwc' ? dims[1] : dims[2] });
    }
  }
}

function maskStats(mask: Float32Array, w: number, h: number) {
  let sum = 0, n = 0, sx = 0, sy = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = mask[y * w + x];
      sum += v;
      if (v > 0.5) (n++, (sx += x + 0.5), (sy += y + 0.5));
    }
  return { mean: sum / (w * h), coverage: n / (w * h), cx: n ? sx / n / w : NaN, cy: n ? sy / n / h : NaN };
}

void main().catch((e) => fail(errText(e)));
