// npx vite-node bench/crf.ts [-- --size 512] [-- --classes 21] [-- --iterations 5] [-- --splat nearest|linear] [-- --cell 1]
// DenseCRF (src/pipelines/crf/crf.ts) on one frame: median ms over runs after a warm-up, GPU-resident
// inputs (random probabilities, a synthetic image), outputs read back only to sync.
import { DenseCRF } from '../src/index';
import { Runtime } from '../src/internal';
import { busyImage, uniform } from '../test/reference/crf';

const args = process.argv.slice(2);
const opt = (name: string, d: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);

async function main() {
  const S = Number(opt('--size', '512')),
    C = Number(opt('--classes', '21')),
    iterations = Number(opt('--iterations', '5'));
  const runs = Number(opt('--runs', '5'));
  const rt = await Runtime.create();
  const crf = new DenseCRF(rt, {
    iterations,
    splat: opt('--splat', 'nearest') as 'linear' | 'nearest',
    cellScale: Number(opt('--cell', '1')),
  });
  const img = busyImage(S, S);
  const rnd = uniform(7);
  const probs = new Float32Array(C * S * S).map(() => rnd());
  const p = rt.upload(probs, [1, C, S, S]),
    im = rt.upload(img, [1, 3, S, S]);
  const g = crf.gridShape(S, S);
  console.log(`adapter: ${rt.info.adapter}`);
  console.log(
    `DenseCRF ${S}x${S}, ${C} classes, ${iterations} iterations, splat ${crf.splat}, grid ${g.dims.join('x')} cells (cellScale ${crf.cellScale})`,
  );
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    const out = crf.run(p, im);
    await rt.read(out.labels);
    const ms = performance.now() - t0;
    rt.release(out.probs, out.labels);
    if (r > 0) times.push(ms);
    else console.log(`warm-up (pipelines compiled): ${ms.toFixed(1)} ms`);
  }
  times.sort((a, b) => a - b);
  console.log(
    `ms per ${S}x${S} frame: ${times[times.length >> 1].toFixed(1)} (median of ${runs}; min ${times[0].toFixed(1)})`,
  );
  rt.dispose();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
