import type { StageTimes } from './renderer';

/**
 * Pacing and statistics of a live view's frame loop (demos/webcam and <wgseg-view>): wait for the next
 * animation frame, no sooner than `1000 / fpsCap` ms after the last frame started (0 = no cap); an
 * `abort` signal ends the wait early.
 */
export function nextFrame(lastStart: number, fpsCap = 0, abort?: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    if (abort?.aborted) return ok();
    let raf = 0,
      timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      cancelAnimationFrame(raf);
      clearTimeout(timer);
      abort?.removeEventListener('abort', done);
      ok();
    };
    abort?.addEventListener('abort', done);
    raf = requestAnimationFrame(() => {
      const wait = fpsCap > 0 ? lastStart + 1000 / fpsCap - performance.now() : 0;
      if (wait > 1) timer = setTimeout(done, wait);
      else done();
    });
  });
}

/** Frames per second over the last `window` frames, and per-stage times smoothed over frames. */
export class FrameStats {
  frames = 0;
  fps = 0;
  ms: StageTimes = { prep: 0, model: 0, composite: 0 };
  private stamps: number[] = [];

  constructor(private readonly window = 10) {}

  /** Record a frame that ended at `end` (performance.now()) with these stage times. */
  add(t: StageTimes, end = performance.now()): void {
    const k = this.frames < 2 ? 1 : 0.2;
    this.ms = {
      prep: this.ms.prep + (t.prep - this.ms.prep) * k,
      model: this.ms.model + (t.model - this.ms.model) * k,
      composite: this.ms.composite + (t.composite - this.ms.composite) * k,
    };
    this.frames++;
    this.stamps.push(end);
    if (this.stamps.length > this.window + 1) this.stamps.shift();
    const s = this.stamps;
    this.fps = s.length > 1 ? ((s.length - 1) * 1000) / (end - s[0]) : 0;
  }

  /** Forget the frame rate history (after a pause, e.g. a still image re-rendered). */
  resetRate(): void {
    this.stamps = [];
  }
}
