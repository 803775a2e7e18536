// The peer benchmark's measurement and table, shared by `npm run bench:peers` (Node) and demos/bench.
// Per model: the onnxruntime CPU reference, then each engine: cold = create + first run (output read
// back), then `runs` warm runs (host inputs in, compared output read back): median and p95. With an
// ort-cpu row (onnxruntime-node, Node only) the tables add each engine's median over ort-cpu's.
import type { NodeTiming } from '../../src/index';
import { ENGINE_ADAPTERS, ortCpu, profileWgseg } from './engines';
import type { EngineName, FileSource, Loaded, PeerModel, Prepared } from './models';

export interface Row {
  model: string;
  input: string;
  engine: EngineName;
  coldMs: number | null;
  medianMs: number | null;
  p95Ms: number | null;
  /** max |engine - onnxruntime CPU| on the compared output; null without a reference */
  maxAbsDiff: number | null;
  /** compute pipelines the engine created during its cold start */
  pipelines?: number;
  /** why the cell is empty, or what the figure means */
  note?: string;
}

export const ROW_KEYS = ['model', 'input', 'engine', 'coldMs', 'medianMs', 'p95Ms', 'maxAbsDiff'] as const;

/** Schema check of one row (the page's JSON and the Node command's must agree). */
export function rowProblems(r: unknown): string[] {
  const o = r as Record<string, unknown>;
  const bad: string[] = [];
  if (typeof o !== 'object' || !o) return ['not an object'];
  for (const k of ['model', 'input', 'engine']) if (typeof o[k] !== 'string') bad.push(`${k} is not a string`);
  for (const k of ['coldMs', 'medianMs', 'p95Ms', 'maxAbsDiff'])
    if (o[k] !== null && !(typeof o[k] === 'number' && Number.isFinite(o[k])))
      bad.push(`${k} is neither a finite number nor null`);
  if (!['wgseg', 'ort-webgpu', 'tfjs-webgpu', 'ort-cpu'].includes(o.engine as string))
    bad.push(`engine ${o.engine} unknown`);
  if (o.medianMs === null && typeof o.note !== 'string') bad.push('an empty cell without a note');
  return bad;
}

export interface BenchOptions {
  runs: number;
  engines: EngineName[];
  files: FileSource;
  /** also profile wgseg per node (one extra session) */
  profile?: boolean;
  log?: (line: string) => void;
}

export interface ModelResult {
  rows: Row[];
  profile?: NodeTiming[];
}

const now = () => performance.now();
const round = (x: number, d = 1) => +x.toFixed(d);

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`output has ${a.length} values, the reference ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return m;
}

export interface PipelineStats {
  mine: number;
  elsewhere: number;
  /** each pipeline's label and creation time (sync call, or until the async one resolved) */
  compiles: { label: string; ms: number }[];
}

/**
 * Count and time the compute pipelines created until stop(), on `device` and on any other device (an
 * engine that ignored the device it was given shows up in `elsewhere`). Wraps the GPUDevice
 * prototype's methods; stop() restores them.
 */
export function countPipelines(device: GPUDevice): { stop(): PipelineStats } {
  const st: PipelineStats = { mine: 0, elsewhere: 0, compiles: [] };
  const proto = Object.getPrototypeOf(device) as Record<string, (...a: unknown[]) => unknown>;
  const names = ['createComputePipeline', 'createComputePipelineAsync'];
  const saved = names.map((n) => proto[n]);
  names.forEach((name, i) => {
    proto[name] = function (this: GPUDevice, ...a: unknown[]) {
      const desc = a[0] as GPUComputePipelineDescriptor | undefined;
      if (this === device) st.mine++;
      else st.elsewhere++;
      const t = now(),
        label = desc?.label || desc?.compute?.module?.label || '?';
      const r = saved[i].apply(this, a);
      const done = () => st.compiles.push({ label, ms: now() - t });
      if (r instanceof Promise) r.then(done, () => {});
      else done();
      return r;
    };
  });
  return {
    stop() {
      names.forEach((name, i) => (proto[name] = saved[i]));
      return st;
    },
  };
}

const empty = (m: PeerModel, engine: EngineName, note: string): Row => ({
  model: m.name,
  input: m.input,
  engine,
  coldMs: null,
  medianMs: null,
  p95Ms: null,
  maxAbsDiff: null,
  note,
});

async function measure(
  m: PeerModel,
  l: Loaded,
  engine: EngineName,
  device: GPUDevice,
  ref: Float32Array | null,
  runs: number,
  log: (s: string) => void,
): Promise<Row> {
  const e = ENGINE_ADAPTERS[engine];
  if (!e) throw new Error(`${engine} is not available here (Node only: npm run bench:peers)`);
  await e.init?.(device);
  const count = countPipelines(device);
  let pipelines: PipelineStats = { mine: 0, elsewhere: 0, compiles: [] };
  const t0 = now();
  let p: Prepared | undefined;
  let out: Float32Array;
  try {
    p = await e.prepare(l, device);
    out = await p.run();
  } catch (err) {
    await p?.dispose();
    throw err;
  } finally {
    pipelines = count.stop();
  }
  const coldMs = now() - t0;
  const slow = [...pipelines.compiles].sort((a, b) => b.ms - a.ms).slice(0, 4);
  const sum = pipelines.compiles.reduce((a, c) => a + c.ms, 0);
  if (pipelines.compiles.length)
    log(
      `${m.name} ${engine}: ${pipelines.compiles.length} pipelines in ${sum.toFixed(0)} ms of the ${coldMs.toFixed(0)} ms cold start; slowest ${slow.map((c) => `${c.label} ${c.ms.toFixed(0)} ms`).join(', ')}`,
    );
  try {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = now();
      await p.run();
      times.push(now() - t);
    }
    return {
      model: m.name,
      input: m.input,
      engine,
      coldMs: round(coldMs),
      medianMs: round(percentile(times, 0.5), 2),
      p95Ms: round(percentile(times, 0.95), 2),
      maxAbsDiff: ref ? +maxAbsDiff(out, ref).toPrecision(3) : null,
      pipelines: pipelines.mine + pipelines.elsewhere,
      ...joinNotes(
        ref ? undefined : 'no onnxruntime reference (TFLite model)',
        // onnxruntime-web 1.30 ignores env.webgpu.device and requests its own device from navigator.gpu (same adapter)
        pipelines.elsewhere ? `own GPUDevice on the same adapter (${pipelines.elsewhere} pipelines there)` : undefined,
        p.note?.(),
      ),
    };
  } finally {
    await p.dispose();
  }
}

const joinNotes = (...notes: (string | undefined)[]) => {
  const note = notes.filter(Boolean).join('; ');
  return note ? { note } : {};
};

/** All engines on one model; an engine that fails gets an empty cell with the error. */
export async function benchModel(m: PeerModel, device: GPUDevice, o: BenchOptions): Promise<ModelResult> {
  const log = o.log ?? (() => {});
  const l = await m.load(o.files);
  if ('skip' in l) return { rows: o.engines.map((e) => empty(m, e, `skipped: ${l.skip}`)) };
  for (const e of o.engines) await ENGINE_ADAPTERS[e]?.init?.(device); // before any ORT session: ORT reads its device once
  let ref: Float32Array | null = null;
  if (l.onnx) {
    const t = now();
    ref = await ortCpu(l);
    log(`${m.name}: onnxruntime CPU reference in ${(now() - t).toFixed(0)} ms`);
  }
  const rows: Row[] = [];
  for (const engine of o.engines) {
    const why = engine !== 'wgseg' ? l.without?.[engine] : undefined;
    if (why) {
      rows.push(empty(m, engine, why));
      continue;
    }
    try {
      const r = await measure(m, l, engine, device, ref, o.runs, log);
      log(
        `${m.name} ${engine}: cold ${r.coldMs} ms, median ${r.medianMs} ms, p95 ${r.p95Ms} ms, max diff ${r.maxAbsDiff}, ${r.pipelines} pipelines`,
      );
      rows.push(r);
    } catch (e) {
      const msg = (e as Error).message?.split('\n')[0] ?? String(e);
      log(`${m.name} ${engine}: failed: ${msg}`);
      rows.push(empty(m, engine, `error: ${msg}`));
    }
  }
  const profile = o.profile && o.engines.includes('wgseg') ? await profileWgseg(l, device) : undefined;
  return { rows, profile };
}

/** peer median / wgseg median (and the same for cold start) for one row. */
export function ratios(rows: Row[], r: Row): { median: number | null; cold: number | null } {
  const w = rows.find((x) => x.model === r.model && x.engine === 'wgseg');
  const div = (a: number | null | undefined, b: number | null | undefined) => (a && b ? a / b : null);
  return { median: div(r.medianMs, w?.medianMs), cold: div(r.coldMs, w?.coldMs) };
}

/** this row's median / ort-cpu's median on the same model (null without an ort-cpu figure) */
export function cpuRatio(rows: Row[], r: Row): number | null {
  const c = rows.find((x) => x.model === r.model && x.engine === 'ort-cpu');
  return r.engine !== 'ort-cpu' && r.medianMs && c?.medianMs ? r.medianMs / c.medianMs : null;
}

/** the column added when the rows have ort-cpu (the page's table never does: TABLE_COLUMNS is without it) */
const CPU_COL = 'median / ort-cpu';
const hasCpu = (rows: Row[]) => rows.some((r) => r.engine === 'ort-cpu');
const columns = (rows: Row[]) => (hasCpu(rows) ? [...COLS, CPU_COL] : COLS);

const COLS = [
  'model',
  'input',
  'engine',
  'cold ms',
  'median ms',
  'p95 ms',
  'max abs diff',
  'pipelines',
  'median x wgseg',
  'cold x wgseg',
];

/** The table as rows of cells (the page renders them, Node pads them). */
export function tableCells(rows: Row[]): string[][] {
  const fmt = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '' : x.toFixed(d));
  const cpu = hasCpu(rows);
  return rows.map((r) => {
    const q = ratios(rows, r);
    const isPeer = r.engine !== 'wgseg';
    return [
      r.model,
      r.input,
      r.engine,
      fmt(r.coldMs, 0),
      fmt(r.medianMs, 1),
      fmt(r.p95Ms, 1),
      r.maxAbsDiff === null ? '' : r.maxAbsDiff.toExponential(1),
      r.pipelines === undefined ? '' : String(r.pipelines),
      isPeer ? fmt(q.median, 2) : '',
      isPeer ? fmt(q.cold, 2) : '',
      ...(cpu ? [fmt(cpuRatio(rows, r), 2)] : []),
      ...(r.note ? [r.note] : []),
    ];
  });
}

/** Plain-text table: padded columns, notes at the end of their line. */
export function formatTable(rows: Row[]): string {
  const cells = tableCells(rows);
  const cols = columns(rows);
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .slice(0, cols.length)
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd() + (r[cols.length] ? `  ${r[cols.length]}` : '');
  return [line(cols), ...cells.map(line)].join('\n');
}

/**
 * Markdown for the README: one line per model, engines side by side (median ms, p95, cold ms), the
 * peer/wgseg ratios and the largest difference from onnxruntime CPU; empty cells' reasons below.
 */
export function markdownTable(rows: Row[]): string {
  const models = [...new Set(rows.map((r) => r.model))];
  const get = (m: string, e: EngineName) => rows.find((r) => r.model === m && r.engine === e);
  const ms = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '' : x.toFixed(d));
  const x = (a: Row | undefined, b: Row | undefined, k: 'medianMs' | 'coldMs') =>
    a?.[k] && b?.[k] ? `${(a[k]! / b[k]!).toFixed(2)}x` : '';
  const head = [
    'model',
    'input',
    'wgseg median (p95)',
    'ORT median (p95)',
    'TFJS median (p95)',
    'ORT / wgseg',
    'TFJS / wgseg',
    'wgseg cold',
    'ORT cold',
    'TFJS cold',
    'ORT / wgseg cold',
    'max abs diff',
    'pipelines w / ORT / TFJS',
    ...(hasCpu(rows) ? ['ORT CPU median (p95)', 'wgseg / ORT CPU', 'ORT CPU cold'] : []),
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  const notes = new Map<string, string[]>(); // reason -> "model (engine)" of the empty cells
  for (const m of models) {
    const w = get(m, 'wgseg'),
      o = get(m, 'ort-webgpu'),
      t = get(m, 'tfjs-webgpu'),
      c = get(m, 'ort-cpu');
    const cell = (r: Row | undefined) => {
      if (r && r.medianMs !== null) return `${ms(r.medianMs)} (${ms(r.p95Ms)})`;
      if (r?.note) notes.set(r.note, [...(notes.get(r.note) ?? []), `${m} (${r.engine})`]);
      return '';
    };
    const diffs = [w, o, t, c].filter((r) => r?.maxAbsDiff != null).map((r) => r!.maxAbsDiff!);
    lines.push(
      `| ${[
        m,
        w?.input ?? o?.input ?? '',
        cell(w),
        cell(o),
        cell(t),
        x(o, w, 'medianMs'),
        x(t, w, 'medianMs'),
        ms(w?.coldMs, 0),
        ms(o?.coldMs, 0),
        ms(t?.coldMs, 0),
        x(o, w, 'coldMs'),
        diffs.length ? Math.max(...diffs).toExponential(1) : '',
        [w, o, t].map((r) => r?.pipelines ?? '-').join(' / '),
        ...(hasCpu(rows) ? [cell(c), x(w, c, 'medianMs'), ms(c?.coldMs, 0)] : []),
      ].join(' | ')} |`,
    );
  }
  return [...lines, '', ...[...notes].map(([note, where]) => `- ${where.join(', ')}: ${note}`)].join('\n');
}

export { COLS as TABLE_COLUMNS };
