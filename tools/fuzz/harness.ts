import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { makeCase, type FuzzCase } from './cases';
import type { Format } from './seeds';
import type { ResultMsg } from './worker';

/**
 * The fuzz loop: cases are made here (deterministic from the run seed and case index) and run one
 * at a time in a worker process with a time bound and a memory bound. A case fails when it ends
 * in anything but success or a WgsegError (see worker.ts), runs past the time bound (the worker is
 * killed and replaced), or takes the worker's RSS past the memory bound. Failing files are saved
 * under `.cache/fuzz/` with a note of how to reproduce them.
 */

export interface FuzzOptions {
  cases: number;
  seed: number;
  formats: Format[];
  /** per-case time bound, ms */
  timeoutMs?: number;
  /** worker RSS bound, bytes (checked every 50 ms and after each case) */
  maxRss?: number;
  /**
   * bound on memory left behind: the worker's RSS after a full GC (every 10th case) over its RSS
   * after warm-up, bytes. Growth that stays over the bound for 5 checks in a row (50 cases) is a
   * failure, blamed on the case after the last check under it (allocators keep freed memory a while)
   */
  maxGrowth?: number;
  /** run only these case indices */
  only?: number[];
  /** where failing cases are written */
  outDir?: string;
  /** the cases themselves (default: makeCase from the seed); the harness's own test gives misbehaving ones */
  makeCase?: (index: number) => FuzzCase;
  /** environment for the worker process */
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** every case's outcome as a JSON line (index, format, seed, what, status, code, stage, message) */
  outcomes?: (line: string) => void;
}

export interface FormatStats {
  cases: number;
  ok: number;
  errors: Record<string, number>;
  failures: number;
  maxMs: number;
  peakRss: number;
  /** largest RSS after a case and a full GC, over the worker's baseline */
  growth: number;
  /** how far cases got: import / create / run */
  stages: Record<string, number>;
}

export interface Failure {
  index: number;
  format: Format;
  seed: string;
  what: string;
  reason: string;
  file: string;
}

export interface FuzzReport {
  stats: Record<string, FormatStats>;
  failures: Failure[];
  adapter: string;
  wallMs: number;
  /** most pipelines one worker's device cache held (they are kept for the device's life) */
  pipelines: number;
}

const ROOT = join(import.meta.dirname, '..', '..');
const EXT: Record<Format, string> = { onnx: 'onnx', tflite: 'tflite', safetensors: 'safetensors', npy: 'npy' };

function vmRss(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** A worker process: vite-node running worker.ts, with an IPC channel carrying typed arrays. */
class Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<{ adapter: string; baselineRss: number }>;
  private pending: ((r: ResultMsg | { exit: string }) => void) | null = null;
  private stderr = '';
  constructor(env: Record<string, string> = {}) {
    const viteNode = createRequire(join(ROOT, 'package.json')).resolve('vite-node/cli');
    this.child = fork(viteNode, [join(ROOT, 'tools/fuzz/worker.ts')], {
      cwd: ROOT,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...env },
      execArgv: ['--max-old-space-size=1024', '--expose-gc'],
    });
    this.child.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.ready = new Promise((res, rej) => {
      this.child.on(
        'message',
        (m: { ready?: boolean; adapter?: string; baselineRss?: number; fatal?: string } & Partial<ResultMsg>) => {
          if (m.ready) res({ adapter: m.adapter ?? '', baselineRss: m.baselineRss ?? 0 });
          else if (m.fatal) rej(new Error(`fuzz worker failed to start: ${m.fatal}`));
          else if (this.pending) this.pending(m as ResultMsg), (this.pending = null);
        },
      );
      this.child.on('exit', (code, sig) => {
        const why = `worker exited (code ${code}, signal ${sig})${this.stderr ? `: ${this.stderr.trim().split('\n').slice(-6).join(' | ')}` : ''}`;
        rej(new Error(why));
        if (this.pending) this.pending({ exit: why }), (this.pending = null);
      });
    });
  }
  run(c: FuzzCase, settle: boolean): Promise<ResultMsg | { exit: string }> {
    return new Promise((res) => {
      this.pending = res;
      this.child.send({ id: c.index, format: c.format, seed: c.seed, bytes: c.bytes, settle });
    });
  }
  kill(): void {
    this.child.kill('SIGKILL');
  }
}

export async function fuzz(o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => {});
  const timeoutMs = o.timeoutMs ?? 20_000,
    maxRss = o.maxRss ?? 2 * 2 ** 30,
    maxGrowth = o.maxGrowth ?? 256 * 2 ** 20;
  const outDir = o.outDir ?? join(ROOT, '.cache', 'fuzz');
  const t0 = performance.now();
  const stats: Record<string, FormatStats> = {};
  for (const f of o.formats)
    stats[f] = { cases: 0, ok: 0, errors: {}, failures: 0, maxMs: 0, peakRss: 0, growth: 0, stages: {} };
  const failures: Failure[] = [];
  let pipelines = 0;
  const env = { WGSEG_FUZZ_FORMATS: o.formats.join(','), ...o.env };
  let worker = new Worker(env);
  let { adapter, baselineRss } = await worker.ready;
  const fail = (c: FuzzCase, reason: string, st: FormatStats) => {
    st.failures++;
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${c.format}-s${o.seed}-${c.index}.${EXT[c.format]}`);
    writeFileSync(file, c.bytes);
    writeFileSync(
      `${file}.txt`,
      `seed ${o.seed} case ${c.index} (${c.format}, seed file ${c.seed})\nmutation: ${c.what}\nreproduce: npm run fuzz -- --seed ${o.seed} --only ${c.index} --format ${o.formats.join(',')}\n\n${reason}\n`,
    );
    failures.push({ index: c.index, format: c.format, seed: c.seed, what: c.what, reason, file });
    log(
      `FAIL case ${c.index} (${c.format}/${c.seed}: ${c.what.slice(0, 160)}): ${reason.split('\n')[0].slice(0, 300)}\n  saved ${file}`,
    );
  };
  const indices = o.only ?? Array.from({ length: o.cases }, (_, i) => i);
  /** RSS growth over the bound: since which case (the one after the last check under it), for how many checks */
  let over: { since: FuzzCase; checks: number } | null = null;
  let sinceCheck: FuzzCase | null = null;
  for (const [k, index] of indices.entries()) {
    const c = o.makeCase ? o.makeCase(index) : makeCase(o.seed, index, o.formats);
    const st = stats[c.format];
    st.cases++;
    const started = performance.now();
    let peak = 0;
    let timer: NodeJS.Timeout | undefined;
    // the bounds, checked every 50 ms while the case runs
    const watchdog = new Promise<{ exit: string }>((res) => {
      timer = setInterval(() => {
        peak = Math.max(peak, vmRss(worker.child.pid!));
        if (peak > maxRss)
          res({
            exit: `memory: worker RSS ${(peak / 2 ** 20).toFixed(0)} MiB over the bound of ${(maxRss / 2 ** 20).toFixed(0)} MiB`,
          });
        else if (performance.now() - started > timeoutMs) res({ exit: `hang: no result within ${timeoutMs} ms` });
      }, 50);
    });
    const r = await Promise.race([worker.run(c, k % 10 === 9 || k === indices.length - 1), watchdog]);
    sinceCheck ??= c;
    clearInterval(timer);
    const ms = performance.now() - started;
    let reason: string | undefined;
    if ('exit' in r) reason = r.exit;
    else {
      peak = Math.max(peak, r.peakRss);
      pipelines = Math.max(pipelines, r.pipelines);
      if (r.settledRss !== undefined) {
        const growth = r.settledRss - baselineRss;
        st.growth = Math.max(st.growth, growth);
        if (growth <= maxGrowth) over = null;
        else if (!over) over = { since: sinceCheck, checks: 1 };
        else if (++over.checks === 5) {
          const blamed = over.since;
          const why = `RSS growth: the worker's RSS after a full GC stayed over its ${(baselineRss / 2 ** 20).toFixed(0)} MiB after warm-up by more than ${(maxGrowth / 2 ** 20).toFixed(0)} MiB from case ${blamed.index} to case ${index} (now ${(growth / 2 ** 20).toFixed(0)} MiB over)`;
          fail(blamed, why, stats[blamed.format]);
          over = null;
        }
        sinceCheck = null;
      }
      if (r.failure) reason = r.failure;
      else if (peak > maxRss)
        reason = `memory: peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB over the bound of ${(maxRss / 2 ** 20).toFixed(0)} MiB`;
      else if (r.outcome) {
        const out = r.outcome;
        o.outcomes?.(
          JSON.stringify({
            index,
            format: c.format,
            seed: c.seed,
            what: c.what.slice(0, 300),
            ms: Math.round(r.ms),
            peakMiB: Math.round(r.peakRss / 2 ** 20),
            ...(r.settledRss ? { settledMiB: Math.round(r.settledRss / 2 ** 20) } : {}),
            pipelines: r.pipelines,
            ...out,
          }),
        );
        st.stages[out.stage] = (st.stages[out.stage] ?? 0) + 1;
        if (out.status === 'ok') st.ok++;
        else st.errors[out.code!] = (st.errors[out.code!] ?? 0) + 1;
      }
    }
    st.maxMs = Math.max(st.maxMs, 'exit' in r ? ms : r.ms);
    st.peakRss = Math.max(st.peakRss, peak);
    if (reason) {
      fail(c, reason, st);
      if ('exit' in r) {
        worker.kill();
        worker = new Worker(env);
        ({ adapter, baselineRss } = await worker.ready);
        over = null;
        sinceCheck = null;
      }
    }
    if ((index + 1) % 500 === 0)
      log(`  ${index + 1} cases, ${failures.length} failures, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  worker.kill();
  return { stats, failures, adapter, wallMs: performance.now() - t0, pipelines };
}

/** The summary table: one row per format, WgsegError counts by code. */
export function table(rep: FuzzReport): string {
  const rows = Object.entries(rep.stats);
  const codes = [...new Set(rows.flatMap(([, s]) => Object.keys(s.errors)))].sort();
  const head = ['format', 'cases', 'ok', ...codes, 'failures', 'max ms', 'peak RSS MiB', 'RSS growth MiB'];
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  const cells = rows.map(([f, s]) =>
    [
      f,
      s.cases,
      s.ok,
      ...codes.map((c) => s.errors[c] ?? 0),
      s.failures,
      s.maxMs.toFixed(0),
      mib(s.peakRss),
      mib(s.growth),
    ].map(String),
  );
  const max = (k: 'maxMs' | 'peakRss' | 'growth') => Math.max(...rows.map(([, s]) => s[k]));
  const total = [
    'all',
    ...[1, 2].map((i) => rows.reduce((a, r) => a + Number(cells[rows.indexOf(r)][i]), 0)),
    ...codes.map((c) => rows.reduce((a, [, s]) => a + (s.errors[c] ?? 0), 0)),
    rep.failures.length,
    max('maxMs').toFixed(0),
    mib(max('peakRss')),
    mib(max('growth')),
  ].map(String);
  const all = [head, ...cells, ...(rows.length > 1 ? [total] : [])];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')).join('\n');
}
