import { WgsegError } from '../core/errors';
import { onDeviceLost } from '../gpu/device';
import type { Runtime } from '../gpu/runtime';
import { COMPOSITE_MODES, type Background, type CompositeMode, type Compositor } from './composite';
import { FrameStats, nextFrame } from './frame-loop';
import { SegmentRenderer, type FrameSample, type StageTimes } from './renderer';
import type { SegModel } from './seg-model';
import {
  acquireModel,
  acquireRuntime,
  compositorFor,
  releaseModel,
  releaseRuntime,
  sharedStats,
  type SharedStats,
} from './shared';
import { NO_WEBGPU_MESSAGE, openSource, type FrameSource } from './sources';

/** Built-in model names -> file names, resolved against `WgsegView.modelBase`. */
export const BUILTIN_MODELS: Record<string, string> = {
  selfie: 'selfie_segmentation.tflite',
  'selfie-landscape': 'selfie_segmentation_landscape.tflite',
};

export interface WgsegReadyDetail {
  model: string;
  adapter: string;
  source: FrameSource['kind'];
}
export interface WgsegFrameDetail {
  ms: StageTimes;
  fps: number;
  frames: number;
}
/** `progress` events while the model downloads: bytes so far, and the total when the server says it */
export interface WgsegProgressDetail {
  loaded: number;
  total?: number;
}
export interface WgsegErrorDetail {
  message: string;
  code?: string;
}
export interface WgsegViewStats extends SharedStats {
  /** connected views, and the GPUDevices they use (one, however many views) */
  views: number;
  /** live camera tracks held by views */
  cameraTracks: number;
  /** GPU bytes held by the views themselves (frame textures, model input, smoothed mask, backgrounds) */
  viewBytes: number;
}

const SMOOTHING = 0.5;
const STYLE = `
:host { display: inline-block; position: relative; width: 320px; background: #111; color: #fff; overflow: hidden; }
:host([hidden]) { display: none; }
canvas { display: block; width: 100%; height: auto; }
video { display: none; }
.msg { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; padding: 1em; box-sizing: border-box;
  font: 14px/1.4 system-ui, sans-serif; text-align: center; background: rgba(0, 0, 0, 0.75); }
.msg[hidden] { display: none; }
progress { position: absolute; left: 10%; bottom: 1em; width: 80%; }
progress[hidden] { display: none; }`;

/** One stylesheet object adopted by every view's shadow root. */
let sheet: CSSStyleSheet | null = null;
/** Where a camera is stopped (hidden, pagehide) and restarted (visible, pageshow); visibilitychange fires on document, the others on window. */
const PAGE_EVENTS = ['visibilitychange', 'pagehide', 'pageshow'] as const;

const views = new Set<WgsegView>();
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * `<wgseg-view src="camera" model="selfie" mode="blur">`: live segmentation of a camera, video or
 * image on a WebGPU canvas in its shadow DOM. Attributes: src (camera | image URL | video URL), model
 * (a .tflite/.onnx URL or selfie | selfie-landscape), mode (mask | blur | replace | cutout),
 * background (a CSS colour or an image URL, for replace), fps-cap, cache (models are kept in Cache
 * Storage 'wgseg-models' by default; "off" fetches every time, another value names the cache).
 * Events: progress (the model's download, also shown as a bar), ready, frame, error, and devicelost
 * (the view then recovers on its own onto a new device and fires ready again).
 */
export class WgsegView extends HTMLElement {
  static observedAttributes = ['src', 'model', 'mode', 'background', 'fps-cap'];
  /** where built-in models are fetched from; default: the folder this module was loaded from */
  static modelBase = import.meta.url.replace(/[^/]*([?#].*)?$/, '');

  /** Resolves a `model` attribute value: a built-in name or a URL (relative to the page). */
  static modelUrl(name: string): string {
    const file = BUILTIN_MODELS[name];
    return new URL(file ? WgsegView.modelBase + file : name, document.baseURI).href;
  }

  /** What the views on this page hold: devices, sessions (with reference counts), pool and view bytes. */
  static async stats(): Promise<WgsegViewStats> {
    const s = await sharedStats();
    const live = [...views];
    return {
      ...s,
      views: live.length,
      devices: new Set(live.map((v) => v.#rt?.device).filter(Boolean)).size,
      cameraTracks: live.reduce(
        (n, v) =>
          n +
          (v
            .#stream()
            ?.getTracks()
            .filter((t) => t.readyState === 'live').length ?? 0),
        0,
      ),
      viewBytes: live.reduce((n, v) => n + v.#bytes(), 0),
    };
  }

  readonly #canvas: HTMLCanvasElement;
  readonly #video: HTMLVideoElement;
  readonly #msg: HTMLDivElement;
  readonly #bar: HTMLProgressElement;
  #abort: AbortController | null = null;
  #wake: (() => void) | null = null;
  #dirty = true;
  #rt: Runtime | null = null;
  #source: FrameSource | null = null;
  #renderer: SegmentRenderer | null = null;
  #background: { key: string; value?: Background; texture?: GPUTexture } = { key: '' };
  /** the page is hidden or being left: a camera stays off until it is shown again */
  #pageHidden = false;

  constructor() {
    super();
    // built with the DOM and a constructed stylesheet (no <style> element, no style attribute): a page
    // whose Content-Security-Policy has no 'unsafe-inline' styles accepts both
    const root = this.attachShadow({ mode: 'open' });
    if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
    this.#canvas = element('canvas', { part: 'canvas' });
    this.#video = element('video', { muted: '', playsinline: '' });
    this.#video.muted = true;
    this.#msg = element('div', { class: 'msg', part: 'message', role: 'alert', hidden: '' });
    this.#bar = element('progress', { part: 'progress', hidden: '' });
    root.append(this.#canvas, this.#video, this.#msg, this.#bar);
  }

  connectedCallback(): void {
    if (this.#abort) return;
    views.add(this);
    this.#abort = new AbortController();
    for (const type of PAGE_EVENTS)
      (type === 'visibilitychange' ? document : window).addEventListener(type, this.#onPage);
    this.#pageHidden = document.visibilityState === 'hidden';
    void this.#run(this.#abort.signal);
  }

  disconnectedCallback(): void {
    // a move within the page disconnects and reconnects at once: keep running then
    queueMicrotask(() => {
      if (this.isConnected || !this.#abort) return;
      views.delete(this);
      for (const type of PAGE_EVENTS)
        (type === 'visibilitychange' ? document : window).removeEventListener(type, this.#onPage);
      this.#abort.abort();
      this.#abort = null;
      this.#source?.close(); // the camera goes off now; GPU resources go when the loop has left its frame
    });
  }

  /**
   * Page hidden (another tab, minimised) or left (pagehide, e.g. into the back/forward cache): a
   * camera is stopped at once, its light goes off; visible again (or pageshow): the loop reopens it.
   */
  readonly #onPage = (e: Event): void => {
    const hidden = e.type === 'pagehide' || (e.type === 'visibilitychange' && document.visibilityState === 'hidden');
    if (hidden === this.#pageHidden) return;
    this.#pageHidden = hidden;
    if (hidden) {
      if (this.#source?.kind !== 'camera') return;
      this.#source.close();
      this.#source = null;
    } else {
      this.#dirty = true;
      this.#wake?.();
    }
  };

  attributeChangedCallback(_name: string, old: string | null, value: string | null): void {
    if (old === value) return;
    this.#dirty = true;
    this.#wake?.();
  }

  /** Reads back the next frame's model input and raw mask (re-rendering a still image). */
  async readMask(): Promise<FrameSample> {
    const r = this.#renderer;
    if (!r) throw new WgsegError('BAD_INPUT', 'wgseg-view: no model loaded yet (wait for the ready event)');
    const p = r.sample();
    this.#dirty = true;
    this.#wake?.();
    return p;
  }

  #stream(): MediaStream | null {
    return this.#source?.kind === 'camera' ? (this.#video.srcObject as MediaStream | null) : null;
  }

  #bytes(): number {
    return (
      (this.#renderer?.bytes ?? 0) +
      (this.#background.texture ? this.#background.texture.width * this.#background.texture.height * 4 : 0)
    );
  }

  #emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }

  /** A message over the view that is not an error (e.g. while recovering from a device loss). */
  #showMessage(text: string): void {
    this.#msg.textContent = text;
    this.#msg.hidden = false;
  }

  #showError(e: unknown): void {
    const message = errText(e);
    this.#msg.textContent = message;
    this.#msg.hidden = false;
    this.#emit<WgsegErrorDetail>('error', { message, code: e instanceof WgsegError ? e.code : undefined });
  }

  /** Resolves on an attribute change, a readMask() call or disconnection. */
  #waitForChange(signal: AbortSignal): Promise<void> {
    if (this.#dirty || signal.aborted) return Promise.resolve();
    return new Promise((ok) => {
      const done = () => ((this.#wake = null), signal.removeEventListener('abort', done), ok());
      this.#wake = done;
      signal.addEventListener('abort', done);
    });
  }

  /** The frame loop of one connection: (re)loads what the attributes ask for, renders, releases everything on exit. */
  async #run(signal: AbortSignal): Promise<void> {
    let modelUrl = '',
      srcKey: string | null = null,
      model: SegModel | null = null;
    const stats = new FrameStats();
    let unwatch = () => {};
    try {
      if (!('gpu' in navigator) || !navigator.gpu) throw new WgsegError('NO_WEBGPU', NO_WEBGPU_MESSAGE);
      try {
        this.#rt = await acquireRuntime();
      } catch (e) {
        throw new WgsegError('NO_WEBGPU', `No usable WebGPU adapter: ${errText(e)}`);
      }
      const rt = this.#rt;
      const format = navigator.gpu.getPreferredCanvasFormat();
      const ctx = this.#canvas.getContext('webgpu');
      if (!ctx) throw new WgsegError('NO_WEBGPU', 'This canvas cannot be used with WebGPU.');
      // attach to the runtime's device: canvas, compositor, and a wake-up (also of a still view) when it is lost
      let comp!: Compositor,
        gen = -1,
        recovering = false;
      const attach = async () => {
        unwatch();
        unwatch = onDeviceLost(rt.device, () => ((this.#dirty = true), this.#wake?.()));
        ctx.configure({ device: rt.device, format, alphaMode: 'opaque' });
        comp = await compositorFor(format);
        gen = rt.generation;
      };
      await attach();
      let last = 0;
      while (!signal.aborted) {
        const wasDirty = this.#dirty;
        this.#dirty = false;
        if (!model) modelUrl = ''; // a failed load is tried again (after the next attribute change)
        if (!this.#source) srcKey = null;
        try {
          const want = WgsegView.modelUrl(this.getAttribute('model') || 'selfie');
          const wantSrc = this.getAttribute('src') ?? '';
          let changed = false;
          if (rt.isLost || rt.generation !== gen) {
            // device lost: the shared runtime moves to a new device (sessions re-upload their weights
            // on their next run); this view rebuilds its canvas configuration, renderer and background
            recovering = true;
            const message = `The GPU device was lost (${rt.lostReason ?? 'replaced'}); recovering…`;
            this.#showMessage(message);
            this.#emit<WgsegErrorDetail>('devicelost', { message, code: 'DEVICE_LOST' });
            await rt.recover();
            if (signal.aborted) break;
            this.#renderer?.dispose();
            this.#renderer = null;
            this.#background.texture?.destroy();
            this.#background = { key: '' };
            await attach();
            recovering = false;
            changed = true;
          }
          if (want !== modelUrl) {
            this.#renderer?.dispose();
            this.#renderer = null;
            if (model) releaseModel(modelUrl);
            (model = null), (modelUrl = want);
            const bar = this.#bar,
              cache = this.getAttribute('cache');
            bar.removeAttribute('value');
            bar.hidden = false;
            try {
              model = await acquireModel(
                want,
                this.getAttribute('model') || 'selfie',
                cache !== 'off' && (cache || true),
                (loaded, total) => {
                  if (total) (bar.max = total), (bar.value = loaded);
                  this.#emit<WgsegProgressDetail>('progress', { loaded, total });
                },
              );
            } finally {
              bar.hidden = true;
            }
            if (signal.aborted) break;
            changed = true;
          }
          if (wantSrc === 'camera' && this.#pageHidden) {
            // no camera while the page is hidden (#onPage stopped it): wait to be shown (or changed)
            this.#source?.close();
            this.#source = null;
            await this.#waitForChange(signal);
            continue;
          }
          if (wantSrc !== srcKey) {
            this.#source?.close();
            this.#source = null;
            srcKey = wantSrc;
            const source = await openSource(wantSrc, this.#video);
            if (signal.aborted || (source.kind === 'camera' && this.#pageHidden)) {
              source.close(); // hidden while the camera was starting
              if (signal.aborted) break;
              continue;
            }
            this.#source = source;
            changed = true;
          }
          const mirror = this.#source!.kind === 'camera';
          if (!this.#renderer || this.#renderer.mirror !== mirror) {
            this.#renderer?.dispose();
            this.#renderer = new SegmentRenderer(rt, model!, mirror);
          }
          await this.#loadBackground(rt);
          if (signal.aborted) break;
          this.#msg.hidden = true;
          if (changed) {
            stats.resetRate();
            this.#emit<WgsegReadyDetail>('ready', {
              model: model!.label,
              adapter: rt.info.adapter,
              source: this.#source!.kind,
            });
          }
          const src = this.#source!,
            size = src.size();
          if (size && (src.live || wasDirty || changed)) {
            const [w, h] = size;
            if (this.#canvas.width !== w || this.#canvas.height !== h)
              Object.assign(this.#canvas, { width: w, height: h });
            last = performance.now();
            const mode = (COMPOSITE_MODES as readonly string[]).includes(this.getAttribute('mode') ?? '')
              ? (this.getAttribute('mode') as CompositeMode)
              : 'mask';
            const ms = await this.#renderer.frame(src.element, w, h, comp, () => ctx.getCurrentTexture().createView(), {
              mode,
              mirror,
              smoothing: src.live ? SMOOTHING : 0,
              background: this.#background.value,
            });
            if (signal.aborted) break;
            stats.add(ms);
            this.#emit<WgsegFrameDetail>('frame', { ms, fps: src.live ? stats.fps : 0, frames: stats.frames });
          }
          if (src.live) await nextFrame(last, Math.max(0, Number(this.getAttribute('fps-cap')) || 0), signal);
          else await this.#waitForChange(signal);
        } catch (e) {
          if (signal.aborted) break;
          if (!recovering && (rt.isLost || rt.generation !== gen)) continue; // a frame that met the loss: recover above
          this.#showError(
            recovering
              ? new WgsegError('DEVICE_LOST', `The GPU device was lost and could not be recreated: ${errText(e)}`)
              : e,
          );
          recovering = false;
          await this.#waitForChange(signal); // retry when an attribute changes
        }
      }
    } catch (e) {
      if (!signal.aborted) this.#showError(e);
    } finally {
      unwatch();
      this.#source?.close();
      this.#source = null;
      this.#renderer?.dispose();
      this.#renderer = null;
      this.#background.texture?.destroy();
      this.#background = { key: '' };
      if (model) releaseModel(modelUrl);
      if (this.#rt) releaseRuntime();
      this.#rt = null;
    }
  }

  /** The `background` attribute -> a colour or an image texture (reloaded only when it changes). */
  async #loadBackground(rt: Runtime): Promise<void> {
    const key = this.getAttribute('background') ?? '';
    if (key === this.#background.key) return;
    this.#background.texture?.destroy();
    this.#background = { key };
    if (!key) return;
    const color = parseColor(key);
    if (color) return void (this.#background.value = { color });
    const res = await fetch(new URL(key, document.baseURI)).catch((e) =>
      Promise.reject(new WgsegError('BAD_INPUT', `background ${key}: cannot fetch (${errText(e)})`)),
    );
    if (!res.ok) throw new WgsegError('BAD_INPUT', `background ${key}: HTTP ${res.status}`);
    const bitmap = await createImageBitmap(await res.blob()).catch((e) =>
      Promise.reject(new WgsegError('BAD_INPUT', `background ${key}: not an image (${errText(e)})`)),
    );
    if (key !== this.#background.key) return bitmap.close();
    const texture = rt.device.createTexture({
      size: [bitmap.width, bitmap.height],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
      label: 'wgseg background',
    });
    rt.device.queue.copyExternalImageToTexture({ source: bitmap }, { texture }, [bitmap.width, bitmap.height]);
    bitmap.close();
    this.#background = { key, texture, value: { texture } };
  }
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string>,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/** A CSS colour -> rgb in [0,1], or null when `value` is not a colour (then it is an image URL). */
function parseColor(value: string): [number, number, number] | null {
  if (!CSS.supports('color', value)) return null;
  const ctx = new OffscreenCanvas(1, 1).getContext('2d')!;
  ctx.fillStyle = value;
  ctx.fillRect(0, 0, 1, 1);
  const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
  return [r / 255, g / 255, b / 255];
}

if (typeof customElements !== 'undefined' && !customElements.get('wgseg-view'))
  customElements.define('wgseg-view', WgsegView);

declare global {
  interface HTMLElementTagNameMap {
    'wgseg-view': WgsegView;
  }
}
