import type { Program } from '../core/op';
import { WgsegError } from '../core/errors';
import { BufferPool } from './buffer-pool';
import { deviceInfo, deviceLostReason, getDevice, type GetDeviceOptions } from './device';
import type { DeviceInfo } from '../core/op';
import { DebugScopes, debugFromEnv } from './debug-scopes';
import { Capture } from './capture';
import { createTracked, destroyTracked, gpuMemory } from './memory';
import { PipelineCache, type CachedPipeline } from './pipeline-cache';
import { Profiler, type Timing } from './profiler';
import { packUniforms } from './shader-source';
import { BYTES, decodeHost, encodeHost, numel, type DType, type HostArray } from '../core/dtype';
import type { GpuTensor } from '../core/op';

const UNIFORM_CHUNK = 64 * 1024;

export interface RuntimeOptions {
  /**
   * Wrap pipeline creation and each dispatch in a WebGPU validation error scope; errors surface as
   * WgsegError('GPU_VALIDATION') naming the kernel, its shapes and buffers (at the next submit
   * check: Session.run, Runtime.sync/read). Slower: one command buffer per dispatch. Default: env WGSEG_DEBUG=1.
   */
  debug?: boolean;
}

/**
 * The GPU side of the engine: device, buffer pool, pipeline cache and the command encoder that
 * collects dispatches until `submit()`. Kernels only ever call `dispatch` and the pool.
 *
 * After a device loss, `recover()` moves a runtime made by `Runtime.create()` onto a new device
 * (new pool, the new device's pipeline cache; `generation` counts the moves). A runtime built on a
 * caller's GPUDevice cannot: the caller owns that device.
 */
export class Runtime {
  private _device: GPUDevice;
  private _pool: BufferPool;
  private _pipelines: PipelineCache;
  private _info: DeviceInfo;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** debug mode: command buffers finished per dispatch, submitted in order at submit() */
  private finished: GPUCommandBuffer[] = [];
  private uniformChunks: { buffer: GPUBuffer; data: Uint8Array<ArrayBuffer>; used: number }[] = [];
  private profiler: Profiler | null = null;
  /** the capture being recorded (see `capture`) */
  private capturing: Capture | null = null;
  /** options to get a new device with after a loss; null: the device was the caller's */
  private deviceOptions: GetDeviceOptions | null = null;
  private recovering: Promise<void> | null = null;
  private readonly scopes: DebugScopes | null;
  /** bumped by each recover(): tensors and plans made before belong to a lost device */
  generation = 0;
  /** what the executor is recording (node and op), named by debug-mode errors */
  context = '';
  /** test hook: the next `outOfMemory` checked allocations fail as if the device ran out of memory */
  readonly faults = { outOfMemory: 0 };
  /** command buffers submitted so far (the executor's one-submit-per-inference check reads it) */
  submits = 0;
  /** dispatches recorded so far (the executor maps profile timings back to nodes with it) */
  dispatches = 0;

  constructor(device: GPUDevice, opts: RuntimeOptions = {}) {
    this._device = device;
    this._pool = new BufferPool(device);
    this._pipelines = PipelineCache.for(device);
    this._info = deviceInfo(device);
    this.scopes = (opts.debug ?? debugFromEnv()) ? new DebugScopes() : null;
    deviceLostReason(device); // start watching for loss
  }

  /** A runtime on the shared device (or `opts.device`); the shared one can be recreated after a loss. */
  static async create(opts: GetDeviceOptions & RuntimeOptions = {}): Promise<Runtime> {
    const rt = new Runtime(await getDevice(opts), opts);
    if (!opts.device) rt.deviceOptions = { adapter: opts.adapter, powerPreference: opts.powerPreference };
    return rt;
  }

  get device(): GPUDevice {
    return this._device;
  }
  get pool(): BufferPool {
    return this._pool;
  }
  get pipelines(): PipelineCache {
    return this._pipelines;
  }
  get info(): DeviceInfo {
    return this._info;
  }
  get uniformAlign(): number {
    return this._device.limits.minUniformBufferOffsetAlignment;
  }
  get debug(): boolean {
    return !!this.scopes;
  }

  /** Why the device was lost, or undefined while it works. */
  get lostReason(): string | undefined {
    return deviceLostReason(this._device);
  }

  get isLost(): boolean {
    return this.lostReason !== undefined;
  }

  /** Whether recover() can make a new device (false when the device was given by the caller). */
  get canRecover(): boolean {
    return this.deviceOptions !== null;
  }

  /** The error for work that met a lost device. */
  lostError(what: string): WgsegError {
    const how = this.canRecover
      ? 'the next Session.run recreates the device and re-uploads the weights'
      : 'the device was given by the caller, so wgseg cannot recreate it: make a new GPUDevice and a new Session (or Runtime) on it';
    return new WgsegError('DEVICE_LOST', `GPU device lost (${this.lostReason ?? 'unknown reason'}) ${what}; ${how}`);
  }

  /**
   * After a loss: a new device from getDevice(), a new pool, that device's pipeline cache; bumps
   * `generation`. A no-op while the device works; throws DEVICE_LOST when the device was the caller's.
   */
  async recover(): Promise<void> {
    if (!this.isLost) return;
    if (!this.deviceOptions) throw this.lostError('earlier');
    this.recovering ??= (async () => {
      try {
        const device = await getDevice(this.deviceOptions!);
        this._pool.dispose();
        this._device = device;
        this._pool = new BufferPool(device);
        this._pipelines = PipelineCache.for(device);
        this._info = deviceInfo(device);
        this.encoder = this.pass = this.profiler = null;
        this.finished = [];
        this.uniformChunks = [];
        this.scopes?.clear();
        this.generation++;
      } finally {
        this.recovering = null;
      }
    })();
    await this.recovering;
  }

  /**
   * Make GPU objects inside an out-of-memory error scope. When the device reports out-of-memory:
   * `undo` what was made, flush the pool's cached buffers, try once more; then throw
   * WgsegError('OUT_OF_MEMORY') with the planned bytes and what wgseg held.
   */
  async allocate<T>(what: string, plannedBytes: number, make: () => T, undo: (made: T) => void): Promise<T> {
    const held = gpuMemory().bytes;
    let freed = 0;
    for (let attempt = 0; ; attempt++) {
      const device = this._device;
      device.pushErrorScope('out-of-memory');
      let made: T;
      try {
        made = make();
      } catch (e) {
        await device.popErrorScope();
        throw e;
      }
      let err: { message: string } | null = await device.popErrorScope();
      if (!err && this.faults.outOfMemory > 0) {
        this.faults.outOfMemory--;
        err = { message: 'out-of-memory injected by the test hook Runtime.faults' };
      }
      if (!err) return made;
      undo(made);
      if (this.isLost) throw this.lostError(`while allocating ${what}`);
      if (attempt === 0) {
        freed = this._pool.flush();
        continue;
      }
      const limit = this._device.limits.maxBufferSize;
      throw new WgsegError(
        'OUT_OF_MEMORY',
        `${what}: GPU out of memory: planned ${plannedBytes} bytes; available: the device refused them twice ` +
          `(wgseg held ${held} bytes, ${freed} freed by flushing the buffer pool before the retry; WebGPU reports no free-memory figure, ` +
          `only the per-buffer limit maxBufferSize ${limit}): ${err.message.trim()}`,
      );
    }
  }

  /** A buffer outside the pool (planned intermediates, constants), counted by gpuMemory(). */
  createBuffer(size: number, usage: number, label?: string): GPUBuffer {
    return createTracked(this._device, { size, usage, label });
  }

  destroyBuffer(buf: GPUBuffer): void {
    destroyTracked(buf);
  }

  /**
   * Record one dispatch into the current encoder (submitted by `submit()`), or into `into`: a
   * command encoder its caller finishes and submits (web code whose external texture must be used
   * in the task that imported it). Into a caller's encoder the dispatch has a pass of its own, its
   * uniform struct comes as `p.uniformBuffer` (the runtime cannot know when that encoder is
   * submitted), it is not counted in `dispatches` nor profiled, and in debug mode its error scope
   * covers the pipeline, the bind group and the pass (errors the encoder reports at finish are the
   * caller's).
   */
  dispatch(p: Program, into?: GPUCommandEncoder): void {
    if (this.isLost) throw this.lostError(`before ${p.name}`);
    const [x, y = 1, z = 1] = p.workgroups;
    if (x * y * z === 0) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max)
      throw new WgsegError('BAD_SHAPE', `${p.name}: dispatch ${x}x${y}x${z} exceeds ${max} per dimension`);
    this.scopes?.open(this.device);
    try {
      this.record(p, x, y, z, into);
    } finally {
      if (this.scopes) {
        // pass errors are reported when the encoder finishes: finish one per dispatch, in this scope
        if (!this.profiler && !into) {
          this.endPass();
          if (this.encoder) this.finished.push(this.encoder.finish());
          this.encoder = null;
        }
        this.scopes.close(this.device, p, this.context);
      }
    }
  }

  private record(p: Program, x: number, y: number, z: number, into?: GPUCommandEncoder): void {
    const cp = this.pipelines.get(p.shader, p.defines, p.overrides, p.entry);
    if (into) {
      const bindGroup = this.bindGroup(p, cp, true);
      const pass = into.beginComputePass({ label: p.name });
      pass.setPipeline(cp.pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
      pass.end();
      return;
    }
    this.dispatches++;
    const bindGroup = this.bindGroup(p, cp, false);
    this.capturing?.commands.push({ pipeline: cp.pipeline, bindGroup, x, y, z });
    const wall = this.profiler && !this.profiler.timestamps ? this.device.createCommandEncoder() : null;
    const pass = wall
      ? wall.beginComputePass()
      : this.profiler
        ? this.profiler.beginPass(this.encoderNow(), p.name)
        : this.passNow();
    pass.setPipeline(cp.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) pass.end();
    if (wall) this.profiler!.recordWall(p.name, wall.finish());
  }

  /** The program's resources, by the WGSL variable names the entry point uses, in the pipeline's layout. */
  private bindGroup(p: Program, cp: CachedPipeline, external: boolean): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [];
    const given = <T>(what: string, from: Record<string, T> | undefined, name: string): T => {
      const r = from?.[name];
      if (!r) throw new WgsegError('SHADER', `${p.name}: ${what} "${name}" not given (shader ${p.shader})`);
      return r;
    };
    for (const b of cp.layout.bindings) {
      let resource: GPUBindingResource;
      if (b.kind === 'uniform') {
        if (p.uniformBuffer) resource = { buffer: p.uniformBuffer };
        else if (external)
          throw new WgsegError(
            'SHADER',
            `${p.name}: a dispatch into the caller's encoder takes its uniform "${b.name}" as uniformBuffer`,
          );
        else if (!cp.layout.uniform) throw new WgsegError('SHADER', `${p.shader}: uniform binding without struct`);
        else {
          const bytes = packUniforms(cp.layout.uniform, p.uniforms ?? {}, p.name);
          resource = this.capturing ? this.capturing.uniform(bytes) : this.uniformSlot(bytes);
        }
      } else if (b.kind === 'texture' || b.kind === 'storage-texture') resource = given('texture', p.textures, b.name);
      else if (b.kind === 'sampler') resource = given('sampler', p.samplers, b.name);
      else if (b.kind === 'external-texture') resource = given('external texture', p.externalTextures, b.name);
      else resource = { buffer: given('buffer', p.buffers, b.name) };
      entries.push({ binding: b.binding, resource });
    }
    return this.device.createBindGroup({ layout: cp.bindGroupLayout, entries });
  }

  private encoderNow(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private passNow(): GPUComputePassEncoder {
    return (this.pass ??= this.encoderNow().beginComputePass());
  }

  private endPass() {
    this.pass?.end();
    this.pass = null;
  }

  /** Copy between buffers inside the current encoder (keeps order with dispatches). */
  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number, srcOffset = 0, dstOffset = 0): void {
    this.capturing?.commands.push({ src, dst, bytes, srcOffset, dstOffset });
    this.endPass();
    this.encoderNow().copyBufferToBuffer(src, srcOffset, dst, dstOffset, Math.ceil(bytes / 4) * 4);
  }

  private uniformSlot(bytes: ArrayBuffer): GPUBufferBinding {
    const size = bytes.byteLength;
    let chunk = this.uniformChunks[this.uniformChunks.length - 1];
    if (!chunk || chunk.used + size > UNIFORM_CHUNK) {
      const buffer = this.pool.acquire(UNIFORM_CHUNK, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      chunk = { buffer, data: new Uint8Array(UNIFORM_CHUNK), used: 0 };
      this.uniformChunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.data.set(new Uint8Array(bytes), offset);
    chunk.used = Math.ceil((offset + size) / this.uniformAlign) * this.uniformAlign;
    return { buffer: chunk.buffer, offset, size };
  }

  /** Submit everything recorded so far; pooled buffers released meanwhile become reusable. */
  submit(): void {
    this.endPass();
    for (const c of this.uniformChunks) {
      this.device.queue.writeBuffer(c.buffer, 0, c.data, 0, c.used);
      this.pool.release(c.buffer);
    }
    this.uniformChunks = [];
    this.profiler?.resolve(this.encoderNow());
    const cbs = this.finished;
    if (this.encoder) cbs.push(this.encoder.finish());
    if (cbs.length) {
      this.scopes?.open(this.device);
      this.device.queue.submit(cbs);
      this.scopes?.closeAs(this.device, `queue.submit of ${cbs.length} command buffers`);
      this.submits++;
    }
    this.finished = [];
    this.encoder = null;
    this.pool.submitted();
  }

  /** Debug mode: wait for the error scopes of everything recorded so far; throw the first error (GPU_VALIDATION). */
  async checkErrors(): Promise<void> {
    await this.scopes?.check();
  }

  /** Run `record` with per-dispatch timing: GPU timestamps when the adapter has them, else wall time. */
  async profile(record: () => void): Promise<Timing[]> {
    this.submit();
    this.profiler = new Profiler(this.device, this.info.timestamps);
    try {
      record();
      return await this.profiler.finish(() => this.submit());
    } finally {
      this.profiler.dispose();
      this.profiler = null;
    }
  }

  /**
   * Record `record`'s dispatches and copies as usual and also into a Capture that `replay` records
   * again without the kernels: no bind group, uniform packing or pipeline lookup per dispatch.
   * Null (and `record` runs plainly) in debug or profiling mode, where each dispatch needs its own
   * scope or timing.
   */
  capture(record: () => void): Capture | null {
    if (this.scopes || this.profiler || this.capturing) {
      record();
      return null;
    }
    const c = new Capture(this._device, this.uniformAlign);
    this.capturing = c;
    this._pool.holder = c.held;
    try {
      record();
    } catch (e) {
      c.dispose();
      throw e;
    } finally {
      this.capturing = null;
      this._pool.holder = null;
    }
    c.writeUniforms();
    return c;
  }

  /** Record a capture's commands again into the current encoder. */
  replay(c: Capture): void {
    if (this.isLost) throw this.lostError('before a captured run');
    for (const cmd of c.commands) {
      if ('pipeline' in cmd) {
        const pass = this.passNow();
        pass.setPipeline(cmd.pipeline);
        pass.setBindGroup(0, cmd.bindGroup);
        pass.dispatchWorkgroups(cmd.x, cmd.y, cmd.z);
        this.dispatches++;
      } else {
        this.endPass();
        this.encoderNow().copyBufferToBuffer(
          cmd.src,
          cmd.srcOffset,
          cmd.dst,
          cmd.dstOffset,
          Math.ceil(cmd.bytes / 4) * 4,
        );
      }
    }
  }

  /** Wait for the queue to drain. */
  async sync(): Promise<void> {
    this.submit();
    await this.checkErrors();
    await this.device.queue.onSubmittedWorkDone();
    if (this.isLost) throw this.lostError('while waiting for the queue');
  }

  // ---- tensors --------------------------------------------------------------------------

  alloc(shape: number[], dtype: DType = 'f32'): GpuTensor {
    return { buffer: this.pool.acquire(Math.max(4, numel(shape) * BYTES[dtype])), shape: [...shape], dtype };
  }

  upload(data: ArrayLike<number>, shape: number[], dtype: DType = 'f32'): GpuTensor {
    if (data.length !== numel(shape))
      throw new WgsegError('BAD_SHAPE', `upload: ${data.length} values for shape [${shape.join(',')}]`);
    const t = this.alloc(shape, dtype);
    const bytes = encodeHost(data, dtype);
    this.device.queue.writeBuffer(t.buffer, 0, bytes, 0, Math.ceil(bytes.byteLength / 4) * 4);
    return t;
  }

  /** Read a tensor back to the host (submits pending work first). */
  async read(t: GpuTensor): Promise<HostArray> {
    const what = `while reading a [${t.shape.join(',')}] ${t.dtype} tensor`;
    if (this.isLost) throw this.lostError(what);
    const device = this._device;
    const n = numel(t.shape);
    const bytes = Math.max(4, Math.ceil((n * BYTES[t.dtype]) / 4) * 4);
    // staging buffers come from the pool and go back to it: a new mappable buffer costs its
    // zeroing and first-touch page faults on every read (60-90 ms of a 22 MB read on lavapipe)
    const pool = this.pool;
    const staging = pool.acquire(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, true);
    let mapped = false;
    try {
      this.copy(t.buffer, staging, bytes);
      this.submit();
      await this.checkErrors();
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      mapped = true;
      return decodeHost(staging.getMappedRange(0, bytes).slice(0), t.dtype, n);
    } catch (e) {
      // a loss rejects mapAsync with a bare AbortError; the loss itself is the news. Browsers may
      // report the loss a moment after the rejection: wait for it (briefly) so that the next run
      // already knows and recovers.
      if (!this.isLost) await Promise.race([device.lost, new Promise((r) => setTimeout(r, 1000))]);
      if (this.isLost) throw this.lostError(what);
      throw e;
    } finally {
      if (mapped) {
        staging.unmap();
        pool.recycle(staging);
      } else pool.release(staging);
    }
  }

  /**
   * Give tensors' buffers back to the pool. With nothing recorded since the last submit no pending
   * command can read them, so they are reusable at once (a run's output disposed after its read
   * serves the next run instead of a second buffer).
   */
  release(...ts: GpuTensor[]): void {
    for (const t of ts) this.pool.release(t.buffer);
    if (!this.encoder && !this.finished.length && !this.uniformChunks.length && !this.profiler) this.pool.submitted();
  }

  dispose(): void {
    this.endPass();
    this.encoder = null;
    this.finished = [];
    this.uniformChunks = [];
    this.scopes?.clear();
    this.pool.dispose();
  }
}
