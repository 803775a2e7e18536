// The peer benchmark's CPU engine, Node only: onnxruntime-node, ORT's native CPU execution provider
// (MLAS kernels, all graph optimisations). It is the physical reference on a box without a GPU,
// where the WebGPU engines run on a software rasteriser (lavapipe) over the same cores. bench/peers/
// node.ts loads this file only when --engines names ort-cpu; demos/bench never imports it (it
// loads a native addon). onnxruntime-node's postinstall would fetch CUDA providers from NuGet: the
// package.json's allowScripts (npm 11) does not run it; the CPU provider ships in the npm package.
import { availableParallelism } from 'node:os';
import type { Engine, Loaded, Prepared } from './models';

type OrtNode = typeof import('onnxruntime-node');

/**
 * Threads of ORT's intra-op pool: every core the process may use by default (onnxruntime's own
 * default is the physical cores), one inter-op thread (sequential execution: the graphs are chains).
 */
export const ortCpuOptions = { threads: availableParallelism() };

let ortNode: Promise<OrtNode> | null = null;
const load = () => (ortNode ??= import('onnxruntime-node'));

/** "onnxruntime-node 1.30.0, CPU EP, 2 intra-op threads": what the ort-cpu rows measured. */
export async function ortCpuDescription(): Promise<string> {
  const ort = await load();
  return `onnxruntime-node ${ort.env.versions?.node ?? '?'}, CPU EP, ${ortCpuOptions.threads} intra-op threads, 1 inter-op thread`;
}

async function prepare(l: Loaded): Promise<Prepared> {
  if (!l.onnx) throw new Error('onnxruntime reads ONNX only');
  const ort = await load();
  const s = await ort.InferenceSession.create(l.onnx, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: ortCpuOptions.threads,
    interOpNumThreads: 1,
  });
  const feeds: Record<string, InstanceType<OrtNode['Tensor']>> = {};
  for (const [k, v] of Object.entries(l.feeds)) feeds[k] = new ort.Tensor('float32', v.data, v.dims);
  return {
    async run() {
      const out = await s.run(feeds);
      const res = out[l.output];
      if (!res) throw new Error(`onnxruntime-node: no output ${l.output}`);
      // every output is taken off the session (as the GPU engines read all theirs back); a copy of the compared one
      const data = (res.data as Float32Array).slice();
      for (const t of Object.values(out)) t.dispose();
      return data;
    },
    dispose: () => s.release(),
  };
}

/** Registered by bench/peers/node.ts (registerEngine in engines.ts) when --engines names it. */
export const ortCpuEngine: Engine = {
  name: 'ort-cpu',
  async init() {
    await load();
  },
  prepare: (l) => prepare(l),
};
