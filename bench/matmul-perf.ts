// GFLOP/s of the tiled GEMM (shaders/matmul/gemm.wgsl) via MatMul: `npx vite-node bench/matmul-perf.ts`.
// Per-dispatch GPU time from rt.profile (timestamp queries, else wall time per dispatch); the
// best of REPEAT medians over RUNS runs each, after a warm-up. Tile config: WG_X/WG_Y/BK/RM/CN/VEC4 env vars (DIRECT=1: the
// `direct` entry point, no workgroup memory).
// Shapes: SHAPES="1024x1024x1024,256x4096x256" (MxNxK), dtypes: DTYPES="f32,f16".
export {};

const { GEMM_TILE, kernelFor, Runtime, runKernel } = await import('../src/internal');
type DType = import('../src/index').DType;

const tile: typeof GEMM_TILE & { DIRECT?: number } = GEMM_TILE;
for (const k of ['WG_X', 'WG_Y', 'BK', 'RM', 'CN', 'VEC4', 'DIRECT'] as const)
  if (process.env[k]) tile[k] = Number(process.env[k]);
const shapes = (process.env.SHAPES ?? '1024x1024x1024,256x4096x256').split(',').map((s) => s.split('x').map(Number));
const RUNS = Number(process.env.RUNS ?? 5),
  REPEAT = Number(process.env.REPEAT ?? 3);

const rt = await Runtime.create();
const dtypes = (process.env.DTYPES ?? (rt.info.f16 ? 'f32,f16' : 'f32')).split(',') as DType[];
console.log(`adapter: ${rt.info.adapter}; tile ${JSON.stringify(GEMM_TILE)}`);
const mm = kernelFor('MatMul');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const dtype of dtypes) {
  for (const [M, N, K] of shapes) {
    const a = rt.upload(
      Float32Array.from({ length: M * K }, () => Math.random() - 0.5),
      [M, K],
      dtype,
    );
    const b = rt.upload(
      Float32Array.from({ length: K * N }, () => Math.random() - 0.5),
      [K, N],
      dtype,
    );
    const [y] = runKernel(rt, mm, [a, b]); // warm-up: pipeline compile + first run
    await rt.read(y);
    let best = Infinity,
      bestCpu = Infinity,
      source = '';
    for (let rep = 0; rep < REPEAT; rep++) {
      const cpu0 = process.cpuUsage();
      const t = await rt.profile(() => {
        for (let i = 0; i < RUNS; i++) mm.encode(rt, [a, b], [y], {}, []);
      });
      const cpu = process.cpuUsage(cpu0);
      best = Math.min(best, median(t.map((x) => x.ms)));
      bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1000 / RUNS);
      source = t[0].source;
    }
    const flop = 2 * M * N * K;
    // CPU ms of this process per run (lavapipe's threads live here): steadier than time on a shared machine
    console.log(
      `${dtype} ${M}x${N}x${K}: ${best.toFixed(1)} ms (${source}), ${(flop / (best * 1e6)).toFixed(2)} GFLOP/s;` +
        ` ${bestCpu.toFixed(0)} CPU-ms/run, ${(flop / (bestCpu * 1e6)).toFixed(2)} GFLOP per CPU-second`,
    );
    rt.release(a, b, y);
  }
}
rt.dispose();
