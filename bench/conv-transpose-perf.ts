// ConvTranspose on the FCN upsampling shapes: per-dispatch GPU ms (timestamp queries, or wall time
// per dispatch without them) and wall ms over repeated runs, with useful GFLOP/s
// (2 * N * C * H * W * (M / group) * kH * kW).
//   npx vite-node bench/conv-transpose-perf.ts [runs=10] [f16]
import { Runtime } from '../src/gpu/runtime';
import { kernelFor } from '../src/kernels/registry';
import type { Attrs } from '../src/kernels/types';

interface Shape { name: string; x: number[]; w: number[]; attrs: Attrs }
const shapes: Shape[] = [
  { name: 'FCN upscore x2 (k4 s2 p1) 1x21x64x64 -> 21', x: [1, 21, 64, 64], w: [21, 21, 4, 4], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'FCN upscore x8 (k16 s8 p4) 1x21x32x32 -> 21', x: [1, 21, 32, 32], w: [21, 21, 16, 16], attrs: { strides: [8, 8], pads: [4, 4, 4, 4] } },
];

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function main() {
  const runs = Math.max(5, Number(process.argv[2] ?? 10));
  const dtype = process.argv[3] === 'f16' ? 'f16' : 'f32';
  const rt = await Runtime.create();
  console.log(`adapter: ${rt.info.adapter}; timestamps: ${rt.info.timestamps}; dtype ${dtype}; ${runs} runs after warm-up`);
  const k = kernelFor('ConvTranspose');
  for (const s of shapes) {
    const x = rt.upload(Float32Array.from({ length: numel(s.x) }, () => Math.random() - 0.5), s.x, dtype);
    const w = rt.upload(Float32Array.from({ length: numel(s.w) }, () => Math.random() - 0.5), s.w, dtype);
    const b = rt.upload(Float32Array.from({ length: s.w[1] }, () => Math.random() - 0.5), [s.w[1]], dtype);
    const [y] = k.infer([x, w, b], s.attrs, []);
    const out = rt.alloc(y.shape, dtype);
    const run = () => k.encode(rt, [x, w, b], [out], s.attrs, []);
    for (let i = 0; i < 2; i++) run();
    await rt.sync();
    const timings = await rt.profile(() => { for (let i = 0; i < runs; i++) run(); });
    const gpuMs = timings.filter((t) => !t.name.endsWith(' pack')).map((t) => t.ms);
    const packMs = timings.filter((t) => t.name.endsWith(' pack')).map((t) => t.ms);
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      run();
      await rt.sync();
      wall.push(performance.now() - t0);
    }
    const flops = 2 * numel(s.x) * s.w[1] * s.w[2] * s.w[3];
    const g = median(gpuMs), wm = median(wall);
    console.log(`${s.name} -> [${y.shape}]: ${(flops / 1e6).toFixed(1)} MFLOP; GPU ${g.toFixed(2)} ms (min ${Math.min(...gpuMs).toFixed(2)}) = ${(flops / g / 1e6).toFixed(2)} GFLOP/s (+ weight pack ${median(packMs).toFixed(2)} ms); wall (both dispatches) ${wm.toFixed(2)} ms = ${(flops / wm / 1e6).toFixed(2)} GFLOP/s`);
    rt.release(x, w, b, out);
  }
  rt.dispose();
}

await main();
