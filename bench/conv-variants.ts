// Conv kernel variants side by side, on lavapipe and SwiftShader: `npx vite-node bench/conv-variants.ts`.
// Each variant that applies runs the layer with its weights prepacked the way the executor does
// (the variant's `prepack`, uploaded with `packed: key`); GPU time per run from timestamp queries
// where the adapter has them (else wall time), median of RUNS after a warm-up (pipeline creation).
// ADAPTER=lavapipe|swiftshader runs one adapter (without it: each in a child process of its own, as
// in one process the first Dawn instance decides every later one's adapter); ONLY=<text> the cases
// whose name contains it; VARIANTS=a,b the named variants only; RUNS=n.
import { spawnSync } from 'node:child_process';
import { type Attrs, kernelFor, numel, Runtime, runKernel } from '../src/internal';

interface Case {
  name: string;
  x: number[];
  w: number[];
  attrs: Attrs;
}
const cases: Case[] = [
  { name: '1x64x128x128->64 3x3 pad 1', x: [1, 64, 128, 128], w: [64, 64, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
  { name: '1x32x64x64->32 3x3 pad 1', x: [1, 32, 64, 64], w: [32, 32, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
  { name: '1x256x32x32->256 3x3 pad 1', x: [1, 256, 32, 32], w: [256, 256, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
  { name: '1x512x16x16->512 1x1', x: [1, 512, 16, 16], w: [512, 512, 1, 1], attrs: {} },
  {
    name: '1x3x224x224->32 3x3 s2 pad 1',
    x: [1, 3, 224, 224],
    w: [32, 3, 3, 3],
    attrs: { strides: [2, 2], pads: [1, 1, 1, 1] },
  },
];
/** the variants compared (each where it applies); another variant adds its name here */
const VARIANTS = (process.env.VARIANTS ?? 'gemm-tiled,gemm-subgroup,gemm,winograd,winograd-direct').split(',');
const only = process.env.ONLY;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function bench(adapter: string) {
  const rt = await Runtime.create({ adapter });
  const slow = /swiftshader/i.test(rt.info.adapter);
  const RUNS = Number(process.env.RUNS ?? (slow ? 3 : 7));
  console.log(`\nadapter: ${rt.info.adapter} (timestamps: ${rt.info.timestamps}, ${RUNS} runs)`);
  const k = kernelFor('Conv');
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
    const wData = rand(numel(c.w));
    const x = rt.upload(rand(numel(c.x)), c.x);
    const b = rt.upload(rand(c.w[0]), [c.w[0]]);
    const infos = [x, { shape: c.w, dtype: 'f32' as const }, b];
    const [, , OH, OW] = k.infer(infos, c.attrs, [])[0].shape;
    const flop = 2 * c.x[0] * c.w[0] * OH * OW * c.w[1] * c.w[2] * c.w[3];
    console.log(`${c.name}: ${(flop / 1e9).toFixed(3)} GFLOP`);
    for (const name of VARIANTS) {
      const v = k.variants?.find((e) => e.name === name);
      if (!v || (v.applies && !v.applies(infos, c.attrs, rt.info))) {
        console.log(`  ${name.padEnd(14)} does not apply`);
        continue;
      }
      const p = v.prepack?.(rt, 1, wData, infos, c.attrs);
      const w = p
        ? { ...rt.upload(p.data, [p.data.length], p.dtype), shape: c.w, packed: p.key }
        : rt.upload(wData, c.w);
      const ins = [x, w, b];
      rt.release(...runKernel(rt, k, ins, c.attrs, [], name)); // warm-up: pipeline creation
      await rt.sync();
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = await rt.profile(() => rt.release(...runKernel(rt, k, ins, c.attrs, [], name)));
        ms.push(t.reduce((s, e) => s + e.ms, 0));
      }
      const m = median(ms);
      const what = `median ${m.toFixed(2)} ms (min ${Math.min(...ms).toFixed(2)})`;
      console.log(`  ${name.padEnd(14)} ${what.padEnd(32)} ${(flop / m / 1e6).toFixed(2)} GFLOP/s`);
      rt.release(w);
    }
    rt.release(x, b);
    rt.submit();
  }
  rt.device.destroy();
}

async function main() {
  if (process.env.ADAPTER) return bench(process.env.ADAPTER);
  for (const adapter of ['lavapipe', 'swiftshader']) {
    const env = { ...process.env, ADAPTER: adapter, WGSEG_ADAPTER: adapter };
    const r = spawnSync('npx', ['vite-node', 'bench/conv-variants.ts'], { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`bench on ${adapter} exited with ${r.status}`);
  }
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
