/**
 * Node-by-node check of a model's kernels against onnxruntime, without the graph executor: every
 * node runs alone through its registry kernel (runKernel) and its outputs are compared with the
 * intermediates onnxruntime computes on a copy of the model that exposes them (expose.py).
 *
 *   /usr/bin/python3 scripts/torchvision/expose.py .cache/torchvision/M.onnx .cache/torchvision/M.all.onnx
 *   npx vite-node scripts/torchvision/layerwise.ts -- M [--dir .cache/torchvision] [--chain] [--all]
 *
 * Default (isolated): each node gets onnxruntime's values as inputs, so a row that fails points at
 * that node's kernel. --chain feeds our own outputs forward (errors accumulate, as in a session).
 * Shape and Constant run on the host (the graph core folds them). Exits 1 if a node fails the
 * issue's rule (atol 1e-4*max(1,max|ref|), rtol 1e-3, per node).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import {
  decodeModel,
  kernelFor,
  Runtime,
  runKernel,
  type Attrs,
  type GpuTensor,
  type HostValues,
  type OnnxAttr,
  type TensorData,
} from '../../src/internal';
import { readNpy } from './npy';

interface Value {
  data: ArrayLike<number>;
  dims: number[];
  int: boolean;
}

const argv = process.argv.slice(2).filter((a) => a !== '--');
const flag = (f: string) => argv.includes(f);
const opt = (f: string, d: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : d);
const dir = opt('--dir', '.cache/torchvision');
const name = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--dir');
if (!name) throw new Error('usage: layerwise.ts <model> [--dir D] [--chain] [--all]');

const model = decodeModel(new Uint8Array(readFileSync(join(dir, `${name}.onnx`))));
const x = readNpy(readFileSync(join(dir, `${name}.input.npy`)));
const inputName = model.graph.inputs.find((i) => !model.graph.initializers.some((t) => t.name === i.name))!.name;

// onnxruntime intermediates
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const ortSession = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(dir, `${name}.all.onnx`))), {
  executionProviders: ['wasm'],
});
const ortOut = await ortSession.run({ [inputName]: new ort.Tensor('float32', x.data as Float32Array, x.shape) });
const ref = new Map<string, Value>();
for (const [k, t] of Object.entries(ortOut)) {
  const d = t.data;
  ref.set(k, {
    data: d instanceof BigInt64Array ? Float64Array.from(d, Number) : Float32Array.from(d as Float32Array),
    dims: [...t.dims],
    int: t.type !== 'float32',
  });
}
await ortSession.release();

const consts = new Map<string, Value>();
const fromTensor = (t: TensorData): Value => ({
  data: t.data,
  dims: t.dims,
  int: t.dtype !== 'float' && t.dtype !== 'float16' && t.dtype !== 'double',
});
for (const t of model.graph.initializers) consts.set(t.name, fromTensor(t));
const ours = new Map<string, Value>([[inputName, { data: x.data as Float32Array, dims: x.shape, int: false }]]);

const chain = flag('--chain');
const valueOf = (v: string): Value => {
  const c = consts.get(v) ?? (chain ? ours.get(v) : undefined) ?? (v === inputName ? ours.get(v) : ref.get(v));
  if (!c) throw new Error(`value ${v} not available`);
  return c;
};

function attrsOf(a: Record<string, OnnxAttr>): Attrs {
  const out: Attrs = {};
  for (const [k, v] of Object.entries(a))
    if (
      typeof v === 'number' ||
      typeof v === 'string' ||
      (Array.isArray(v) && v.every((e) => typeof e === 'number' || typeof e === 'string'))
    )
      out[k] = v as Attrs[string];
  out.__opset = model.opset;
  return out;
}

function compare(got: ArrayLike<number>, want: ArrayLike<number>) {
  let maxRef = 0,
    maxErr = 0,
    worst = 0;
  for (let i = 0; i < want.length; i++) maxRef = Math.max(maxRef, Math.abs(want[i]));
  const atol = 1e-4 * Math.max(1, maxRef);
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    maxErr = Number.isNaN(e) ? Infinity : Math.max(maxErr, e);
    worst = Math.max(worst, Number.isNaN(e) ? Infinity : e / (atol + 1e-3 * Math.abs(want[i])));
  }
  return { maxRef, maxErr, worst };
}

const rt = await Runtime.create();
const rows: string[] = [];
let failed = 0,
  n = 0;
for (const node of model.graph.nodes) {
  n++;
  let outs: Value[];
  let note = '';
  try {
    if (node.opType === 'Constant') {
      outs = [fromTensor(node.attrs.value as TensorData)];
    } else if (node.opType === 'Shape') {
      const d = valueOf(node.inputs[0]).dims;
      outs = [{ data: Float64Array.from(d), dims: [d.length], int: true }];
    } else {
      const k = kernelFor(node.opType);
      const host: HostValues = node.inputs.map((v, i) =>
        v && k.hostInputs?.includes(i) ? Array.from(valueOf(v).data) : undefined,
      );
      const gpuIn: (GpuTensor | undefined)[] = node.inputs.map((v, i) => {
        if (!v || k.hostInputs?.includes(i)) return undefined;
        const val = valueOf(v);
        return rt.upload(val.data, val.dims, val.int ? 'i32' : 'f32');
      });
      const t0 = performance.now();
      const res = runKernel(rt, k, gpuIn, attrsOf(node.attrs), host);
      outs = [];
      for (const r of res) {
        const data = await rt.read(r);
        outs.push({ data, dims: r.shape, int: r.dtype === 'i32' || r.dtype === 'u32' });
      }
      note = `${(performance.now() - t0).toFixed(0)} ms`;
      rt.release(...gpuIn.filter((t): t is GpuTensor => t !== undefined));
      if (!k.view) rt.release(...res);
      rt.submit();
    }
  } catch (e) {
    failed++;
    rows.push(`${String(n).padStart(4)} ${node.opType.padEnd(18)} ${node.name}: ERROR ${(e as Error).message}`);
    continue;
  }
  node.outputs.forEach((o, i) => {
    if (!o) return;
    const mine = outs[i];
    ours.set(o, mine);
    if (node.opType === 'Constant' || node.opType === 'Identity') consts.set(o, mine);
    const want = ref.get(o);
    if (!want) return;
    const shapeOk = want.dims.join() === mine.dims.join();
    const c = shapeOk ? compare(mine.data, want.data) : { maxRef: 0, maxErr: Infinity, worst: Infinity };
    const bad = !(c.worst <= 1);
    if (bad) failed++;
    if (bad || flag('--all')) {
      const attrs = Object.entries(node.attrs)
        .filter(([, v]) => typeof v !== 'object' || Array.isArray(v))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(' ');
      rows.push(
        `${String(n).padStart(4)} ${node.opType.padEnd(18)} ${bad ? 'FAIL' : 'ok  '} [${mine.dims}]${shapeOk ? '' : ` want [${want.dims}]`} max|ref| ${c.maxRef.toPrecision(3)} maxErr ${c.maxErr.toExponential(2)} worst/tol ${c.worst.toFixed(3)} ${note}  ${node.name} ${attrs}`,
      );
    }
  });
}
for (const r of rows) console.log(r);
console.log(`${name}: ${n} nodes, ${failed} failing (${chain ? 'chained' : 'isolated'})`);
process.exit(failed ? 1 : 0);
