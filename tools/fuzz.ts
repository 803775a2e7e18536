// npm run fuzz -- [--cases 10000] [--seed 1] [--format onnx|tflite|safetensors|npy|all|onnx,npy] [--only 12,40]
//                 [--timeout-ms 20000] [--max-rss-mib 2048] [--max-growth-mib 256] [--outcomes cases.jsonl]
// Mutated ONNX / TFLite / safetensors / .npy files through the importers, Session.create and a run
// (tools/fuzz/). Prints a table per format: cases, ok, WgsegError by code, failures, max ms per
// case, peak RSS. Exits 1 on any failure; failing files are saved under .cache/fuzz/.
import { appendFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fuzz, table } from './fuzz/harness';
import { FORMATS, type Format } from './fuzz/seeds';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const num = (name: string, dflt: number) => {
  const v = opt(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) usage(`${name} takes a non-negative number, got "${v}"`);
  return n;
};
function usage(msg: string): never {
  console.error(
    `fuzz: ${msg}\nusage: npm run fuzz -- [--cases N] [--seed S] [--format ${FORMATS.join('|')}|all] [--only I,J] [--timeout-ms MS] [--max-rss-mib MIB] [--max-growth-mib MIB] [--outcomes FILE.jsonl]`,
  );
  process.exit(2);
}

const fmtArg = opt('--format') ?? 'all';
const formats = (fmtArg === 'all' ? FORMATS : fmtArg.split(',')) as Format[];
for (const f of formats) if (!FORMATS.includes(f)) usage(`unknown format "${f}"`);
const only = opt('--only')?.split(',').map(Number);
if (only?.some((i) => !Number.isInteger(i) || i < 0)) usage('--only takes case indices');
const o = {
  cases: num('--cases', 1000),
  seed: num('--seed', 1),
  formats,
  only,
  timeoutMs: num('--timeout-ms', 20_000),
  maxRss: num('--max-rss-mib', 2048) * 2 ** 20,
  maxGrowth: num('--max-growth-mib', 256) * 2 ** 20,
};

console.log(
  `fuzz: ${only ? `cases ${only.join(',')}` : `${o.cases} cases`}, seed ${o.seed}, formats ${formats.join(',')}, bounds per case: ${o.timeoutMs} ms, ${o.maxRss / 2 ** 20} MiB RSS, ${o.maxGrowth / 2 ** 20} MiB left behind; load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const outcomes = opt('--outcomes');
if (outcomes) writeFileSync(outcomes, '');
const rep = await fuzz({
  ...o,
  log: (l) => console.log(l),
  ...(outcomes ? { outcomes: (l: string) => appendFileSync(outcomes, `${l}\n`) } : {}),
});
console.log(
  `adapter: ${rep.adapter}; ${(rep.wallMs / 1000).toFixed(1)} s; up to ${rep.pipelines} pipelines cached in a worker; load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(table(rep));
if (rep.failures.length) {
  console.log(`\n${rep.failures.length} failures (files under .cache/fuzz/):`);
  for (const f of rep.failures)
    console.log(`  case ${f.index} ${f.format}/${f.seed}: ${f.reason.split('\n')[0].slice(0, 200)}`);
}
process.exit(rep.failures.length ? 1 : 0);
