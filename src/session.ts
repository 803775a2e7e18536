import { WgsegError } from './core/errors';
import { Runtime } from './gpu/runtime';
import type { GpuTensor } from './core/op';
import { Executor, type Feed, type NodeTiming } from './graph/executor';
import type { ConstData, ElemType } from './core/dtype';
import type { Dim, Graph } from './graph/ir';
import { optimize, splitWideWeights } from './graph/fusion-rules';
import { checkLimits, planMemory, type BufferLimits, type MemoryPlan } from './graph/plan';
import { hostData } from './core/dtype';
import { hostFedInputs, resolve, type Resolved } from './graph/shapes';
import type { Precision } from './core/dtype';
import { describeUnsupported, unsupportedNodes } from './graph/support';
import { checkFeeds } from './feeds';
import { chooseVariants, DEFAULT_BUDGET_MS, type TuneMode, type TuningCache, type TuningChoice } from './graph/tuning';
import type { Variant } from './core/op';
import { memoryTuningCache, openTuningCache, type StoredTuning } from './tuning-cache';
import { importOnnx } from './import/onnx';
import type { ExternalData } from './import/onnx-proto';
import { importTflite } from './import/tflite';
import { loadModelBytes } from './model-fetch';

/**
 * The public entry point (in the spirit of onnxruntime's InferenceSession): load a model, plan it
 * once its input shapes are known, run it on the GPU. Outputs stay on the GPU until read.
 */

export interface SessionOptions {
  /**
   * Float storage and arithmetic on the GPU. Default: 'f16' for a float16 model (most float weights
   * stored as float16) where the adapter has shader-f16, else 'f32' (a float16 model then computes in
   * f32, said in `session.notes`); an explicit 'f16' without shader-f16 is refused.
   */
  precision?: Precision;
  /** a device or runtime to share; by default the session makes (and later disposes) its own */
  device?: GPUDevice | Runtime;
  /** sizes for symbolic input dims; otherwise they bind on the first run */
  inputShapes?: Record<string, number[]>;
  /** time every node on each run (session.lastProfile); runs then submit more than once */
  profile?: boolean;
  /** load-time fusion (default true) */
  fuse?: boolean;
  /** name used in error messages when the model is given as bytes */
  source?: string;
  /** refuse NaN and +-Infinity in float inputs given as host data (default: allowed, and they propagate) */
  checkFinite?: boolean;
  /** largest single GPU buffer a plan may create, in bytes (default, and upper bound: the adapter's maxStorageBufferBindingSize) */
  maxBufferBytes?: number;
  /** largest total of a plan's GPU buffers (intermediates, inputs, constants, outputs), in bytes (default: unlimited) */
  maxTotalBytes?: number;
  /** WebGPU validation error scopes around every pipeline and dispatch (RuntimeOptions.debug); default env WGSEG_DEBUG=1 */
  debug?: boolean;
  /**
   * Kernel variant choice per node (src/graph/tuning.ts). 'cached' (default; env WGSEG_TUNE
   * overrides the default): the choice cached for this adapter, else the default variant, nothing
   * measured; 'auto': the cached choice, else measured within `tuneBudgetMs` and cached; 'full':
   * every candidate measured, cache ignored (and refreshed); 'off': the default variant everywhere.
   * `session.tuning` lists the choices; `wgseg tune model.onnx` fills the cache ahead of time.
   */
  tune?: TuneMode;
  /** most milliseconds 'auto' spends measuring per plan (default 2000) */
  tuneBudgetMs?: number;
  /**
   * Where choices persist: default the platform cache (Node: $WGSEG_TUNING_CACHE, else
   * $XDG_CACHE_HOME/wgseg/tuning.json; browser: IndexedDB); a path (Node), a TuningCache, or
   * false (measure, keep nothing).
   */
  tuningCache?: string | TuningCache | false;
  /** loading a model from a URL (or, in Node, a path): called with the bytes loaded so far and the total when the server says it */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** stops loading a model from a URL or path: Session.create then rejects with WgsegError('ABORTED') */
  signal?: AbortSignal;
  /**
   * Keep a model loaded from a URL in the browser's Cache Storage, keyed by the URL, and load it
   * from there next time: true = the cache 'wgseg-models', a string = a cache of that name; default
   * false. Never revalidated (version your model URLs); a no-op where Cache Storage is missing (Node).
   */
  cache?: boolean | string;
  /**
   * op -> kernel variant name, forced for every node of that op as it runs, after fusion (a Conv
   * followed by Relu runs as FusedConv); BAD_INPUT naming the node where it does not apply
   */
  variants?: Record<string, string>;
}

export interface ValueInfo {
  name: string;
  shape: Dim[];
  type: ElemType;
}

export type HostData =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | number[];
/** What `run` takes per input. */
export type TensorInput =
  | Tensor
  | { data: HostData; dims: number[] }
  | { buffer: GPUBuffer; dims: number[]; type: ElemType };

/** A tensor on the GPU. `read()` gives floats as Float32Array (also under f16), integers as Int32Array, bool as Uint8Array. */
export class Tensor {
  private disposed = false;
  constructor(
    private readonly rt: Runtime,
    readonly gpu: GpuTensor,
    readonly type: ElemType,
  ) {
    this.generation = rt.generation;
  }
  get shape(): number[] {
    return this.gpu.shape;
  }
  get buffer(): GPUBuffer {
    return this.gpu.buffer;
  }
  /** the runtime generation (device) the tensor's buffer belongs to */
  private readonly generation: number;
  async read(): Promise<Float32Array | Int32Array | Uint8Array> {
    if (this.disposed) throw new WgsegError('BAD_INPUT', 'read() of a disposed tensor');
    if (this.stale)
      throw new WgsegError(
        'DEVICE_LOST',
        `read() of a [${this.shape.join(',')}] tensor from a GPU device that was lost; its data is gone: run the session again for new outputs`,
      );
    const h = await this.rt.read(this.gpu);
    if (this.type === 'bool') return Uint8Array.from(h, (v) => (v ? 1 : 0));
    return h instanceof Uint32Array ? new Int32Array(h.buffer, h.byteOffset, h.length) : h;
  }
  /** true once the device this tensor lived on is lost (its data is gone) */
  get stale(): boolean {
    return this.rt.generation !== this.generation || this.rt.isLost;
  }
  /** true after dispose() (its buffer may already hold another tensor) */
  get isDisposed(): boolean {
    return this.disposed;
  }
  dispose(): void {
    if (!this.disposed && this.rt.generation === this.generation) this.rt.release(this.gpu);
    this.disposed = true;
  }
}

/** Bytes -> graph, by file format: TFLite ('TFL3' at byte 4) or ONNX; safetensors are recognised and refused. */
export function loadGraph(bytes: Uint8Array, source: string, external?: ExternalData): Graph {
  const tag = String.fromCharCode(...bytes.subarray(4, 8));
  if (tag === 'TFL3' || /\.tflite$/i.test(source)) return importTflite(bytes, source);
  if (bytes.length > 9 && bytes[8] === 0x7b && new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) === 0) {
    throw new WgsegError('UNSUPPORTED_OP', `${source}: safetensors files hold weights only; give an ONNX model`);
  }
  return importOnnx(bytes, source, external);
}

/** Most float weight elements are float16: the file was converted to float16 (onnxconverter-common, TFLite f16). */
function isFloat16Model(g: Graph): boolean {
  let half = 0,
    other = 0;
  for (const v of g.values.values()) {
    if (!v.data) continue;
    if (v.type === 'float16') half += v.data.length;
    else if (v.type === 'float32' || v.type === 'float64') other += v.data.length;
  }
  return half > other;
}

interface Planned {
  key: string;
  resolved: Resolved;
  plan: MemoryPlan;
  exec: Executor;
  variants: (Variant | undefined)[];
  tuning: TuningChoice[];
  /**
   * `exec` runs first-run variants (Variant.firstRun): the chosen ones' executor is made and swapped
   * in by the next run's prepare (made any earlier, its uploads and weight packing would queue ahead
   * of the first run's read-back); `upgrade` is that swap while it is under way.
   */
  firstRun: boolean;
  upgrade?: Promise<void>;
  /** a run has been submitted on this plan */
  ran?: boolean;
}

const TUNE_MODES: readonly TuneMode[] = ['cached', 'auto', 'full', 'off'];

/** The tune mode asked for: the option, else env WGSEG_TUNE, else 'cached'; BAD_INPUT naming a bad value. */
function tuneMode(opts: SessionOptions): TuneMode {
  const env = typeof process !== 'undefined' ? process.env?.WGSEG_TUNE : undefined;
  const m = opts.tune ?? (env || 'cached');
  if (!TUNE_MODES.includes(m as TuneMode))
    throw new WgsegError(
      'BAD_INPUT',
      `tune "${m}"${opts.tune ? '' : ' (env WGSEG_TUNE)'} is not one of ${TUNE_MODES.join(', ')}`,
    );
  return m as TuneMode;
}

async function tuningCacheOf(
  opts: SessionOptions,
  mode: TuneMode,
): Promise<(TuningCache & { save?(): Promise<void> }) | undefined> {
  const c = opts.tuningCache;
  if (mode === 'off') return undefined;
  if (c === false) return memoryTuningCache();
  if (typeof c === 'string') return openTuningCache(c);
  if (c !== undefined) return c;
  // the platform cache, opened once per page or process (per WGSEG_TUNING_CACHE in Node): opening
  // IndexedDB costs tens of ms of every session's cold start otherwise
  const key = typeof process !== 'undefined' ? (process.env?.WGSEG_TUNING_CACHE ?? '') : '';
  let open = platformCaches.get(key);
  if (!open) platformCaches.set(key, (open = openTuningCache()));
  return open;
}

const platformCaches = new Map<string, Promise<StoredTuning>>();

export class Session {
  private planned: Planned | null = null;
  private disposed = false;
  /** per-node times of the last run (with `profile: true`) */
  lastProfile: NodeTiming[] | undefined;
  /** inputs read on the host at plan time (Clip bounds, AffineGrid size...): a new value plans again */
  private readonly hostFed: Set<string>;

  private constructor(
    readonly graph: Graph,
    readonly rt: Runtime,
    private readonly ownsRuntime: boolean,
    private readonly opts: SessionOptions,
    /** what the session decided on its own that changes numbers (a float16 model computed in f32) */
    readonly notes: readonly string[] = [],
  ) {
    this.hostFed = hostFedInputs(graph);
  }

  static async create(model: Uint8Array | ArrayBuffer | string | Graph, opts: SessionOptions = {}): Promise<Session> {
    let graph: Graph;
    if (typeof model === 'string') {
      graph = await loadModelBytes(model, opts, (bytes, external) => loadGraph(bytes, model, external));
    } else if (model instanceof Uint8Array || model instanceof ArrayBuffer)
      graph = loadGraph(model instanceof Uint8Array ? model : new Uint8Array(model), opts.source ?? 'model');
    else graph = model;
    if (opts.precision && opts.precision !== 'f32' && opts.precision !== 'f16')
      throw new WgsegError('BAD_INPUT', `precision "${opts.precision}" is not f32 or f16`);
    tuneMode(opts);
    if (opts.tuneBudgetMs !== undefined && !(typeof opts.tuneBudgetMs === 'number' && opts.tuneBudgetMs >= 0))
      throw new WgsegError(
        'BAD_INPUT',
        `tuneBudgetMs must be a number of milliseconds >= 0, got ${String(opts.tuneBudgetMs)}`,
      );
    for (const k of ['maxBufferBytes', 'maxTotalBytes'] as const) {
      const v = opts[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0))
        throw new WgsegError('BAD_INPUT', `${k} must be a positive number of bytes, got ${String(v)}`);
    }
    if (unsupportedNodes(graph).length)
      throw new WgsegError('UNSUPPORTED_OP', `${graph.source}: unsupported ops: ${describeUnsupported(graph)}`);
    const d = opts.device;
    const rt =
      d instanceof Runtime
        ? d
        : d
          ? new Runtime(d, { debug: opts.debug })
          : await Runtime.create({ debug: opts.debug });
    const notes: string[] = [];
    let precision = opts.precision;
    if (!precision && isFloat16Model(graph)) {
      precision = rt.info.f16 ? 'f16' : 'f32';
      notes.push(
        rt.info.f16
          ? `${graph.source}: float16 model: computed in f16 (shader-f16)`
          : `${graph.source}: float16 model computed in f32: this adapter lacks shader-f16`,
      );
    }
    const s = new Session(graph, rt, !(d instanceof Runtime), { ...opts, precision }, notes);
    try {
      if (s.precision === 'f16' && !rt.info.f16)
        throw new WgsegError(
          'UNSUPPORTED_DTYPE',
          `${graph.source}: precision f16 needs shader-f16, which this adapter lacks`,
        );
      const shapes = s.declaredShapes();
      if (shapes) await s.prepare(shapes);
    } catch (e) {
      s.dispose();
      throw e;
    }
    return s;
  }

  get precision(): Precision {
    return this.opts.precision ?? 'f32';
  }

  /** Buffer limits of a plan: the adapter's binding size, lowered by maxBufferBytes; maxTotalBytes for the sum. */
  private limits(): BufferLimits {
    const l = this.rt.device.limits;
    const adapter = Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize);
    const own = this.opts.maxBufferBytes;
    const mine = own !== undefined && own < adapter;
    return {
      maxBufferBytes: mine ? own! : adapter,
      bufferLimit: mine ? 'SessionOptions.maxBufferBytes' : "the adapter's maxStorageBufferBindingSize",
      maxTotalBytes: this.opts.maxTotalBytes ?? Infinity,
      totalLimit: 'SessionOptions.maxTotalBytes',
    };
  }

  /** Input shapes when every dim is known without a run (numeric, or given in inputShapes). */
  private declaredShapes(): Record<string, number[]> | null {
    if (this.hostFed.size) return null;
    const out: Record<string, number[]> = {};
    for (const name of this.graph.inputs) {
      const given = this.opts.inputShapes?.[name];
      const dims = this.graph.values.get(name)?.shape;
      if (given) out[name] = given;
      else if (dims?.every((x) => typeof x === 'number')) out[name] = dims as number[];
      else return null;
    }
    return out;
  }

  private async prepare(shapes: Record<string, number[]>, pinned = new Map<string, ConstData>()): Promise<Planned> {
    const key = JSON.stringify([
      this.graph.inputs.map((n) => shapes[n]),
      [...pinned].map(([n, d]) => [n, Array.from(d)]),
    ]);
    const same = this.planned?.key === key ? this.planned : null;
    if (same && same.exec.generation === this.rt.generation) {
      if (same.firstRun && same.ran) await this.upgrade(same);
      return same;
    }
    const resolved =
      same?.resolved ??
      splitWideWeights(
        optimize(resolve(this.graph, shapes, this.precision, pinned), { fuse: this.opts.fuse }),
        this.limits().maxBufferBytes,
      );
    const plan = same?.plan ?? planMemory(resolved.graph, resolved.gpu);
    checkLimits(resolved.graph, resolved.gpu, plan, this.limits()); // before any buffer is created
    // after a device loss (same plan, new generation): buffers and constants again on the new device
    this.planned?.exec.dispose();
    this.planned = null;
    // after a loss the plan's own choices again, without first-run kernels
    const { variants, tuning, firstRun } = same ? { ...same, firstRun: undefined } : await this.tune(resolved);
    const exec = await Executor.create(this.rt, resolved, plan, firstRun ?? variants);
    this.planned = { key, resolved, plan, exec, variants, tuning, firstRun: !!firstRun };
    return this.planned;
  }

  /**
   * The second run of a plan made with first-run variants: make the chosen ones' executor and swap
   * it in (concurrent runs share the one made). The first-run executor goes once the queue has
   * done what was submitted with it. Out of memory making it: the first-run kernels stay.
   */
  private async upgrade(p: Planned): Promise<void> {
    p.upgrade ??= Executor.create(this.rt, p.resolved, p.plan, p.variants).then(
      (next) => {
        if (this.disposed || this.planned !== p) return next.dispose();
        const old = p.exec;
        p.exec = next;
        p.firstRun = false;
        p.upgrade = undefined;
        void this.rt.device.queue.onSubmittedWorkDone().finally(() => old.dispose());
      },
      (e) => {
        p.upgrade = undefined;
        p.firstRun = false;
        if (!(e instanceof WgsegError && e.code === 'OUT_OF_MEMORY')) throw e;
      },
    );
    await p.upgrade;
  }

  /**
   * Host milliseconds the last run spent recording its nodes, and whether it replayed the commands
   * captured by the first run of this plan (pipelines, bind groups and uniforms made once; a run
   * whose GPU-buffer inputs come in other buffers records afresh).
   */
  get lastEncode(): { ms: number; replayed: boolean } | undefined {
    return this.planned ? { ...this.planned.exec.lastEncode } : undefined;
  }

  /** Kernel variants for the plan's nodes: forced, cached, measured or default (SessionOptions.tune). */
  private async tune(
    resolved: Resolved,
  ): Promise<{ variants: (Variant | undefined)[]; tuning: TuningChoice[]; firstRun?: (Variant | undefined)[] }> {
    const mode = tuneMode(this.opts);
    const cache = await tuningCacheOf(this.opts, mode);
    const { variants, choices, firstRun } = await chooseVariants(this.rt, resolved, {
      mode,
      budgetMs: this.opts.tuneBudgetMs ?? DEFAULT_BUDGET_MS,
      cache,
      force: this.opts.variants,
    });
    if (choices.some((c) => c.source === 'measured')) await cache?.save?.();
    return { variants, tuning: choices, firstRun };
  }

  /**
   * The kernel variant of every node that has a choice (ops with several kernels), with the
   * candidates, their best measured ms, and where the choice came from ('forced', 'cache',
   * 'measured', 'default', or 'budget': not measured, the budget was spent). Empty until planned.
   */
  get tuning(): TuningChoice[] {
    return this.planned?.tuning ?? [];
  }

  get inputs(): ValueInfo[] {
    return this.graph.inputs.map((name) => {
      const v = (this.planned?.resolved.graph ?? this.graph).values.get(name)!;
      return { name, shape: [...(this.graph.values.get(name)?.shape ?? v.shape ?? [])], type: v.type };
    });
  }

  /** Output shapes and types are known once planned (after create for static graphs, else after the first run). */
  get outputs(): ValueInfo[] {
    return this.graph.outputs.map((name) => {
      const v = (this.planned?.resolved.graph ?? this.graph).values.get(name);
      return { name, shape: [...(v?.shape ?? [])], type: v?.type ?? 'float32' };
    });
  }

  /** Planned bytes of the intermediate buffers (undefined until planned). */
  get plannedPeakBytes(): number | undefined {
    return this.planned?.plan.peakBytes;
  }

  /** Bytes of the plan's constants on the GPU (weights as the kernels keep them; undefined until planned). */
  get plannedConstantBytes(): number | undefined {
    return this.planned?.exec.constBytes;
  }

  /** Sum of every intermediate value's size: what the plan would need without reuse. */
  get plannedSumBytes(): number | undefined {
    return this.planned?.plan.sumBytes;
  }

  /** The optimised graph that runs (after folding and fusion); undefined until planned. */
  get optimizedGraph(): Graph | undefined {
    return this.planned?.resolved.graph;
  }

  /**
   * Run once. A device lost during the run rejects it with WgsegError('DEVICE_LOST'); the next run
   * recreates the device, pipelines and weights (from the graph's host copies) first, unless the
   * device was the caller's (then every run rejects: make a new device and session).
   */
  async run(feeds: Record<string, TensorInput>): Promise<Record<string, Tensor>> {
    if (this.disposed) throw new WgsegError('BAD_INPUT', `${this.graph.source}: session disposed`);
    await this.rt.recover();
    const src = this.graph.source;
    const names = this.graph.inputs;
    // every input checked (names, kind, dims, type, length, range) and converted before the GPU is touched
    const checked = checkFeeds(this.graph, feeds, this.precision, this.opts, (f) =>
      f instanceof Tensor ? { tensor: f.gpu, disposed: f.isDisposed } : undefined,
    );
    for (const n of names) {
      const f = feeds[n];
      if (f instanceof Tensor && f.stale)
        throw new WgsegError(
          'DEVICE_LOST',
          `${src}: input ${n} is a tensor from a GPU device that was lost; give its data again`,
        );
    }
    const shapes = checked.shapes;
    const pinned = new Map<string, ConstData>();
    for (const n of this.hostFed)
      pinned.set(n, await hostValue(feeds[n], this.graph.values.get(n)!.type, `${src}: input ${n}`));
    let p = await this.prepare(shapes, pinned);
    if (this.rt.isLost && this.rt.canRecover) {
      // lost before this run submitted anything (e.g. destroyed just before the call): recover now
      await this.rt.recover();
      p = await this.prepare(shapes, pinned);
    }
    const g = p.resolved.graph;
    const converted = new Map<string, Feed>();
    for (const n of names) if (!pinned.has(n)) converted.set(n, checked.feeds.get(n)!);
    let out: Map<string, GpuTensor>;
    if (this.opts.profile) {
      const r = await p.exec.profile(converted);
      out = r.outputs;
      this.lastProfile = r.nodes;
    } else out = await p.exec.run(converted);
    p.ran = true;
    const result: Record<string, Tensor> = {};
    for (const [name, t] of out) result[name] = new Tensor(this.rt, t, g.values.get(name)!.type);
    return result;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.planned?.exec.dispose();
    this.planned = null;
    if (this.ownsRuntime) this.rt.dispose();
  }
}

/** An input the plan reads on the host (small: sizes, bounds): its values, in the input's type. */
async function hostValue(f: TensorInput, type: ElemType, where: string): Promise<ConstData> {
  if ('buffer' in f && !(f instanceof Tensor))
    throw new WgsegError('BAD_INPUT', `${where}: is read on the host at plan time; give it as data, not a GPUBuffer`);
  const data = f instanceof Tensor ? await f.read() : f.data;
  return hostData(type, Array.from(data as ArrayLike<number | bigint>, Number));
}
