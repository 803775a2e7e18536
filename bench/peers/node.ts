// npm run bench:peers [-- --json FILE] [-- --only conv3x3,unet] [-- --runs N] [-- --repeat N] [-- --engines wgseg,ort-webgpu,ort-cpu] [-- --cpu-threads N] [-- --profile] [-- --tier-up] [-- --ort-layout NCHW] [-- --merge] [-- --cold-profile] [-- --variants Op=variant,...]
// wgseg vs onnxruntime-web (WebGPU EP) vs TFJS webgpu in Node on Dawn, one device shared by all;
// ort-cpu (onnxruntime-node's native CPU EP, bench/peers/ort-cpu.ts) when --engines names it.
// Each model runs in its own child process, so every engine's cold start (create + first run) pays
// for its own pipelines: no pipeline cache carries over from another model, and Mesa's on-disk
// shader cache is off (MESA_SHADER_CACHE_DISABLE=true, set here before Dawn loads Vulkan).
process.env.MESA_SHADER_CACHE_DISABLE = 'true';

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dawnAdapterName, deviceInfo, SWIFTSHADER_ICD } from '../../src/internal';
import { coldProfileWgseg, ortOptions, registerEngine, wgsegOptions } from './engines';
import { benchModel, formatTable, type Row } from './harness';
import { ENGINES, MODELS, pickModels, type EngineName, type FileSource } from './models';

const SELF = fileURLToPath(import.meta.url);
/** the repository root (model files are read from there); WGSEG_BENCH_ROOT where this runs as a bundle (scripts/gpu-kit) */
const ROOT = process.env.WGSEG_BENCH_ROOT ?? resolve(dirname(SELF), '../..');
const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const list = (name: string) => args.flatMap((a, i) => (args[i - 1] === name ? a.split(',') : [])).filter(Boolean);
const runs = Number(opt('--runs') ?? 10);
/** fresh child processes per model: cold start is one sample per process, so small rows (a few hundred ms, +-30%) take the median of several */
const repeat = Math.max(1, Number(opt('--repeat') ?? 1));
const engines = (list('--engines').length ? list('--engines') : ENGINES) as EngineName[];
/** ort-cpu's intra-op threads (default: every core, bench/peers/ort-cpu.ts) */
const cpuThreads = opt('--cpu-threads');

/** ort-cpu loads a native addon: imported only when asked for (and never by the page) */
async function withOrtCpu(): Promise<string | null> {
  if (!engines.includes('ort-cpu')) return null;
  const { ortCpuEngine, ortCpuOptions, ortCpuDescription } = await import('./ort-cpu');
  if (cpuThreads) ortCpuOptions.threads = Number(cpuThreads);
  registerEngine(ortCpuEngine);
  return ortCpuDescription();
}
const ROWS = '@@rows ';

const files: FileSource = async (path) => {
  try {
    return new Uint8Array(await readFile(resolve(ROOT, path)));
  } catch {
    return null;
  }
};

/** Dawn as navigator.gpu (onnxruntime-web and TFJS look for it there), Mesa lavapipe unless WGSEG_ADAPTER says otherwise. */
async function nodeGpu(): Promise<GPUDevice> {
  process.env.LP_NUM_THREADS ??= String(availableParallelism());
  const dawn: { create(flags: string[]): GPU; globals: object } = await import('webgpu');
  Object.assign(globalThis, dawn.globals);
  const adapter = dawnAdapterName(process.env.WGSEG_ADAPTER || 'llvmpipe');
  // SwiftShader's Vulkan ICD (Debian's chromium) is not on the loader's default path
  if (adapter === 'SwiftShader' && existsSync(SWIFTSHADER_ICD))
    process.env.VK_ADD_DRIVER_FILES = [process.env.VK_ADD_DRIVER_FILES, SWIFTSHADER_ICD].filter(Boolean).join(':');
  const gpu = dawn.create([`adapter=${adapter}`]);
  const g = globalThis as { navigator?: object };
  if (!g.navigator) g.navigator = {};
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  const { getDevice } = await import('../../src/index');
  const device = await getDevice();
  // onnxruntime's wasm heap is a SharedArrayBuffer, which Dawn's writeBuffer refuses: copy those
  const q = Object.getPrototypeOf(device.queue) as GPUQueue;
  const write = q.writeBuffer;
  q.writeBuffer = function (
    this: GPUQueue,
    buffer: GPUBuffer,
    offset: number,
    data: BufferSource,
    dataOffset = 0,
    size?: number,
  ) {
    const view = data as ArrayBufferView;
    if (view.buffer instanceof SharedArrayBuffer) {
      const bpe = (view as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const n = size ?? view.byteLength / bpe - dataOffset;
      return write.call(
        this,
        buffer,
        offset,
        new Uint8Array(view.buffer, view.byteOffset + dataOffset * bpe, n * bpe).slice(),
        0,
        n * bpe,
      );
    }
    return write.call(this, buffer, offset, data, dataOffset, size);
  } as GPUQueue['writeBuffer'];
  return device;
}

async function child(name: string) {
  // V8 tiers onnxruntime's 27 MB asyncify wasm up with TurboFan on background threads for minutes
  // (both cores here; the process cannot even exit before it ends), which would slow whichever engine
  // runs meanwhile: its wasm stays on Liftoff (--tier-up keeps V8's default)
  if (!args.includes('--tier-up')) setFlagsFromString('--liftoff-only');
  if (opt('--ort-layout')) ortOptions.layout = opt('--ort-layout') as 'NHWC' | 'NCHW';
  if (list('--variants').length)
    wgsegOptions.variants = Object.fromEntries(list('--variants').map((kv) => kv.split('=') as [string, string]));
  // onnxruntime's wasm waits on Dawn callbacks that only fire while the event loop has a timer (else ~30 s stalls)
  const tick = setInterval(() => {}, 1);
  console.error(`  [${process.uptime().toFixed(1)} s] child started`);
  const device = await nodeGpu();
  await withOrtCpu();
  const [m] = pickModels([name]).filter((x) => x.name === name);
  const log = (s: string) => console.error(`  [${process.uptime().toFixed(1)} s] ${s}`);
  if (args.includes('--cold-profile')) {
    // diagnosis only (no rows): where wgseg's cold start goes, per node of a fresh session's first run
    const l = await m.load(files);
    if ('skip' in l) return log(l.skip);
    const c = await coldProfileWgseg(l, device);
    const top = [...c.nodes].sort((a, b) => b.ms - a.ms).slice(0, 10);
    log(
      `${name} wgseg cold: create ${c.createMs.toFixed(0)} ms, first run ${c.firstRunMs.toFixed(0)} ms (profiled, ${c.nodes.length} nodes)`,
    );
    for (const n of top)
      log(
        `  ${n.ms.toFixed(0).padStart(7)} ms  ${n.op} ${n.node} [${n.dispatches.map((d) => `${d.name} ${d.ms.toFixed(0)} ms`).join(', ')}]`,
      );
    return clearInterval(tick);
  }
  const r = await benchModel(m, device, { runs, engines, files, profile: args.includes('--profile'), log });
  if (r.profile) {
    const total = r.profile.reduce((a, n) => a + n.ms, 0);
    const top = [...r.profile].sort((a, b) => b.ms - a.ms).slice(0, 8);
    log(
      `${name} wgseg profile: ${r.profile.length} nodes, ${r.profile.reduce((a, n) => a + n.dispatches.length, 0)} dispatches, ${total.toFixed(1)} ms (${r.profile[0]?.dispatches[0]?.source ?? 'gpu'} time)`,
    );
    for (const n of top)
      log(
        `  ${n.ms.toFixed(2).padStart(8)} ms ${((100 * n.ms) / total).toFixed(0).padStart(3)}%  ${n.op} ${n.node} [${n.dispatches.map((d) => `${d.name} ${d.ms.toFixed(2)} ms`).join(', ')}]`,
      );
  }
  console.log(ROWS + JSON.stringify(r.rows));
  log('done');
  clearInterval(tick);
}

/** One child process per model; its rows come back on a tagged stdout line. */
function runChild(name: string, order = engines): Promise<Row[]> {
  // from source through vite-node; as a bundle (scripts/gpu-kit) with this very node binary
  const fromSource = SELF.endsWith('.ts');
  const bin = fromSource ? resolve(ROOT, 'node_modules/.bin/vite-node') : process.execPath;
  const childArgs = [
    SELF,
    ...(fromSource ? ['--'] : []),
    '--child',
    name,
    '--runs',
    String(runs),
    '--engines',
    order.join(','),
    ...['--profile', '--tier-up', '--cold-profile'].filter((f) => args.includes(f)),
    ...(opt('--ort-layout') ? ['--ort-layout', opt('--ort-layout')!] : []),
    ...(opt('--variants') ? ['--variants', opt('--variants')!] : []),
    ...(cpuThreads ? ['--cpu-threads', cpuThreads] : []),
  ];
  return new Promise((ok) => {
    const p = spawn(bin, childArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(ROWS));
      if (line) return ok(JSON.parse(line.slice(ROWS.length)));
      const m = pickModels([name]).find((x) => x.name === name)!;
      ok(
        engines.map((engine) => ({
          model: name,
          input: m.input,
          engine,
          coldMs: null,
          medianMs: null,
          p95Ms: null,
          maxAbsDiff: null,
          note: `error: child process exited ${code}`,
        })),
      );
    });
  });
}

/** Rows of the same model from several processes -> one row per engine: median cold, median of the medians and of the p95s, worst diff. */
function combine(runsOf: Row[][]): Row[] {
  if (runsOf.length === 1) return runsOf[0];
  const mid = (v: (number | null)[]) => {
    const x = v.filter((e): e is number => e !== null).sort((a, b) => a - b);
    return x.length ? x[Math.floor((x.length - 1) / 2)] : null;
  };
  return runsOf[0].map((first) => {
    const same = runsOf.map((rs) => rs.find((r) => r.engine === first.engine)).filter((r): r is Row => !!r);
    if (first.coldMs === null) return first;
    const colds = same.map((r) => r.coldMs);
    const diffs = same.map((r) => r.maxAbsDiff).filter((e): e is number => e !== null);
    return {
      ...first,
      coldMs: mid(colds),
      medianMs: mid(same.map((r) => r.medianMs)),
      p95Ms: mid(same.map((r) => r.p95Ms)),
      maxAbsDiff: diffs.length ? Math.max(...diffs) : null,
      note: [first.note, `median of ${same.length} processes; cold ${colds.map((c) => c ?? '-').join(' / ')} ms`]
        .filter(Boolean)
        .join('; '),
    };
  });
}

async function main() {
  if (opt('--child')) return child(opt('--child')!);
  const models = pickModels(list('--only'));
  const device = await nodeGpu();
  const adapter = deviceInfo(device).adapter;
  device.destroy();
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  console.log(`bench:peers ${new Date().toISOString()} on ${adapter}`);
  console.log(
    `${availableParallelism()} cores, load average ${load} at start; ${runs} warm runs; engines ${engines.join(', ')}; models ${models.map((m) => m.name).join(', ')}`,
  );
  const cpu = await withOrtCpu();
  if (cpu) console.log(`ort-cpu: ${cpu}`);
  if (args.includes('--cold-profile')) {
    for (const m of models) console.error(`${m.name} (${m.input})`), await runChild(m.name);
    return;
  }
  const rows: Row[] = [];
  for (const m of models) {
    console.error(`${m.name} (${m.input})`);
    const runsOf: Row[][] = [];
    // each process starts with another engine (the first one in a process meets cold JS and driver paths)
    for (let i = 0; i < repeat; i++)
      runsOf.push(
        await runChild(m.name, [...engines.slice(i % engines.length), ...engines.slice(0, i % engines.length)]),
      );
    rows.push(...combine(runsOf));
  }
  console.log(
    `\n${formatTable(rows)}\n\nload average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at end`,
  );
  const json = opt('--json');
  if (json) {
    // --merge: keep the file's rows of models not run this time (a re-run of a few rows)
    const old: Row[] = args.includes('--merge') ? JSON.parse(await readFile(json, 'utf8').catch(() => '[]')) : [];
    const order = MODELS.map((m) => m.name);
    const merged = [...old.filter((r) => !models.some((m) => m.name === r.model)), ...rows].sort(
      (a, b) => order.indexOf(a.model) - order.indexOf(b.model),
    );
    await mkdir(dirname(resolve(json)), { recursive: true });
    await writeFile(json, JSON.stringify(merged, null, 2) + '\n');
    console.log(`${merged.length} rows written to ${json}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
