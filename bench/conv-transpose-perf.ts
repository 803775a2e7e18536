// ConvTranspose on the FCN upsampling shapes: per-dispatch GPU ms (timestamp queries, or wall time
// per dispatch without them) with useful GFLOP/s (2 * N * C * H * W * (M / group) * kH * kW), for the
// subgroup kernel and the portable one, measured alternately so machine load hits both alike.
//   npx vite-node bench/conv-transpose-perf.ts [runs=10] [f16]
import { convTransposeTuning, kernelFor, Runtime, type Attrs } from '../src/internal';

interface Shape {
  name: string;
  x: number[];
  w: number[];
  attrs: Attrs;
}
const shapes: Shape[] = [
  {
    name: 'FCN upscore x2 (k4 s2 p1) 1x21x64x64 -> 21',
    x: [1, 21, 64, 64],
    w: [21, 21, 4, 4],
    attrs: { strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: 'FCN upscore x8 (k16 s8 p4) 1x21x32x32 -> 21',
    x: [1, 21, 32, 32],
    w: [21, 21, 16, 16],
    attrs: { strides: [8, 8], pads: [4, 4, 4, 4] },
  },
];

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function main() {
  const runs = Math.max(5, Number(process.argv[2] ?? 10));
  const dtype = process.argv[3] === 'f16' ? 'f16' : 'f32';
  const rt = await Runtime.create();
  console.log(
    `adapter: ${rt.info.adapter}; timestamps: ${rt.info.timestamps}; dtype ${dtype}; ${runs} runs after warm-up`,
  );
  const k = kernelFor('ConvTranspose');
  const variants = rt.info.subgroups ? [true, false] : [false];
  for (const s of shapes) {
    const x = rt.upload(
      Float32Array.from({ length: numel(s.x) }, () => Math.random() - 0.5),
      s.x,
      dtype,
    );
    const w = rt.upload(
      Float32Array.from({ length: numel(s.w) }, () => Math.random() - 0.5),
      s.w,
      dtype,
    );
    const b = rt.upload(
      Float32Array.from({ length: s.w[1] }, () => Math.random() - 0.5),
      [s.w[1]],
      dtype,
    );
    const [y] = k.infer([x, w, b], s.attrs, []);
    const out = rt.alloc(y.shape, dtype);
    const run = (sg: boolean) => {
      convTransposeTuning.subgroups = sg;
      k.encode(rt, [x, w, b], [out], s.attrs, []);
    };
    for (const sg of variants) run(sg), run(sg);
    await rt.sync();
    const ms = new Map<boolean, { main: number[]; pack: number[]; wall: number[] }>(
      variants.map((v) => [v, { main: [], pack: [], wall: [] }]),
    );
    for (let i = 0; i < runs; i++) {
      for (const sg of variants) {
        const m = ms.get(sg)!;
        const t0 = performance.now();
        const t = await rt.profile(() => run(sg));
        m.wall.push(performance.now() - t0);
        m.main.push(t.filter((e) => !e.name.endsWith(' pack')).reduce((a, e) => a + e.ms, 0));
        m.pack.push(t.filter((e) => e.name.endsWith(' pack')).reduce((a, e) => a + e.ms, 0));
      }
    }
    const flops = 2 * numel(s.x) * s.w[1] * s.w[2] * s.w[3];
    console.log(`${s.name} -> [${y.shape}]: ${(flops / 1e6).toFixed(1)} MFLOP`);
    for (const [sg, m] of ms) {
      const g = median(m.main),
        best = Math.min(...m.main);
      console.log(
        `  ${sg ? 'subgroup' : 'portable'}: GPU median ${g.toFixed(2)} ms = ${(flops / g / 1e6).toFixed(2)} GFLOP/s, best ${best.toFixed(2)} ms = ${(flops / best / 1e6).toFixed(2)} GFLOP/s; weight pack ${median(m.pack).toFixed(2)} ms; wall incl. submit ${median(m.wall).toFixed(2)} ms`,
      );
    }
    rt.release(x, w, b, out);
  }
  convTransposeTuning.subgroups = true;
  rt.dispose();
}

await main();
