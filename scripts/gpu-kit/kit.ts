// The GPU kit's own steps (bundled into gpu-kit/app/kit.mjs by scripts/gpu-kit/build.sh, run by
// gpu-kit/run.sh on a machine without Node or network; docs/gpu-kit.md):
//   kit.mjs probe                     Dawn's adapters; prints ADAPTER=<name> of the first Vulkan one
//   kit.mjs report --gpu NAME --kernels k.json --peers p.json
//                                     GFLOP/s and % of FP32 peak per conv layer, the peer table
//   kit.mjs tuning --only a,b         the autotuner's choices per node (session.tuning), all measured
import { readFileSync } from 'node:fs';
import { formatTable, type Row as PeerRow } from '../../bench/peers/harness';
import { pickModels } from '../../bench/peers/models';
import { Session } from '../../src/index';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

/** FP32 peak (dense, non-tensor-core) in TFLOP/s by GPU name; unknown GPUs get no % column. */
const FP32_PEAK: [RegExp, number, string][] = [
  [/H200/i, 67, 'H200'],
  [/H100.*PCIe/i, 51, 'H100 PCIe'],
  // nvidia-smi names the SXM5 part "NVIDIA H100 80GB HBM3"
  [/H100.*(SXM|HBM3)/i, 67, 'H100 SXM'],
];

export function fp32Peak(gpu: string): { tflops: number; part: string } | null {
  const hit = FP32_PEAK.find(([re]) => re.test(gpu));
  return hit ? { tflops: hit[1], part: hit[2] } : null;
}

/** FLOPs of the peer rows that are one conv (bench/peers/models.ts shapes): multiply-adds x 2. */
const PEER_FLOPS: Record<string, number> = {
  conv3x3: 2 * 64 * 64 * 9 * 128 * 128,
  'atrous-d6': 2 * 256 * 256 * 9 * 32 * 32,
  'atrous-d12': 2 * 256 * 256 * 9 * 32 * 32,
  'conv_transpose-k4s2': 2 * 21 * 21 * 16 * 64 * 64,
  'conv_transpose-k16s8': 2 * 21 * 21 * 256 * 32 * 32,
};

interface KernelRow {
  kernel: string;
  op: string;
  medianMs: number;
  rate: number;
  unit: string;
  adapter: string;
}

const readJson = <T>(path: string | undefined): T | null => {
  if (!path) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
};

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

function report() {
  const gpu = opt('--gpu') ?? '';
  const peak = fp32Peak(gpu);
  const pct = (gflops: number) => (peak ? `${((100 * gflops) / (peak.tflops * 1000)).toFixed(1)}%` : '');
  console.log(
    peak
      ? `GPU "${gpu}": ${peak.part}, FP32 peak ${peak.tflops} TFLOP/s`
      : `GPU "${gpu || 'unknown'}": not in the FP32 peak table (H100 SXM, H100 PCIe, H200): no % of peak`,
  );
  const kernels = readJson<KernelRow[]>(opt('--kernels'));
  if (kernels) {
    const convs = kernels.filter((k) => k.unit === 'GFLOP/s');
    console.log(`\nkernel bench (${kernels[0]?.adapter ?? '?'}), compute-bound cases:`);
    const head = ['kernel', 'median ms', 'GFLOP/s', ...(peak ? ['% FP32 peak'] : [])];
    console.log(
      table(
        head,
        convs.map((k) => [k.kernel, k.medianMs.toFixed(3), k.rate.toFixed(0), pct(k.rate)].slice(0, head.length)),
      ),
    );
    const mem = kernels.filter((k) => k.unit !== 'GFLOP/s');
    if (mem.length)
      console.log(
        `\nmemory-bound cases:\n${table(
          ['kernel', 'median ms', 'GB/s'],
          mem.map((k) => [k.kernel, k.medianMs.toFixed(3), k.rate.toFixed(1)]),
        )}`,
      );
  } else console.log('\nkernel bench: no results (step failed or timed out)');
  const peers = readJson<PeerRow[]>(opt('--peers'));
  if (peers?.length) {
    console.log(`\npeer rows (median of the warm runs; wall time incl. upload and read-back):\n${formatTable(peers)}`);
    const convRows = peers.filter((r) => PEER_FLOPS[r.model] && r.medianMs);
    if (convRows.length)
      console.log(
        `\nsingle-conv peer rows as GFLOP/s (wall time, so a floor):\n${table(
          ['model', 'engine', 'median ms', 'GFLOP/s', ...(peak ? ['% FP32 peak'] : [])],
          convRows.map((r) => {
            const g = PEER_FLOPS[r.model] / r.medianMs! / 1e6;
            return [r.model, r.engine, r.medianMs!.toFixed(2), g.toFixed(0), ...(peak ? [pct(g)] : [])];
          }),
        )}`,
      );
  } else console.log('\npeer rows: no results (step failed or timed out)');
}

/** Dawn's adapters: its error for an unknown adapter name lists them all. */
async function probe() {
  const dawn: { create(flags: string[]): GPU; globals: object } = await import('webgpu');
  Object.assign(globalThis, dawn.globals);
  let names: string[] = [];
  try {
    await dawn.create(['adapter=wgseg-kit-list-adapters']).requestAdapter();
  } catch (e) {
    const msg = (e as Error).message;
    console.log(msg.replace(/^/gm, '  '));
    names = [...msg.matchAll(/backend: 'vulkan', name: '([^']+)'/g)].map((m) => m[1]);
  }
  const wanted = process.env.WGSEG_ADAPTER || names[0];
  if (!wanted) {
    console.log('no Vulkan adapter: check the ICD (VK_ICD_FILENAMES) and the driver');
    process.exit(2);
  }
  const a = await dawn.create([`adapter=${wanted}`]).requestAdapter({ powerPreference: 'high-performance' });
  if (!a) throw new Error(`adapter ${wanted}: requestAdapter gave null`);
  const i = a.info;
  console.log(`adapter: ${[i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ')}`);
  console.log(`features: ${[...a.features].sort().join(' ')}`);
  const l = a.limits;
  console.log(
    `limits: maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, maxBufferSize ${l.maxBufferSize}, maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`,
  );
  console.log(`ADAPTER=${wanted}`);
}

/** Each model's per-node variant choice, every candidate measured (tune 'full', no cache). */
async function tuning() {
  const only = (opt('--only') ?? 'conv3x3,unet,deeplabv3-aspp').split(',');
  const none = async () => null;
  for (const m of pickModels(only)) {
    const l = await m.load(none);
    if ('skip' in l || !l.onnx) continue;
    const t0 = performance.now();
    const s = await Session.create(l.onnx, { source: m.name, tune: 'full', tuningCache: false });
    try {
      for (const t of Object.values(await s.run(l.feeds))) t.dispose();
      const choices = (s as unknown as { tuning?: unknown }).tuning;
      console.log(
        `\n${m.name} (${m.input}), session created and run once in ${(performance.now() - t0).toFixed(0)} ms`,
      );
      if (!Array.isArray(choices)) {
        console.log('  session.tuning is not exposed by this build');
        continue;
      }
      for (const c of choices as { node: string; op: string; choice: string; source: string; times: object }[])
        console.log(
          `  ${c.op} ${c.node}: ${c.choice} (${c.source}) ${Object.entries(c.times as Record<string, number>)
            .map(([v, ms]) => `${v} ${ms.toFixed(3)} ms`)
            .join(', ')}`,
        );
    } finally {
      s.dispose();
    }
  }
}

const steps: Record<string, () => Promise<void> | void> = { probe, report, tuning };
const step = steps[args[0]];
if (!step) {
  console.error(`usage: kit.mjs ${Object.keys(steps).join('|')} [options]`);
  process.exit(2);
}
Promise.resolve(step()).then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
