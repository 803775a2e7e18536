// npm run soak [-- --runs 1000 --cycles 1000]
// 1,000 inferences of a small U-Net, then 1,000 Session create/run/dispose cycles; prints wgseg's
// live GPU buffers and bytes, the session pool, the pipeline cache and the JS heap (after a full GC),
// baseline vs after, and exits 1 when GPU memory or pipelines did not return to the baseline.
import { loadavg } from 'node:os';
import { soak, type SoakPoint } from './soak-lib';

const args = process.argv.slice(2);
const num = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} wants a non-negative integer, got ${args[i + 1]}`);
  return v;
};

const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const row = (label: string, p: SoakPoint) =>
  `  ${label.padEnd(9)} gpu ${String(p.gpu.buffers).padStart(4)} buffers ${String(p.gpu.bytes).padStart(9)} B` +
  `${p.pool ? ` | pool ${String(p.pool.buffers).padStart(3)} buffers ${String(p.pool.allocatedBytes).padStart(8)} B` : ''}` +
  ` | pipelines ${String(p.pipelines).padStart(3)} | heap ${mb(p.heap)}`;

async function main() {
  const runs = num('--runs', 1000),
    cycles = num('--cycles', 1000);
  console.log(
    `soak: ${runs} runs, ${cycles} create/dispose cycles; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const r = await soak(runs, cycles, (phase, i) => process.stdout.write(`\r  ${phase} ${i}...`));
  process.stdout.write('\r');
  console.log(`adapter: ${r.adapter}`);
  console.log(
    `${runs} inferences of one session (${(r.run.ms / Math.max(1, runs)).toFixed(2)} ms each, read back included):`,
  );
  console.log(row('baseline', r.run.before));
  console.log(row('after', r.run.after));
  console.log(
    `  heap growth ${mb(r.run.after.heap - r.run.before.heap)}; first outputs of the first and last run: ${r.first.map((v) => v.toFixed(6)).join(' ')} | ${r.last.map((v) => v.toFixed(6)).join(' ')}`,
  );
  console.log(
    `${cycles} Session create/run/dispose cycles (${(r.cycle.ms / Math.max(1, cycles)).toFixed(2)} ms each):`,
  );
  console.log(row('baseline', r.cycle.before));
  console.log(row('after', r.cycle.after));
  console.log(`  heap growth ${mb(r.cycle.after.heap - r.cycle.before.heap)}`);
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const same = (a: SoakPoint, b: SoakPoint) =>
    a.gpu.bytes === b.gpu.bytes &&
    a.gpu.buffers === b.gpu.buffers &&
    a.pipelines === b.pipelines &&
    a.pool?.allocatedBytes === b.pool?.allocatedBytes;
  const ok = same(r.run.before, r.run.after) && same(r.cycle.before, r.cycle.after) && r.first.join() === r.last.join();
  console.log(
    ok
      ? 'OK: GPU memory and pipelines back at their baselines'
      : 'LEAK: GPU memory, pool or pipelines differ from the baseline (or outputs drifted)',
  );
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
