/**
 * torchvision segmentation nets through wgseg vs onnxruntime-web (wasm, CPU) on the same ONNX file
 * and input. Run scripts/torchvision/export.py first. Usage:
 *
 *   npx vite-node scripts/torchvision/check.ts -- [--dir .cache/torchvision] [--engine cli|api]
 *       [--precision f32|f16] [--keep] [model ...]
 *
 * --engine cli (default) runs `npx wgseg run <model>.onnx --input input=<model>.input.npy --out <tmp>`
 * and reads <tmp>/out.npy; --engine api uses Session from src/index.ts in this process.
 * Rule (issue 3): |wgseg - ort| <= 1e-4*max(1,max|ort|) + 1e-3*|ort| everywhere. f16 (not part of
 * the bar) uses test/models/networks.test.ts's F16_TOL: 5e-3*max(1,max|ort|) + 2e-2*|ort|.
 * Prints one table row per model; exits 1 on any mismatch or failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import * as wgseg from '../../src/index';
import { compare, type Got, runCli, TOL } from './compare';
import { readNpy, type Npy } from './npy';

const MODELS = ['fcn_resnet50', 'deeplabv3_mobilenet_v3_large', 'lraspp_mobilenet_v3_large'];

interface Options {
  dir: string;
  engine: 'cli' | 'api';
  precision: 'f32' | 'f16';
  keep: boolean;
  models: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { dir: '.cache/torchvision', engine: 'cli', precision: 'f32', keep: false, models: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    else if (a === '--dir') o.dir = argv[++i];
    else if (a === '--engine') o.engine = argv[++i] as Options['engine'];
    else if (a === '--precision') o.precision = argv[++i] as Options['precision'];
    else if (a === '--keep') o.keep = true;
    else if (MODELS.includes(a)) o.models.push(a);
    else throw new Error(`unknown argument ${a} (models: ${MODELS.join(', ')})`);
  }
  if (!['cli', 'api'].includes(o.engine)) throw new Error(`--engine must be cli or api, got ${o.engine}`);
  if (!['f32', 'f16'].includes(o.precision)) throw new Error(`--precision must be f32 or f16, got ${o.precision}`);
  if (o.models.length === 0) o.models = MODELS;
  return o;
}

async function runOrt(bytes: Uint8Array, x: Npy): Promise<{ data: Float32Array; dims: number[]; ms: number }> {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  try {
    const t0 = performance.now();
    const res = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.data as Float32Array, x.shape) });
    const ms = performance.now() - t0;
    const t = res[s.outputNames[0]];
    return { data: Float32Array.from(t.data as Float32Array), dims: [...t.dims], ms };
  } finally {
    await s.release();
  }
}

/** Session API in this process; ms = [first run (shaders compiled on the way), second run], each until the output is read back. */
async function runApi(bytes: Uint8Array, source: string, x: Npy, precision: 'f32' | 'f16'): Promise<Got> {
  const rt = await wgseg.kernels.Runtime.create();
  const session = await wgseg.Session.create(bytes, { precision, source, device: rt });
  try {
    const feed = { [session.inputs[0].name]: { data: x.data as Float32Array, dims: x.shape } };
    const t0 = performance.now();
    const first = await session.run(feed);
    const y = first[session.outputs[0].name];
    const data = Float32Array.from(await y.read());
    const ms1 = performance.now() - t0;
    const t1 = performance.now(),
      submits = rt.submits;
    const again = await session.run(feed);
    const perRun = rt.submits - submits;
    await again[session.outputs[0].name].read();
    const ms2 = performance.now() - t1;
    return {
      data,
      dims: y.shape,
      ms: [ms1, ms2],
      line: `planned peak ${session.plannedPeakBytes ?? '?'} B, ${perRun} submit(s) per run (read-back not counted)`,
    };
  } finally {
    session.dispose();
    rt.dispose();
  }
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const times = o.engine === 'cli' ? ['wgseg run ms', 'process ms'] : ['1st run ms', '2nd run ms'];
  const rows: string[][] = [
    ['model', 'input', 'max abs err', 'atol', 'worst/tol', 'result', ...times, 'ORT ms', 'ORT vs torch'],
  ];
  let failed = 0;
  for (const name of o.models) {
    const onnxPath = join(o.dir, `${name}.onnx`),
      inputPath = join(o.dir, `${name}.input.npy`);
    if (!existsSync(onnxPath))
      throw new Error(`${onnxPath} missing: run /usr/bin/python3 scripts/torchvision/export.py first`);
    const bytes = new Uint8Array(readFileSync(onnxPath));
    const x = readNpy(readFileSync(inputPath));
    const ref = await runOrt(bytes, x);
    const torchPath = join(o.dir, `${name}.torch.npy`);
    const vsTorch = existsSync(torchPath)
      ? compare(
          Float32Array.from(readNpy(readFileSync(torchPath)).data as ArrayLike<number>),
          ref.data,
          TOL.f32,
        ).maxAbsErr.toExponential(2)
      : '-';
    try {
      const got =
        o.engine === 'cli'
          ? runCli(onnxPath, inputPath, o.precision, o.keep)
          : await runApi(bytes, onnxPath, x, o.precision);
      if (got.dims.join() !== ref.dims.join())
        throw new Error(`output shape [${got.dims}] != onnxruntime [${ref.dims}]`);
      const c = compare(got.data, ref.data, TOL[o.precision]);
      const ok = c.worst <= 1;
      if (!ok) failed++;
      rows.push([
        name,
        `[${x.shape}]`,
        c.maxAbsErr.toExponential(2),
        c.atol.toExponential(2),
        c.worst.toFixed(3),
        ok ? 'pass' : `FAIL at ${c.worstAt}: ${got.data[c.worstAt]} vs ${ref.data[c.worstAt]}`,
        got.ms[0].toFixed(0),
        got.ms[1].toFixed(0),
        ref.ms.toFixed(0),
        vsTorch,
      ]);
      console.error(`${name}: ${got.line}`);
    } catch (e) {
      failed++;
      rows.push([
        name,
        `[${x.shape}]`,
        '-',
        '-',
        '-',
        `ERROR ${(e as Error).message}`,
        '-',
        '-',
        ref.ms.toFixed(0),
        vsTorch,
      ]);
    }
  }
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  for (const r of rows) console.log(r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(w[j]))).join('  '));
  console.log(`engine ${o.engine}, precision ${o.precision}: ${o.models.length - failed}/${o.models.length} pass`);
  return failed ? 1 : 0;
}

// top-level await: vite-node keeps its module server up until the script is done
try {
  process.exit(await main());
} catch (e) {
  console.error(`check: ${(e as Error).message}`);
  process.exit(2);
}
