// Engine adapters of the peer benchmark: wgseg (Session), onnxruntime-web's WebGPU EP, TFJS webgpu,
// and onnxruntime-web on the CPU (wasm) as the reference. All share one GPUDevice. No node: imports.
import { Session, type NodeTiming, type TuningChoice } from '../../src/index';
import type { Engine, EngineName, Loaded, Prepared } from './models';

const f32 = (d: ArrayLike<number>) => (d instanceof Float32Array ? d : Float32Array.from(d));

/** wgseg's session options in the bench: `variants` forces kernels (node.ts --variants Op=name,...) */
export const wgsegOptions: { variants?: Record<string, string> } = {};

export const wgseg: Engine = {
  name: 'wgseg',
  async prepare(l, device) {
    const s = await Session.create((l.onnx ?? l.tflite)!, { device, source: l.output, ...wgsegOptions });
    return {
      async run() {
        const out = await s.run(l.feeds);
        let res: Float32Array | undefined;
        // every output is read back, as onnxruntime does
        for (const [name, t] of Object.entries(out)) {
          const d = await t.read();
          if (name === l.output) res = f32(d);
          t.dispose();
        }
        if (!res) throw new Error(`wgseg: no output ${l.output}`);
        return res;
      },
      dispose: () => s.dispose(),
      note: () => kernelNote(s.tuning),
    };
  },
};

/** wgseg's kernel choices in a few words: "kernels: FusedConv gemm-subgroup x12 (cache), ..." by op, variant and source. */
export function kernelNote(tuning: TuningChoice[]): string | undefined {
  const counts = new Map<string, number>();
  for (const c of tuning) {
    if (c.candidates.length < 2) continue;
    const k = `${c.op} ${c.choice} (${c.source}${c.firstRun ? `, first run ${c.firstRun}` : ''})`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  if (!counts.size) return undefined;
  return `kernels: ${[...counts].map(([k, n]) => (n > 1 ? k.replace(' (', ` x${n} (`) : k)).join(', ')}`;
}

/** One profiled wgseg run (after a warm-up): per-node times from timestamp queries (or wall time). */
export async function profileWgseg(l: Loaded, device: GPUDevice): Promise<NodeTiming[]> {
  const s = await Session.create((l.onnx ?? l.tflite)!, { device, source: l.output, profile: true });
  try {
    for (let i = 0; i < 2; i++) for (const t of Object.values(await s.run(l.feeds))) t.dispose();
    return s.lastProfile ?? [];
  } finally {
    s.dispose();
  }
}

/**
 * wgseg's cold start taken apart: Session.create, then the first run under the profiler, whose
 * per-node times include what the driver does at a pipeline's first dispatch (lavapipe compiles
 * its shader variants there, not in createComputePipeline).
 */
export async function coldProfileWgseg(
  l: Loaded,
  device: GPUDevice,
): Promise<{ createMs: number; firstRunMs: number; nodes: NodeTiming[] }> {
  const t0 = performance.now();
  const s = await Session.create((l.onnx ?? l.tflite)!, { device, source: l.output, profile: true });
  const t1 = performance.now();
  try {
    for (const t of Object.values(await s.run(l.feeds))) t.dispose();
    return { createMs: t1 - t0, firstRunMs: performance.now() - t1, nodes: s.lastProfile ?? [] };
  } finally {
    s.dispose();
  }
}

type Ort = typeof import('onnxruntime-web/webgpu');
let ortModule: Promise<Ort> | null = null;
/** onnxruntime-web's WebGPU build (its wasm EP is the CPU reference); 1 wasm thread. */
export function loadOrt(): Promise<Ort> {
  return (ortModule ??= import('onnxruntime-web/webgpu').then((ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    return ort;
  }));
}

/** onnxruntime's WebGPU EP options: its fastest settings (validation of WebGPU calls only; conv layout see ortLayout). */
export const ortOptions = { layout: 'NHWC' as 'NHWC' | 'NCHW' };

async function ortPrepare(l: Loaded, ep: 'webgpu' | 'wasm'): Promise<Prepared> {
  const ort = await loadOrt();
  const provider =
    ep === 'wasm'
      ? 'wasm'
      : { name: 'webgpu' as const, preferredLayout: ortOptions.layout, validationMode: 'wgpuOnly' as const };
  const s = await ort.InferenceSession.create(l.onnx!, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
  });
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const [k, v] of Object.entries(l.feeds)) feeds[k] = new ort.Tensor('float32', v.data, v.dims);
  return {
    async run() {
      const out = await s.run(feeds);
      const res = out[l.output];
      if (!res) throw new Error(`onnxruntime: no output ${l.output}`);
      const data = f32((await res.getData()) as Float32Array).slice();
      for (const t of Object.values(out)) t.dispose();
      return data;
    },
    dispose: () => s.release(),
  };
}

let ortDevice: GPUDevice | null = null;
export const ortWebgpu: Engine = {
  name: 'ort-webgpu',
  async init(device) {
    const ort = await loadOrt();
    // the same device (and adapter) as wgseg; read by ORT when its first WebGPU session starts
    if (ortDevice && ortDevice !== device) throw new Error('onnxruntime-web already runs on another GPUDevice');
    ortDevice = device;
    (ort.env.webgpu as { device: unknown }).device = device;
  },
  prepare: (l) => ortPrepare(l, 'webgpu'),
};

/** The reference output: onnxruntime-web on the CPU (wasm EP, 1 thread, all graph optimisations). */
export async function ortCpu(l: Loaded): Promise<Float32Array> {
  const p = await ortPrepare(l, 'wasm');
  try {
    return await p.run();
  } finally {
    await p.dispose();
  }
}

export const tfjsWebgpu: Engine = {
  name: 'tfjs-webgpu',
  async init(device) {
    const { initTfjs } = await import('./tfjs');
    await initTfjs(device);
  },
  async prepare(l) {
    const { tfjsPrepare } = await import('./tfjs');
    return tfjsPrepare(l);
  },
};

/** The engines by name; Node adds ort-cpu (bench/peers/ort-cpu.ts, a native addon) with registerEngine. */
export const ENGINE_ADAPTERS: Partial<Record<EngineName, Engine>> = {
  wgseg,
  'ort-webgpu': ortWebgpu,
  'tfjs-webgpu': tfjsWebgpu,
};

export function registerEngine(e: Engine): void {
  ENGINE_ADAPTERS[e.name] = e;
}
