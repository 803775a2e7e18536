// npm run bench [-- --json out.json] [-- --only conv]
// Per kernel: shape, median ms over 7 runs after warm-up, GFLOP/s or GB/s, and the adapter.
import { writeFileSync } from 'node:fs';
import { Runtime } from '../src/internal';
import { benchCase, cases, RUNS } from './cases';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

async function main() {
  const rt = await Runtime.create();
  console.log(
    `adapter: ${rt.info.adapter} (timestamp-query: ${rt.info.timestamps}, shader-f16: ${rt.info.f16}); median of ${RUNS} runs`,
  );
  console.log(`${'kernel'.padEnd(44)} ${'median ms'.padStart(10)}  ${'rate'.padStart(16)}`);
  const rows = [];
  for (const c of cases.filter((c) => !opt('--only') || c.name.includes(opt('--only')!))) {
    const r = await benchCase(rt, c);
    rows.push(r);
    console.log(
      `${r.kernel.padEnd(44)} ${r.medianMs.toFixed(2).padStart(10)}  ${`${r.rate.toFixed(2)} ${r.unit}`.padStart(16)}`,
    );
  }
  if (opt('--json')) writeFileSync(opt('--json')!, JSON.stringify(rows, null, 2));
  rt.dispose();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
