// Cold and warm ms of every kernel variant of MatMul, ConvTranspose, GridSample and Resize, on
// lavapipe and SwiftShader:
//   [ONLY=<case substring>] [VARIANT=<name>] [WGSEG_ADAPTER=swiftshader] npx vite-node bench/resample-variants.ts [warm runs=7]
// cold: a fresh Runtime (device, empty pipeline cache; Mesa's disk cache off) per case and variant,
//   wall ms of the first run, from recording to the result read back: pipeline compile (lavapipe
//   compiles at the first dispatch) + the run. Constant weights are prepacked on the host first,
//   as a Session does at load (not timed).
// warm: median over the warm runs of the per-dispatch GPU ms (timestamp queries; SwiftShader has
//   none: wall ms per dispatch), on the same runtime after the cold run.
// Variants run in turn per case on fresh devices, so machine load hits them alike; quote medians.
// Caveat: lavapipe keeps compiled shaders in memory across devices of one process, so a cold figure
// is only cold for the first case that builds that exact pipeline (MatMul's second case reuses the
// first's, ConvTranspose 'portable' on 64 -> 32 reuses the 21 -> 21 one). For a clean cold figure run
// one case and variant per process: ONLY=<case substring> VARIANT=<name>.
export {};
process.env.MESA_SHADER_CACHE_DISABLE = 'true';
const { kernelFor, numel, Runtime } = await import('../src/internal');
type Runtime = import('../src/internal').Runtime;
type Attrs = import('../src/internal').Attrs;
type GpuTensor = import('../src/internal').GpuTensor;

interface Case {
  name: string;
  op: string;
  /** shapes of the GPU inputs (undefined: absent); host inputs by index */
  inputs: (number[] | undefined)[];
  host?: Record<number, number[]>;
  attrs?: Attrs;
  /** input index -> data maker (default: uniform in [-0.5, 0.5)) */
  data?: Record<number, (n: number) => Float32Array>;
}

/** A mild warp (rotation 10 degrees, scale 0.9, shift): realistic locality for GridSample. */
function warpGrid(n: number): Float32Array {
  const side = Math.round(Math.sqrt(n / 2));
  const g = new Float32Array(n);
  const [c, s] = [Math.cos(0.17) * 0.9, Math.sin(0.17) * 0.9];
  for (let i = 0; i < side; i++)
    for (let j = 0; j < side; j++) {
      const u = (2 * j + 1) / side - 1,
        v = (2 * i + 1) / side - 1;
      g[2 * (i * side + j)] = c * u - s * v + 0.05;
      g[2 * (i * side + j) + 1] = s * u + c * v - 0.03;
    }
  return g;
}

const k4s2 = { strides: [2, 2], pads: [1, 1, 1, 1] };
const cases: Case[] = [
  {
    name: 'MatMul 512x512x512',
    op: 'MatMul',
    inputs: [
      [512, 512],
      [512, 512],
    ],
  },
  {
    name: 'MatMul 1x4096x64 @ 64x256',
    op: 'MatMul',
    inputs: [
      [1, 4096, 64],
      [64, 256],
    ],
  },
  {
    name: 'ConvTranspose 1x21x32x32 k4s2 -> 21x64x64',
    op: 'ConvTranspose',
    inputs: [[1, 21, 32, 32], [21, 21, 4, 4], [21]],
    attrs: k4s2,
  },
  {
    name: 'ConvTranspose 1x64x64x64 k4s2 -> 32x128x128',
    op: 'ConvTranspose',
    inputs: [[1, 64, 64, 64], [64, 32, 4, 4], [32]],
    attrs: k4s2,
  },
  {
    name: 'GridSample 1x3x256x256 bilinear',
    op: 'GridSample',
    inputs: [
      [1, 3, 256, 256],
      [1, 256, 256, 2],
    ],
    attrs: { mode: 'linear', padding_mode: 'zeros' },
    data: { 1: warpGrid },
  },
  {
    name: 'Resize x8 bilinear 1x21x32x32',
    op: 'Resize',
    inputs: [[1, 21, 32, 32], undefined, undefined, undefined],
    host: { 2: [1, 1, 8, 8] },
    attrs: { mode: 'linear' },
  },
];

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);

/** Inputs uploaded (constant weights prepacked for `variant` as a Session would) and one run's recorder. */
function prepare(rt: Runtime, c: Case, variant: string) {
  const k = kernelFor(c.op);
  const infos = c.inputs.map((s) => s && { shape: s, dtype: 'f32' as const });
  const host = c.inputs.map((_, i) => c.host?.[i]);
  const attrs = c.attrs ?? {};
  const v = k.variants!.find((x) => x.name === variant)!;
  const ts: (GpuTensor | undefined)[] = c.inputs.map((s, i) => {
    if (!s) return undefined;
    const data = (c.data?.[i] ?? rand)(numel(s));
    const packed = v.prepack?.(rt, i, data, infos, attrs);
    if (!packed) return rt.upload(data, s);
    const t = rt.upload(packed.data, [packed.data.length], packed.dtype);
    return { ...t, shape: s, dtype: 'f32', packed: packed.key };
  });
  const [out] = k.infer(infos, attrs, host);
  const y = rt.alloc(out.shape, out.dtype);
  return {
    run: () => v.encode(rt, ts, [y], attrs, host),
    y,
    release: () => rt.release(y, ...ts.filter((t): t is GpuTensor => !!t)),
  };
}

function variantsHere(rt: Runtime, c: Case): string[] {
  const k = kernelFor(c.op);
  const infos = c.inputs.map((s) => s && { shape: s, dtype: 'f32' as const });
  return k.variants!.filter((v) => !v.applies || v.applies(infos, c.attrs ?? {}, rt.info)).map((v) => v.name);
}

async function main() {
  const warmRuns = Math.max(3, Number(process.argv[2] ?? 7));
  const only = process.env.ONLY;
  // Dawn serves one adapter per process: run the bench once per adapter (WGSEG_ADAPTER)
  {
    const probe = await Runtime.create();
    console.log(`\nadapter: ${probe.info.adapter}; timestamps ${probe.info.timestamps}; ${warmRuns} warm runs`);
    const slow = /swiftshader/i.test(probe.info.adapter);
    for (const c of cases) {
      if (only && !c.name.includes(only)) continue;
      console.log(c.name);
      for (const variant of variantsHere(probe, c)) {
        if (process.env.VARIANT && variant !== process.env.VARIANT) continue;
        const rt = await Runtime.create();
        const p = prepare(rt, c, variant);
        await rt.sync();
        const t0 = performance.now();
        p.run();
        await rt.read(p.y);
        const cold = performance.now() - t0;
        const warm: number[] = [];
        let source = '';
        for (let i = 0; i < (slow ? Math.min(warmRuns, 5) : warmRuns); i++) {
          const t = await rt.profile(p.run);
          warm.push(t.reduce((a, e) => a + e.ms, 0));
          source = t[0]?.source ?? '';
        }
        console.log(
          `  ${variant.padEnd(12)} cold ${cold.toFixed(1).padStart(8)} ms   warm median ${median(warm).toFixed(2).padStart(8)} ms (${source}), best ${Math.min(...warm).toFixed(2)}`,
        );
        p.release();
        rt.dispose();
      }
    }
    probe.dispose();
  }
}

await main();
