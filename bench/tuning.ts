// npm run bench:tuning [-- --only conv3x3,unet] [-- --runs N]
// The autotuner against forcing each kernel variant, per peer-bench row (bench/peers/models.ts), on
// the adapter of this process (WGSEG_ADAPTER picks it): for every op of the row with a choice,
// the warm median with each applicable variant forced for all nodes of that op (the others at
// their default), then with tune 'full' (every node measured, the fastest kept). Prints both, and
// the tuned median over the fastest forced one (the issue asks <= 1.10). Runs of all configurations
// are interleaved, so that drift (+-30% here) hits them alike.
import { readFile } from 'node:fs/promises';
import { kernels, memoryTuningCache, Session, type SessionOptions } from '../src/index';
import { type Loaded, pickModels } from './peers/models';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const only = (opt('--only') ?? 'conv3x3,atrous-d12,conv_transpose-k4s2,grid_sample,resize-x8,unet,deeplabv3-aspp')
  .split(',')
  .filter(Boolean);
const RUNS = Number(opt('--runs') ?? 10);

const files = (p: string) =>
  readFile(p).then(
    (b) => new Uint8Array(b),
    () => null,
  );
const rt = await kernels.Runtime.create();
console.log(`adapter: ${rt.info.adapter}; ${RUNS} warm runs per configuration (median ms)`);

/** A session and its run (every output read back, as the peer bench does). */
async function prepare(l: Loaded, opts: SessionOptions) {
  const s = await Session.create((l.onnx ?? l.tflite)!, { device: rt, source: l.output, ...opts });
  const once = async () => {
    for (const t of Object.values(await s.run(l.feeds))) {
      await t.read();
      t.dispose();
    }
  };
  await once();
  return { s, once, ms: [] as number[] };
}

/**
 * Warm medians of several configurations, their runs interleaved (drift hits all alike), each round
 * starting one configuration later: a fixed order let periodic costs (the collector reclaiming the
 * read-back arrays every few runs) fall on the same configuration every round.
 */
async function medians(configs: Awaited<ReturnType<typeof prepare>>[]): Promise<number[]> {
  for (let i = 0; i < RUNS; i++)
    for (let j = 0; j < configs.length; j++) {
      const c = configs[(i + j) % configs.length];
      const t0 = performance.now();
      await c.once();
      c.ms.push(performance.now() - t0);
    }
  return configs.map((c) => c.ms.sort((a, b) => a - b)[RUNS >> 1]);
}

for (const m of pickModels(only)) {
  const l = await m.load(files);
  if ('skip' in l) {
    console.log(`${m.name}: skipped (${l.skip})`);
    continue;
  }
  const base = await prepare(l, { tune: 'off' });
  const ops = new Map<string, string[]>();
  for (const c of base.s.tuning) if (c.candidates.length > 1) ops.set(c.op, c.candidates);
  const forced: { name: string; p?: Awaited<ReturnType<typeof prepare>>; why?: string }[] = [];
  for (const [op, names] of ops)
    for (const v of names) {
      try {
        forced.push({ name: `${op}=${v}`, p: await prepare(l, { variants: { [op]: v } }) });
      } catch (e) {
        forced.push({ name: `${op}=${v}`, why: (e as Error).message.slice(0, 80) });
      }
    }
  const tuned = await prepare(l, { tune: 'full', tuningCache: memoryTuningCache() });
  const runs = forced.filter((f) => f.p).map((f) => f.p!);
  const [baseMs, tunedMs, ...forcedMs] = await medians([base, tuned, ...runs]);
  const timed = forced.filter((f) => f.p).map((f, i) => ({ name: f.name, ms: forcedMs[i] }));
  const best = [...timed].sort((a, b) => a.ms - b.ms)[0];
  console.log(`\n${m.name} (${m.input}): default ${baseMs.toFixed(2)} ms`);
  for (const f of forced)
    console.log(
      `  forced ${f.name.padEnd(30)} ${f.why ? `not run: ${f.why}` : `${timed.find((t) => t.name === f.name)!.ms.toFixed(2)} ms`}`,
    );
  const chosen = tuned.s.tuning.filter((c) => c.candidates.length > 1).map((c) => `${c.node}: ${c.choice}`);
  console.log(
    `  tuned (full)                          ${tunedMs.toFixed(2)} ms  [${chosen.join(', ') || 'no choice'}]`,
  );
  // the same kernels: every node runs the variant it runs in the fastest forced configuration
  const bestRun = best && forced.find((f) => f.name === best.name)!.p!.s.tuning;
  const same = bestRun && tuned.s.tuning.every((c, i) => c.choice === bestRun[i]?.choice);
  if (best)
    console.log(
      `  tuned / fastest forced (${best.name}): ${(tunedMs / best.ms).toFixed(2)}${same ? ' (the same kernels: the difference is noise)' : ''}`,
    );
  for (const c of [base, tuned, ...runs]) c.s.dispose();
}
rt.dispose();
process.exit(0);
