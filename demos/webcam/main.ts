import {
  Compositor,
  FrameStats,
  kernels,
  loadSegModel,
  NO_WEBGPU_MESSAGE,
  nextFrame,
  requestCamera,
  SegmentRenderer,
  type CompositeMode,
  type FrameSample,
  type SegModel,
} from '../../src/index';

// The MediaPipe selfie models as shipped in npm @mediapipe/selfie_segmentation, bundled by Vite as assets.
const MODELS: Record<string, string> = {
  portrait: new URL('../../node_modules/@mediapipe/selfie_segmentation/selfie_segmentation.tflite', import.meta.url)
    .href,
  landscape: new URL(
    '../../node_modules/@mediapipe/selfie_segmentation/selfie_segmentation_landscape.tflite',
    import.meta.url,
  ).href,
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status'),
  hud = $('hud'),
  video = $<HTMLVideoElement>('video'),
  canvas = $<HTMLCanvasElement>('canvas');
const pick = <T extends HTMLElement>(id: string, v: string | null) => (
  v !== null && (($(id) as unknown as HTMLInputElement).value = v), $<T>(id)
);
// ?model=portrait|landscape, ?mode=mask|blur|replace|cutout, ?mirror=0 (the browser test uses them)
const params = new URLSearchParams(location.search);
const modelSel = pick<HTMLSelectElement>('model', params.get('model'));
const modeSel = pick<HTMLSelectElement>('mode', params.get('mode'));
const resSel = pick<HTMLSelectElement>('res', params.get('res'));
const mirrorBox = $<HTMLInputElement>('mirror');
// ?smooth=0..0.9: weight of the previous frames' mask (temporal smoothing on the GPU; 0 = off)
const smoothIn = pick<HTMLInputElement>('smooth', params.get('smooth'));
if (params.get('mirror') === '0') mirrorBox.checked = false;

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
  sample: (): Promise<FrameSample> => new Promise((ok) => sampleWaiters.push(ok)),
};
(window as unknown as { __wgseg: typeof state }).__wgseg = state;
let sampleWaiters: ((s: FrameSample) => void)[] = [];

function fail(message: string) {
  state.error = message;
  status.textContent = message;
  status.className = 'error';
}
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface Loaded {
  model: SegModel;
  renderer: SegmentRenderer;
}

/**
 * A model with one RGB image input ([1,h,w,3] or [1,3,h,w]) and a one-channel mask output, and its
 * renderer. A download shows a progress bar and is kept in Cache Storage for the next visit.
 */
async function loadModel(rt: kernels.Runtime, src: string | Uint8Array, label: string): Promise<Loaded> {
  const bar = $<HTMLProgressElement>('progress');
  bar.removeAttribute('value');
  bar.hidden = false;
  try {
    const model = await loadSegModel(rt, src, label, {
      cache: true,
      onProgress: (loaded, total) => void (total && ((bar.max = total), (bar.value = loaded))),
    });
    return { model, renderer: new SegmentRenderer(rt, model, mirrorBox.checked) };
  } finally {
    bar.hidden = true;
  }
}

function release(m: Loaded) {
  m.renderer.dispose();
  m.model.session.dispose();
}

function startCamera(): Promise<MediaStream> {
  const [width, height] = resSel.value.split('x').map(Number);
  return requestCamera(width, height);
}

async function main() {
  if (!('gpu' in navigator) || !navigator.gpu) return fail(NO_WEBGPU_MESSAGE);
  let rt: kernels.Runtime;
  try {
    rt = await kernels.Runtime.create();
  } catch (e) {
    return fail(`No usable WebGPU adapter: ${errText(e)}`);
  }
  const device = rt.device;
  device.lost.then(
    (info) => info.reason !== 'destroyed' && fail(`The GPU device was lost (${info.message}); reload the page.`),
  );
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
      if (m.status === 'fulfilled') release(m.value);
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
  const stats = new FrameStats();
  let last = 0;
  for (;;) {
    if (next) {
      const m = await next;
      next = null;
      if (m) {
        release(model);
        model = m;
        status.textContent = `adapter: ${rt.info.adapter}`;
        status.className = '';
      }
    }
    const vw = video.videoWidth,
      vh = video.videoHeight;
    if (video.readyState >= 2 && vw && vh) {
      try {
        last = performance.now();
        await frame(model, vw, vh);
      } catch (e) {
        return fail(`frame failed (${model.renderer.stage}): ${errText(e)}`);
      }
    }
    await nextFrame(last);
  }

  async function frame({ model: m, renderer }: Loaded, vw: number, vh: number) {
    if (canvas.width !== vw || canvas.height !== vh) Object.assign(canvas, { width: vw, height: vh });
    const waiters = sampleWaiters;
    sampleWaiters = [];
    const sampled = waiters.length ? renderer.sample() : null;
    const ms = await renderer.frame(video, vw, vh, comp, () => ctx!.getCurrentTexture().createView(), {
      mode: modeSel.value as CompositeMode,
      mirror: mirrorBox.checked,
      smoothing: Number(smoothIn.value),
    });
    stats.add(ms);
    Object.assign(state, {
      frames: stats.frames,
      fps: stats.fps,
      ms: stats.ms,
      model: m.label,
      camera: `${vw}×${vh}`,
      path: renderer.path,
      ready: true,
    });
    hud.textContent =
      `${state.fps.toFixed(1)} fps   frame ${state.frames}\n` +
      `prep ${state.ms.prep.toFixed(1)} ms · model ${state.ms.model.toFixed(1)} ms · composite ${state.ms.composite.toFixed(1)} ms\n` +
      `${m.label} · camera ${state.camera} (${state.path}) · ${rt.info.adapter}`;
    if (sampled) {
      const s = await sampled;
      state.maskMean = s.mean;
      state.maskCoverage = s.coverage;
      for (const ok of waiters) ok(s);
    }
  }
}

void main().catch((e) => fail(errText(e)));
