import { readFileSync, writeFileSync } from 'node:fs';
import { WgsegError } from '../../src/errors';
import { Runtime } from '../../src/gpu/runtime';
import { seedsOf } from './cases';
import { exercise, type Outcome } from './exercise';
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
async function misbehave(bytes: Uint8Array): Promise<void> {
  const text = new TextDecoder().decode(bytes.subarray(0, 32));
  if (!text.startsWith('SELFTEST:')) return;
  const what = text.slice(9).trim();
  if (what === 'hang') for (;;);
  if (what === 'crash') process.exit(9);
  if (what === 'throw') throw new TypeError('self-test TypeError');
  if (what === 'memory') for (let i = 0; i < 64; i++) kept.push(new Uint8Array(64 * 2 ** 20).fill(1)); // 4 GiB, touched
  if (what === 'leak') for (let i = 0; i < 8; i++) kept.push(new Uint8Array(64 * 2 ** 20).fill(1)); // 512 MiB, kept
}

async function main() {
  const rt = await Runtime.create();
  let gpuErrors: string[] = [];
  rt.device.addEventListener('uncapturederror', (e) => gpuErrors.push((e as GPUUncapturedErrorEvent).error.message));
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
    const t0 = performance.now();
    let outcome: Outcome | undefined, failure: string | undefined;
    try {
      if (selftest) await misbehave(m.bytes);
      outcome = await exercise(m.format, m.bytes, model(m.format, m.seed), rt, m.id);
      if (outcome.code === 'GPU_VALIDATION') failure = `GPU validation error (a check is missing before the GPU): ${outcome.message}`;
    } catch (e) {
      failure = e instanceof WgsegError ? `${e.code}: ${e.message}` : e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : `thrown ${typeof e}: ${String(e)}`;
    }
    if (!failure && (gpuErrors.length || rt.isLost)) failure = rt.isLost ? 'the GPU device was lost' : `uncaptured GPU error: ${gpuErrors[0]}`;
    const ms = performance.now() - t0;
    const peakRss = rss('VmHWM');
    const settledRss = m.settle ? settle() : undefined;
    rss('VmHWM', true); // the next case's peak starts from here
    const res: ResultMsg = { id: m.id, ms, peakRss, ...(settledRss !== undefined ? { settledRss } : {}), ...(failure ? { failure: failure.slice(0, 4000) } : { outcome }) };
    send(res);
    if (rt.isLost) process.exit(3); // the harness starts a fresh worker
  });
}

main().catch((e) => {
  send({ fatal: (e as Error)?.stack ?? String(e) });
  process.exit(2);
});
