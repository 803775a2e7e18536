import { readFileSync, writeFileSync } from 'node:fs';
import { WgsegError } from '../../src/index';
import { Runtime } from '../../src/internal';
import { seedsOf } from './cases';
import { exercise, FUZZ_LIMITS, type Outcome } from './exercise';
import { FORMATS, type Format } from './seeds';

/**
 * The child process the harness runs cases in (so a hang or a crash is killed and counted, not
 * inherited). Messages: in {id, format, seed, bytes}, out {id, outcome | failure, ms, peakRss}.
 * A failure is anything but success or a WgsegError: another exception, a GPU validation error
 * (WebGPU refused work wgseg's own checks let through), an uncaptured GPU error, a lost device,
 * or a written input. Peak RSS per case from /proc (VmHWM, reset before each case).
 */

export interface CaseMsg {
  id: number;
  format: Format;
  seed: string;
  bytes: Uint8Array;
  /** measure what is left behind: a full GC after the case, then the RSS */
  settle: boolean;
}
export interface ResultMsg {
  id: number;
  outcome?: Outcome;
  failure?: string;
  ms: number;
  /** peak resident set size during the case, bytes (0 where /proc is absent) */
  peakRss: number;
  /** with `settle`: resident set size after the case and a full garbage collection */
  settledRss?: number;
  /** pipelines in the device's cache after the case */
  pipelines: number;
}

const send = (m: unknown) => process.send!(m);

/** VmHWM (peak RSS) or VmRSS of this process in bytes; the peak is reset to the current RSS by writing 5 to clear_refs. */
function rss(which: 'VmHWM' | 'VmRSS', reset = false): number {
  try {
    const kb = Number(new RegExp(`${which}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
    if (reset) writeFileSync('/proc/self/clear_refs', '5');
    return kb * 1024;
  } catch {
    return 0;
  }
}

/** A full garbage collection (the worker runs with --expose-gc), then the resident set. */
function settle(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return rss('VmRSS');
}

/** With WGSEG_FUZZ_SELFTEST=1, files starting "SELFTEST:<what>" make the worker fail on purpose (the harness test checks each is caught). */
const selftest = process.env.WGSEG_FUZZ_SELFTEST === '1';
const kept: unknown[] = [];
async function misbehave(bytes: Uint8Array, rt: Runtime): Promise<void> {
  const text = new TextDecoder().decode(bytes.subarray(0, 32));
  if (!text.startsWith('SELFTEST:')) return;
  const what = text.slice(9).trim();
  if (what === 'hang') for (;;);
  if (what === 'crash') process.exit(9);
  if (what === 'throw') throw new TypeError('self-test TypeError');
  if (what === 'memory') for (let i = 0; i < 64; i++) kept.push(new Uint8Array(64 * 2 ** 20).fill(1)); // 4 GiB, touched
  if (what === 'bigbuffer') rt.device.createBuffer({ size: 100 * 2 ** 20, usage: 0x80 }).destroy(); // over maxBufferBytes
  if (what === 'leak') for (let i = 0; i < 8; i++) kept.push(new Uint8Array(64 * 2 ** 20).fill(1)); // 512 MiB, kept
}

async function main() {
  const rt = await Runtime.create();
  let gpuErrors: string[] = [];
  rt.device.addEventListener('uncapturederror', (e) => gpuErrors.push((e as GPUUncapturedErrorEvent).error.message));
  // every buffer the device is asked for: none may be over the sessions' maxBufferBytes, nor all of a case's over maxTotalBytes
  let biggest = 0,
    live = 0,
    peakLive = 0;
  const create = rt.device.createBuffer.bind(rt.device);
  rt.device.createBuffer = (d: GPUBufferDescriptor) => {
    biggest = Math.max(biggest, d.size);
    const b = create(d);
    const destroy = b.destroy.bind(b);
    let gone = false;
    live += d.size;
    peakLive = Math.max(peakLive, live);
    b.destroy = () => {
      if (!gone) (gone = true), (live -= d.size);
      destroy();
    };
    return b;
  };
  // every seed, unmutated, must load and run: warms the pipeline cache and proves the seeds valid
  const model = (format: Format, name: string) => seedsOf(format).find((s) => s.name === name)?.model;
  const formats = (process.env.WGSEG_FUZZ_FORMATS?.split(',') ?? FORMATS) as Format[];
  for (const f of formats) {
    for (const s of seedsOf(f)) {
      const o = await exercise(f, s.bytes, s.model, rt, 0);
      if (o.status !== 'ok') throw new Error(`seed ${f}/${s.name} does not run: ${o.code} ${o.message}`);
    }
  }
  send({ ready: true, adapter: rt.info.adapter, baselineRss: settle() });
  rss('VmHWM', true);
  process.on('message', async (m: CaseMsg) => {
    gpuErrors = [];
    biggest = 0;
    const liveBefore = live;
    peakLive = live;
    const t0 = performance.now();
    let outcome: Outcome | undefined, failure: string | undefined;
    try {
      if (selftest) await misbehave(m.bytes, rt);
      outcome = await exercise(m.format, m.bytes, model(m.format, m.seed), rt, m.id);
      if (outcome.code === 'GPU_VALIDATION')
        failure = `GPU validation error (a check is missing before the GPU): ${outcome.message}`;
    } catch (e) {
      failure =
        e instanceof WgsegError
          ? `${e.code}: ${e.message}`
          : e instanceof Error
            ? (e.stack ?? `${e.name}: ${e.message}`)
            : `thrown ${typeof e}: ${String(e)}`;
    }
    if (!failure && (gpuErrors.length || rt.isLost))
      failure = rt.isLost ? 'the GPU device was lost' : `uncaptured GPU error: ${gpuErrors[0]}`;
    if (!failure && biggest > FUZZ_LIMITS.maxBufferBytes!)
      failure = `a GPU buffer of ${biggest} bytes was created, over the sessions' maxBufferBytes ${FUZZ_LIMITS.maxBufferBytes}`;
    // the plan's buffers, plus read-back staging, the pool's cached outputs and uniform chunks: allowed 2x
    if (!failure && peakLive - liveBefore > 2 * FUZZ_LIMITS.maxTotalBytes!)
      failure = `GPU buffers of ${peakLive - liveBefore} bytes were live at once, over twice the sessions' maxTotalBytes ${FUZZ_LIMITS.maxTotalBytes}`;
    const ms = performance.now() - t0;
    const peakRss = rss('VmHWM');
    const settledRss = m.settle ? settle() : undefined;
    rss('VmHWM', true); // the next case's peak starts from here
    const res: ResultMsg = {
      id: m.id,
      ms,
      peakRss,
      pipelines: rt.pipelines.size,
      ...(settledRss !== undefined ? { settledRss } : {}),
      ...(failure ? { failure: failure.slice(0, 4000) } : { outcome }),
    };
    send(res);
    if (rt.isLost) process.exit(3); // the harness starts a fresh worker
  });
}

main().catch((e) => {
  send({ fatal: (e as Error)?.stack ?? String(e) });
  process.exit(2);
});
