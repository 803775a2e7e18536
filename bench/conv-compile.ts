// First-dispatch cost of each conv pipeline variant: MESA_SHADER_CACHE_DISABLE=true npx vite-node bench/conv-compile.ts
// (lavapipe JIT-compiles a pipeline at its first dispatch, so "first" - "then" is the compile; ONLY=<substring> picks cases;
// the first case of a process also compiles the GPU weight-pack pipeline). CT_PX / CT_MB8 / CT_SG=0: conv_transpose block and kernel.
import { convTransposeTuning, convTuning, kernelFor, numel, Runtime, runKernel, type Attrs } from '../src/internal';

interface Case {
  name: string;
  x: number[];
  w: number[];
  attrs: Attrs;
  op?: string;
  plain?: boolean;
  noFixed?: boolean;
}
const cases: Case[] = [
  { name: 'real 3x3 s1 MB32', x: [1, 64, 128, 128], w: [64, 64, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
  { name: '3x3 s1 MB32', x: [1, 64, 8, 8], w: [64, 64, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
  {
    name: '3x3 s1 MB32 relu+bias',
    x: [1, 64, 8, 8],
    w: [64, 64, 3, 3],
    attrs: { pads: [1, 1, 1, 1], activation: 'Relu' },
    op: 'FusedConv',
  },
  { name: '3x3 s1 MB16', x: [1, 16, 8, 8], w: [16, 16, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
  { name: '3x3 s2 MB32', x: [1, 64, 8, 8], w: [64, 64, 3, 3], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
  { name: '3x3 d2 MB32', x: [1, 64, 8, 8], w: [64, 64, 3, 3], attrs: { pads: [2, 2, 2, 2], dilations: [2, 2] } },
  { name: '1x1 MB32', x: [1, 64, 8, 8], w: [64, 64, 1, 1], attrs: {} },
  { name: '5x5 loops MB32', x: [1, 64, 8, 8], w: [64, 64, 5, 5], attrs: { pads: [2, 2, 2, 2] } },
  {
    name: '3x3 loops (no fixed) MB32',
    x: [1, 64, 8, 8],
    w: [64, 64, 3, 3],
    attrs: { pads: [1, 1, 1, 1], strides: [1, 1] },
    noFixed: true,
  },
  { name: 'plain 3x3', x: [1, 64, 8, 8], w: [64, 64, 3, 3], attrs: { pads: [1, 1, 1, 1] }, plain: true },
  { name: 'depthwise 3x3', x: [1, 64, 8, 8], w: [64, 1, 3, 3], attrs: { pads: [1, 1, 1, 1], group: 64 } },
  {
    name: 'convT k4s2 21->21',
    x: [1, 21, 64, 64],
    w: [21, 21, 4, 4],
    attrs: { strides: [2, 2], pads: [1, 1, 1, 1] },
    op: 'ConvTranspose',
  },
  {
    name: 'convT k16s8 21->21',
    x: [1, 21, 32, 32],
    w: [21, 21, 16, 16],
    attrs: { strides: [8, 8], pads: [4, 4, 4, 4] },
    op: 'ConvTranspose',
  },
];
const only = process.env.ONLY;
// CT_PX / CT_MB8: the conv_transpose subgroup kernel's register block (pixels, groups of 8 channels)
convTransposeTuning.px = Number(process.env.CT_PX ?? convTransposeTuning.px);
convTransposeTuning.maxMb8 = Number(process.env.CT_MB8 ?? convTransposeTuning.maxMb8);
convTransposeTuning.subgroups = process.env.CT_SG !== '0';

async function main() {
  const rt = await Runtime.create();
  console.log(`adapter: ${rt.info.adapter}`);
  const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    convTuning.subgroups = !c.plain;
    convTuning.fixedSize = !c.noFixed;
    const op = c.op ?? 'Conv';
    const k = kernelFor(op);
    const x = rt.upload(rand(numel(c.x)), c.x),
      w = rt.upload(rand(numel(c.w)), c.w),
      b = rt.upload(rand(c.w[op === 'ConvTranspose' ? 1 : 0]), [c.w[op === 'ConvTranspose' ? 1 : 0]]);
    const t: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      rt.release(...runKernel(rt, k, [x, w, b], c.attrs));
      await rt.sync();
      t.push(performance.now() - t0);
    }
    console.log(
      `${c.name.padEnd(28)} first ${t[0].toFixed(0).padStart(6)} ms, then ${[...t.slice(1)].sort((a, b) => a - b)[1].toFixed(1)} ms`,
    );
    rt.release(x, w, b);
  }
  rt.dispose();
}
void main();
