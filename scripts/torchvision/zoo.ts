/**
 * `npm run check:zoo`: every torchvision 0.14 classification and segmentation architecture, exported
 * at opset 17 with random weights (scripts/torchvision/zoo.py), through `wgseg run` against
 * onnxruntime-node (native CPU) on the same file and input. One row per model: exported or why not,
 * wgseg's error against onnxruntime under the issue-3 rule (compare.ts), PyTorch against
 * onnxruntime (how far the two references are apart), times. Exits 1 when an exported model fails.
 *
 *   npm run check:zoo -- [--dir .cache/zoo] [--md docs/zoo.md] [--keep] [--timeout 900] [model ...]
 *
 * Needs Debian python3-torch / python3-torchvision / python3-onnx (docs/models.md) and the built CLI
 * (`npm run build:cli`, which `npm ci` runs). The export of one model overlaps the check of the
 * previous one; each model's folder (<dir>/<model>/: the model, its external data past 2 GB, the
 * input and PyTorch's output) is deleted after its check unless --keep.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { compare, runCli, TOL } from './compare';
import { readNpy } from './npy';

const { values: opt, positionals: only } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  allowPositionals: true,
  options: {
    dir: { type: 'string', default: '.cache/zoo' },
    md: { type: 'string' },
    keep: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '900' },
  },
});

interface Exported {
  model: string;
  size: number;
  ok: boolean;
  reason: string;
  mb: number;
  seconds: number;
}

const here = new URL('.', import.meta.url).pathname;
const py = spawn('/usr/bin/python3', [join(here, 'zoo.py'), '--dir', opt.dir!, ...only], {
  stdio: ['ignore', 'pipe', 'ignore'], // PyTorch's export warnings are not ours to print
});
py.on('error', (e) => {
  console.error(`check:zoo: cannot start /usr/bin/python3 (${e.message}); see docs/models.md for the apt packages`);
  process.exit(2);
});

async function ortRun(path: string, x: ReturnType<typeof readNpy>) {
  const s = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  try {
    const t0 = performance.now();
    const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.data as Float32Array, x.shape) });
    const ms = performance.now() - t0;
    const t = r[s.outputNames[0]];
    return { data: Float32Array.from(t.data as Float32Array), dims: [...t.dims], ms };
  } finally {
    await s.release();
  }
}

const head = [
  'model',
  'input',
  'MB',
  'result',
  'max abs err',
  'worst/tol',
  'wgseg run ms',
  'ORT-cpu ms',
  'torch vs ORT',
];
const rows: string[][] = [];
let exported = 0,
  passed = 0;

async function check(e: Exported): Promise<string[]> {
  const input = `1x3x${e.size}x${e.size}`;
  if (!e.ok) return [e.model, input, '-', `not exported: ${e.reason}`, '-', '-', '-', '-', '-'];
  exported++;
  const dir = join(opt.dir!, e.model);
  const onnx = join(dir, `${e.model}.onnx`),
    xPath = join(dir, `${e.model}.input.npy`);
  try {
    const x = readNpy(readFileSync(xPath));
    let ref: Awaited<ReturnType<typeof ortRun>>;
    try {
      ref = await ortRun(onnx, x);
    } catch (err) {
      return [
        e.model,
        input,
        String(e.mb),
        `onnxruntime fails: ${(err as Error).message.split('\n')[0]}`,
        '-',
        '-',
        '-',
        '-',
        '-',
      ];
    }
    const torch = readNpy(readFileSync(join(dir, `${e.model}.torch.npy`)));
    const vsTorch = compare(Float32Array.from(torch.data as ArrayLike<number>), ref.data, TOL.f32).maxAbsErr;
    let got: ReturnType<typeof runCli>;
    try {
      got = runCli(onnx, xPath, 'f32', false, Number(opt.timeout) * 1000);
    } catch (err) {
      const msg = (err as Error).message.replace(/^npx .*? exited/, 'exited');
      return [e.model, input, String(e.mb), `FAIL ${msg}`, '-', '-', '-', ref.ms.toFixed(0), vsTorch.toExponential(1)];
    }
    if (got.dims.join() !== ref.dims.join())
      return [e.model, input, String(e.mb), `FAIL shape [${got.dims}] != [${ref.dims}]`, '-', '-', '-', '-', '-'];
    const c = compare(got.data, ref.data, TOL.f32);
    const ok = c.worst <= 1;
    if (ok) passed++;
    return [
      e.model,
      input,
      String(e.mb),
      ok ? 'pass' : `FAIL at ${c.worstAt}: ${got.data[c.worstAt]} vs ${ref.data[c.worstAt]}`,
      c.maxAbsErr.toExponential(1),
      c.worst.toFixed(3),
      got.ms[0].toFixed(0),
      ref.ms.toFixed(0),
      vsTorch.toExponential(1),
    ];
  } finally {
    if (!opt.keep) rmSync(dir, { recursive: true, force: true });
  }
}

const t0 = performance.now();
for await (const line of createInterface({ input: py.stdout! })) {
  if (!line.startsWith('{')) continue;
  const row = await check(JSON.parse(line) as Exported);
  rows.push(row);
  console.log(row.join(' | '));
}
const minutes = ((performance.now() - t0) / 60000).toFixed(1);
const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const summary = `${passed}/${exported} exported models pass (${rows.length - exported} not exported) in ${minutes} min`;
console.log(`\n${table}\n\n${summary}`);
if (opt.md) writeFileSync(opt.md, `${table}\n\n${summary}\n`);
process.exit(passed === exported ? 0 : 1);
