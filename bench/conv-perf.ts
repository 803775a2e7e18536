// Conv kernel timings on the current WebGPU adapter: `npx vite-node bench/conv-perf.ts`.
// GPU time per dispatch from timestamp queries (rt.profile), median of RUNS after a warm-up.
import { convTuning, kernelFor, numel, Runtime, runKernel, type Attrs } from '../src/internal';

const RUNS = Number(process.env.RUNS ?? 7);
// CONV_WG=8|16|32: workgroup size of the subgroup GEMM kernel; NOSG=1: the portable kernel;
// FIXED=0: 3x3 / 1x1 through the loops sized from uniforms (no unrolled pipelines)
convTuning.wg = Number(process.env.CONV_WG ?? convTuning.wg);
convTuning.subgroups = !process.env.NOSG;
convTuning.fixedSize = process.env.FIXED !== '0';

interface Case {
  name: string;
  x: number[];
  w: number[];
  attrs: Attrs;
  op?: string;
}
const cases: Case[] = [
  {
    name: 'conv 3x3 64->64 1x64x128x128 pad 1',
    x: [1, 64, 128, 128],
    w: [64, 64, 3, 3],
    attrs: { pads: [1, 1, 1, 1] },
  },
  {
    name: 'atrous 3x3 d6 512->512 1x512x32x32',
    x: [1, 512, 32, 32],
    w: [512, 512, 3, 3],
    attrs: { pads: [6, 6, 6, 6], dilations: [6, 6] },
  },
  {
    name: 'depthwise 3x3 1x96x112x112 pad 1',
    x: [1, 96, 112, 112],
    w: [96, 1, 3, 3],
    attrs: { pads: [1, 1, 1, 1], group: 96 },
  },
  { name: '1x1 256->256 1x256x64x64', x: [1, 256, 64, 64], w: [256, 256, 1, 1], attrs: {} },
  {
    name: 'fused 1x1 96->32 1x96x56x56 +Z relu6',
    x: [1, 96, 56, 56],
    w: [32, 96, 1, 1],
    attrs: { activation: 'Clip', activation_params: [0, 6] },
    op: 'FusedConv',
  },
];
const only = process.env.ONLY;

async function unsafeDevice(): Promise<GPUDevice> {
  const dawn: { create(flags: string[]): GPU; globals: object } = await import(/* @vite-ignore */ 'webgpu');
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create(['adapter=llvmpipe', 'enable-dawn-features=disable_robustness']);
  (globalThis as { keepGpu?: GPU }).keepGpu = gpu;
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no adapter');
  const requiredFeatures = (['shader-f16', 'timestamp-query', 'subgroups'] as GPUFeatureName[]).filter((f) =>
    adapter.features.has(f),
  );
  const l = adapter.limits;
  return adapter.requestDevice({
    requiredFeatures,
    requiredLimits: { maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize },
  });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main() {
  // UNSAFE=1: a Dawn device with robustness off (bounds-clamping of buffer indices), for comparison only
  const rt = process.env.UNSAFE ? await Runtime.create({ device: await unsafeDevice() }) : await Runtime.create();
  console.log(`adapter: ${rt.info.adapter} (timestamps: ${rt.info.timestamps})`);
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    const op = c.op ?? 'Conv';
    const k = kernelFor(op);
    const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
    const x = rt.upload(rand(numel(c.x)), c.x);
    const w = rt.upload(rand(numel(c.w)), c.w);
    const b = rt.upload(rand(c.w[0]), [c.w[0]]);
    const outShape = k.infer([x, w, b], c.attrs, [])[0].shape;
    const z = op === 'FusedConv' ? rt.upload(rand(numel(outShape)), outShape) : undefined;
    const ins = [x, w, b, z];
    rt.release(...runKernel(rt, k, ins, c.attrs)); // warm-up: pipeline creation
    await rt.sync();
    const per = new Map<string, number[]>();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < RUNS; i++) {
      const t = await rt.profile(() => rt.release(...runKernel(rt, k, ins, c.attrs)));
      for (const { name, ms } of t) per.set(name, [...(per.get(name) ?? []), ms]);
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000 / RUNS;
    const [N, C, H, W] = c.x;
    const [M, Cg, kH, kW] = c.w;
    const [, , OH, OW] = outShape;
    const flop = 2 * N * M * OH * OW * Cg * kH * kW;
    const bytes = 4 * (numel(c.x) + numel(outShape) * (z ? 2 : 1) + numel(c.w));
    let total = 0;
    console.log(`\n${c.name}: ${(flop / 1e9).toFixed(3)} GFLOP, ${(bytes / 1e6).toFixed(1)} MB moved (min)`);
    for (const [name, ms] of per) {
      const m = median(ms);
      total += m;
      console.log(`  ${name}: median ${m.toFixed(2)} ms (min ${Math.min(...ms).toFixed(2)}, ${ms.length} runs)`);
    }
    console.log(`  process CPU time per run (all threads): ${cpuMs.toFixed(1)} ms`);
    console.log(
      `  => ${(flop / total / 1e6).toFixed(2)} GFLOP/s, ${(bytes / total / 1e6).toFixed(2)} GB/s (all dispatches, ${total.toFixed(2)} ms)`,
    );
    rt.release(x, w, b, ...(z ? [z] : []));
    void [C, H, W];
  }
  rt.device.destroy();
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
