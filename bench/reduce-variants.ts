// Depthwise conv, pooling, softmax and reduction timings per kernel variant on the current WebGPU
// adapter: `npx vite-node bench/reduce-variants.ts` (lavapipe), `WGSEG_ADAPTER=swiftshader npx vite-node
// bench/reduce-variants.ts`. GPU time per dispatch from timestamp queries (rt.profile), median of RUNS
// after a warm-up; every variant that applies is forced in turn. ONLY=<substring> picks cases.
import { kernelFor, numel, Runtime, runKernel, type Attrs } from '../src/internal';

const RUNS = Number(process.env.RUNS ?? 9);
const only = process.env.ONLY;

interface Case {
  name: string;
  op: string;
  shapes: number[][];
  attrs?: Attrs;
}

const dw = (c: number, h: number): Case => ({
  name: `depthwise 3x3 1x${c}x${h}x${h} pad 1`,
  op: 'Conv',
  shapes: [[1, c, h, h], [c, 1, 3, 3], [c]],
  attrs: { group: c, pads: [1, 1, 1, 1] },
});
const gap = (c: number, h: number): Case => ({
  name: `GlobalAveragePool 1x${c}x${h}x${h}`,
  op: 'GlobalAveragePool',
  shapes: [[1, c, h, h]],
});

const cases: Case[] = [
  dw(960, 8),
  dw(144, 64),
  gap(960, 8),
  gap(72, 32),
  gap(16, 128),
  { name: 'Softmax [4096, 21] axis -1', op: 'Softmax', shapes: [[4096, 21]], attrs: { axis: -1 } },
  { name: 'Softmax [21, 4096] axis -1', op: 'Softmax', shapes: [[21, 4096]], attrs: { axis: -1 } },
  { name: 'ReduceMean [512, 2048] axis -1', op: 'ReduceMean', shapes: [[512, 2048]], attrs: { axes: [-1] } },
  {
    name: 'MaxPool 3x3 s2 pad 1 1x64x112x112',
    op: 'MaxPool',
    shapes: [[1, 64, 112, 112]],
    attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], __outputs: 1 },
  },
  {
    name: 'AveragePool 3x3 s1 pad 1 1x96x35x35',
    op: 'AveragePool',
    shapes: [[1, 96, 35, 35]],
    attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
  },
];

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main() {
  const rt = await Runtime.create();
  console.log(`adapter: ${rt.info.adapter} (timestamps: ${rt.info.timestamps})`);
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    const k = kernelFor(c.op);
    const attrs = c.attrs ?? {};
    const ins = c.shapes.map((s) =>
      rt.upload(
        Float32Array.from({ length: numel(s) }, () => Math.random() * 2 - 1),
        s,
      ),
    );
    const infos = ins.map((t) => ({ shape: t.shape, dtype: t.dtype }));
    const names = (k.variants ?? []).filter((v) => !v.applies || v.applies(infos, attrs, rt.info)).map((v) => v.name);
    const bytes = 4 * ins.reduce((a, t) => a + numel(t.shape), 0);
    console.log(`\n${c.name} (${(bytes / 1e6).toFixed(2)} MB in)`);
    for (const variant of names.length ? names : [undefined]) {
      rt.release(...runKernel(rt, k, ins, attrs, [], variant)); // warm-up: pipeline creation
      await rt.sync();
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = await rt.profile(() => rt.release(...runKernel(rt, k, ins, attrs, [], variant)));
        ms.push(t.reduce((a, d) => a + d.ms, 0));
      }
      const m = median(ms);
      console.log(
        `  ${(variant ?? 'default').padEnd(16)} median ${m.toFixed(3)} ms (min ${Math.min(...ms).toFixed(3)}, ${RUNS} runs)`,
      );
    }
    rt.release(...ins);
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
