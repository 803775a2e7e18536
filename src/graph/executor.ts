import { WgsegError } from '../core/errors';
import { BufferPool } from '../gpu/buffer-pool';
import type { Timing } from '../gpu/profiler';
import type { Capture } from '../gpu/capture';
import type { Runtime } from '../gpu/runtime';
import { BYTES, DTYPE_ONNX, encodeHost, numel, type DType } from '../core/dtype';
import type { GpuTensor } from '../core/op';
import { castOp, kernelFor } from '../kernels/registry';
import type { HostValues, OpKernel, Packed, Variant } from '../core/op';
import { nodeWhere, type Node } from './ir';
import type { MemoryPlan } from './plan';
import { hostValues, type Resolved } from './shapes';

/**
 * Runs a resolved, planned graph: constants are uploaded once (here), each run writes the inputs,
 * records every node's dispatches into the planned buffers, copies the graph outputs into fresh
 * buffers the caller owns and submits once. Nothing is read back between nodes.
 */

/** A graph input for one run: host data (converted to the GPU dtype) or a GPU tensor. */
export type Feed = { data: ArrayLike<number> } | { gpu: GpuTensor };

export interface NodeTiming {
  node: string;
  op: string;
  ms: number;
  dispatches: Timing[];
}

interface Step {
  node: Node;
  kernel: OpKernel;
  /** what runs: the chosen variant (src/graph/tuning.ts), else the record itself */
  impl: Pick<OpKernel, 'prepack' | 'encode'>;
  host: HostValues;
  /** GPU inputs by position (undefined: omitted or read on the host) */
  inputs: (string | undefined)[];
  /** inputs by position that the kernel prepacked at load: their key in `constants` */
  packed: (string | undefined)[];
}

const INT32_MIN = -(2 ** 31),
  INT32_MAX = 2 ** 31 - 1;

export class Executor {
  private readonly steps: Step[];
  private readonly slots: GPUBuffer[] = [];
  private readonly constants = new Map<string, GpuTensor>();
  private disposed = false;

  /** the runtime generation (device) the buffers were made on */
  readonly generation: number;
  /** bytes of the constants on the GPU (weights as the kernels keep them: 8-bit quantized weights packed four to a word) */
  constBytes = 0;

  private constructor(
    readonly rt: Runtime,
    readonly r: Resolved,
    readonly plan: MemoryPlan,
    variants: readonly (Variant | undefined)[],
  ) {
    const g = r.graph;
    this.generation = rt.generation;
    this.steps = g.nodes.map((node, i) => {
      const kernel = kernelFor(node.op);
      const host = hostValues(g, node, kernel);
      const inputs = node.inputs.map((x, i) => (x && !kernel.hostInputs?.includes(i) ? x : undefined));
      return { node, kernel, impl: variants[i] ?? kernel, host, inputs, packed: [] };
    });
  }

  /**
   * Plan buffers and constants on the GPU (constants come from the graph's host copies, so a new
   * device after a loss gets them again); out-of-memory is retried once after flushing the pool.
   */
  static async create(
    rt: Runtime,
    r: Resolved,
    plan: MemoryPlan,
    variants: readonly (Variant | undefined)[] = [],
  ): Promise<Executor> {
    const ex = new Executor(rt, r, plan, variants);
    const g = r.graph;
    const packs = ex.prepack();
    const unpacked = ex.steps.flatMap((s) => s.inputs.filter((_, i) => !s.packed[i]));
    const onGpu = [...new Set([...unpacked, ...g.outputs])].filter((n): n is string => !!n && !!g.values.get(n)?.data);
    const constBytes =
      onGpu.reduce((a, n) => a + numel(g.values.get(n)!.shape as number[]) * BYTES[r.gpu.get(n)!], 0) +
      [...packs.values()].reduce((a, p) => a + p.data.length * BYTES[p.dtype], 0);
    ex.constBytes = constBytes;
    const slotBytes = plan.slots.reduce((a, b) => a + b, 0);
    const what = `${g.source}: the plan's buffers (${plan.slots.length} intermediates, ${slotBytes} bytes; ${onGpu.length + packs.size} constants, ${constBytes} bytes)`;
    await rt.allocate(
      what,
      slotBytes + constBytes,
      () => {
        try {
          for (const bytes of plan.slots) ex.slots.push(rt.createBuffer(bytes, BufferPool.STORAGE));
          for (const name of onGpu) {
            const v = g.values.get(name)!;
            ex.constants.set(name, ex.upload(name, v.type, v.data!, v.shape as number[], r.gpu.get(name)!));
          }
          // shape and dtype stay the logical ones (what the kernel checks); the buffer holds p.dtype
          for (const [key, p] of packs)
            ex.constants.set(key, {
              ...ex.upload(key, 'float32', p.data, p.shape, p.dtype),
              dtype: p.logical,
              packed: p.key,
            });
        } catch (e) {
          ex.release();
          throw e;
        }
      },
      () => ex.release(),
    );
    return ex;
  }

  /** Constant inputs the kernels rearrange on the host (OpKernel.prepack), keyed by step and input. */
  private prepack(): Map<string, Packed & { shape: number[]; logical: DType }> {
    const g = this.r.graph;
    const packs = new Map<string, Packed & { shape: number[]; logical: DType }>();
    this.steps.forEach((s, si) => {
      if (!s.impl.prepack) return;
      const infos = s.node.inputs.map((n) =>
        n ? { shape: g.values.get(n)!.shape as number[], dtype: this.r.gpu.get(n)! } : undefined,
      );
      s.inputs.forEach((name, i) => {
        const v = name ? g.values.get(name) : undefined;
        if (!v?.data) return;
        let p: Packed | undefined;
        try {
          p = s.impl.prepack!(this.rt, i, v.data, infos, s.node.attrs);
        } catch (e) {
          if (e instanceof WgsegError) throw new WgsegError(e.code, `${nodeWhere(g, s.node)}: ${e.message}`);
          throw e;
        }
        if (!p) return;
        const key = `\0packed ${si}:${i}`; // not a value name
        packs.set(key, { ...p, shape: infos[i]!.shape, logical: infos[i]!.dtype });
        s.packed[i] = key;
      });
    });
    return packs;
  }

  private upload(name: string, type: string, data: ArrayLike<number>, shape: number[], dtype: DType): GpuTensor {
    if (dtype === 'i32') {
      const bad = Array.prototype.findIndex.call(data, (x: number) => x < INT32_MIN || x > INT32_MAX);
      if (bad >= 0)
        throw new WgsegError(
          'UNSUPPORTED_DTYPE',
          `${this.r.graph.source}: constant ${name} (${type}) holds ${data[bad]} at ${bad}, outside the GPU's int32 range`,
        );
    }
    const bytes = encodeHost(data, dtype);
    const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
    const buffer = this.rt.createBuffer(size, BufferPool.STORAGE);
    this.rt.device.queue.writeBuffer(buffer, 0, bytes, 0, Math.ceil(bytes.byteLength / 4) * 4);
    return { buffer, shape: [...shape], dtype };
  }

  private slotTensor(name: string): GpuTensor {
    const slot = this.plan.slotOf.get(name);
    if (slot === undefined)
      throw new WgsegError('BAD_INPUT', `${this.r.graph.source}: value ${name} has no planned buffer`);
    return {
      buffer: this.slots[slot],
      shape: this.r.graph.values.get(name)!.shape as number[],
      dtype: this.r.gpu.get(name)!,
    };
  }

  /**
   * Write/bind the inputs, record every node and the output copies. Returns the output tensors.
   * The nodes' commands are captured by the first run and replayed by the next ones (not when
   * profiling: `marks`, nor in debug mode: Runtime.capture).
   */
  private record(feeds: Map<string, Feed>, marks?: number[]): Map<string, GpuTensor> {
    const { rt } = this;
    const g = this.r.graph;
    const live = new Map<string, GpuTensor>(this.constants);
    let uncapturable = !!marks;
    for (const name of g.inputs) {
      if (g.values.get(name)!.data) continue; // pinned: a constant of this plan
      const f = feeds.get(name);
      const slot = this.slotTensor(name);
      if (!f) throw new WgsegError('BAD_INPUT', `${g.source}: input ${name} not given`);
      if ('data' in f) {
        const bytes = encodeHost(f.data, slot.dtype);
        rt.device.queue.writeBuffer(slot.buffer, 0, bytes, 0, Math.ceil(bytes.byteLength / 4) * 4);
        live.set(name, slot);
      } else if (f.gpu.dtype === slot.dtype) {
        // copied into the input's own buffer (one GPU copy), so that the captured commands bind
        // only this plan's buffers whatever buffer the caller hands in next time
        const bytes = Math.ceil((numel(slot.shape) * BYTES[slot.dtype]) / 4) * 4;
        if (f.gpu.buffer.size >= bytes && f.gpu.buffer.usage & GPUBufferUsage.COPY_SRC) {
          if (bytes > 0) rt.copy(f.gpu.buffer, slot.buffer, bytes);
          live.set(name, slot);
        } else {
          // a buffer without COPY_SRC usage, or not padded to 4 bytes: bound as is, this run not captured
          live.set(name, { ...f.gpu, shape: slot.shape });
          uncapturable = true;
        }
      } else {
        castOp.encode(rt, [f.gpu], [slot], { to: DTYPE_ONNX[slot.dtype] }, []);
        live.set(name, slot);
      }
    }
    const t0 = performance.now();
    this.lastEncode.replayed = false;
    if (uncapturable) this.bind(live, true, marks);
    else if (this.captured) {
      this.lastEncode.replayed = true;
      this.bind(live);
      rt.replay(this.captured);
    } else this.captured = rt.capture(() => this.bind(live, true));
    this.lastEncode.ms = performance.now() - t0;
    const result = new Map<string, GpuTensor>();
    for (const name of g.outputs) {
      const src = live.get(name)!;
      const bytes = numel(src.shape) * BYTES[src.dtype];
      const dst = { buffer: rt.pool.acquire(Math.max(16, bytes)), shape: [...src.shape], dtype: src.dtype };
      if (bytes > 0) rt.copy(src.buffer, dst.buffer, bytes);
      result.set(name, dst);
    }
    return result;
  }

  /** Host time of the last run's node recording (ms), and whether it replayed the captured commands. */
  readonly lastEncode = { ms: 0, replayed: false };

  /** The nodes' commands as the first run recorded them, replayed by the next runs (Runtime.capture). */
  private captured: Capture | null = null;

  private dropCapture(): void {
    this.captured?.dispose();
    this.captured = null;
  }

  /** Every node's input and output tensors into `live`; with `encode`, record the nodes' dispatches too. */
  private bind(live: Map<string, GpuTensor>, encode = false, marks?: number[]): void {
    const { rt } = this;
    const g = this.r.graph;
    for (const s of this.steps) {
      marks?.push(rt.dispatches);
      const ins = s.inputs.map((x, i) =>
        s.packed[i] ? this.constants.get(s.packed[i]!) : x ? live.get(x) : undefined,
      );
      const outs = s.node.outputs.map((o) =>
        o ? (s.kernel.view ? { ...this.slotTensor(o), buffer: ins[0]!.buffer } : this.slotTensor(o)) : undefined,
      );
      outs.forEach((t, i) => t && live.set(s.node.outputs[i], t));
      if (!encode || s.kernel.view || outs.every((t) => !t || numel(t.shape) === 0)) continue;
      rt.context = nodeWhere(g, s.node);
      try {
        s.impl.encode(rt, ins, outs as GpuTensor[], s.node.attrs, s.host);
      } catch (e) {
        if (e instanceof WgsegError && e.code !== 'DEVICE_LOST')
          throw new WgsegError(e.code, `${nodeWhere(g, s.node)}: ${e.message}`);
        throw e;
      } finally {
        rt.context = '';
      }
    }
    marks?.push(rt.dispatches);
  }

  /**
   * One inference: one submit. The outputs' allocation is checked for out-of-memory (flush the pool,
   * record again, once); a device lost before the queue took the work rejects with DEVICE_LOST.
   */
  async run(feeds: Map<string, Feed>): Promise<Map<string, GpuTensor>> {
    this.usable();
    const { rt } = this;
    const g = this.r.graph;
    const outBytes = g.outputs.reduce(
      (a, n) => a + numel(g.values.get(n)!.shape as number[]) * BYTES[this.r.gpu.get(n)!],
      0,
    );
    const what = `${g.source}: a run (outputs ${outBytes} bytes, planned intermediates ${this.plan.peakBytes} bytes already held)`;
    // the validation scope opens and closes in the same task as the recording: error scopes are one
    // stack per device, so a scope held across an await would catch a concurrent run's errors (two
    // views sharing a session) and hand this run's errors to the other
    const scopes: Promise<GPUError | null>[] = [];
    let out: Map<string, GpuTensor> | undefined;
    try {
      out = await rt.allocate(
        what,
        outBytes,
        () => {
          const dev = rt.device;
          dev.pushErrorScope('validation');
          try {
            return this.record(feeds);
          } finally {
            rt.submit(); // what was recorded, also by a record that failed half-way
            scopes.push(dev.popErrorScope());
          }
        },
        (o) => {
          rt.release(...o.values());
          this.dropCapture(); // it may bind a buffer the device could not make
        },
      );
    } finally {
      const err = (await Promise.all(scopes)).find((e) => e);
      const lost = rt.isLost;
      if (out && (err || lost)) rt.release(...out.values());
      if (lost) throw rt.lostError(`during a run of ${g.source}`);
      if (err) throw new WgsegError('GPU_VALIDATION', `${g.source}: ${err.message}`);
    }
    try {
      await rt.checkErrors();
    } catch (e) {
      rt.release(...out.values());
      throw e;
    }
    return out;
  }

  /** Throws when disposed or made on a device that has been replaced since. */
  private usable(): void {
    if (this.disposed) throw new WgsegError('BAD_INPUT', `${this.r.graph.source}: session disposed`);
    if (this.rt.isLost) throw this.rt.lostError(`before a run of ${this.r.graph.source}`);
    if (this.generation !== this.rt.generation)
      throw new WgsegError(
        'DEVICE_LOST',
        `${this.r.graph.source}: this plan was made on a GPU device that has since been replaced`,
      );
  }

  /** One inference under the profiler: per-node GPU (or wall) times. Submits more than once. */
  async profile(feeds: Map<string, Feed>): Promise<{ outputs: Map<string, GpuTensor>; nodes: NodeTiming[] }> {
    this.usable();
    const marks: number[] = [];
    let outputs = new Map<string, GpuTensor>();
    const first = this.rt.dispatches;
    const timings = await this.rt.profile(() => void (outputs = this.record(feeds, marks)));
    if (this.rt.isLost) throw this.rt.lostError(`during a profiled run of ${this.r.graph.source}`);
    const nodes = this.steps.map((s, i) => {
      const ds = timings.slice(marks[i] - first, marks[i + 1] - first);
      return { node: s.node.name, op: s.node.op, ms: ds.reduce((a, t) => a + t.ms, 0), dispatches: ds };
    });
    return { outputs, nodes };
  }

  private release(): void {
    for (const b of this.slots) this.rt.destroyBuffer(b);
    for (const t of this.constants.values()) this.rt.destroyBuffer(t.buffer);
    this.slots.length = 0;
    this.constants.clear();
  }

  dispose(): void {
    this.disposed = true;
    this.dropCapture();
    this.release();
  }
}
