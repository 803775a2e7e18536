import { WgsegError } from '../errors';
import { BufferPool } from './buffer-pool';
import { deviceInfo, getDevice, type DeviceInfo, type GetDeviceOptions } from './device';
import { PipelineCache } from './pipeline-cache';
import { Profiler, type Timing } from './profiler';
import { packUniforms, type Defines, type UniformValues } from './shader-source';
import { BYTES, decodeHost, encodeHost, numel, type DType, type GpuTensor, type HostArray } from './tensor';

/** One dispatch, described as data (ORT's ProgramInfo): the kernel files build these. */
export interface Program {
  /** kernel name + shape summary, for profiles and errors */
  name: string;
  /** 'family/file.wgsl' */
  shader: string;
  entry?: string;
  defines?: Defines;
  overrides?: Record<string, number>;
  /** values for the shader's uniform struct, by field name */
  uniforms?: UniformValues;
  /** storage buffers by the WGSL variable name */
  buffers: Record<string, GPUBuffer>;
  workgroups: [number, number?, number?];
}

const UNIFORM_CHUNK = 64 * 1024;

/**
 * The GPU side of the engine: device, buffer pool, pipeline cache and the command encoder that
 * collects dispatches until `submit()`. Kernels only ever call `dispatch` and the pool.
 */
export class Runtime {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly info: DeviceInfo;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniformChunks: { buffer: GPUBuffer; data: Uint8Array<ArrayBuffer>; used: number }[] = [];
  private profiler: Profiler | null = null;
  private lost = false;
  readonly uniformAlign: number;
  /** command buffers submitted so far (the executor's one-submit-per-inference check reads it) */
  submits = 0;
  /** dispatches recorded so far (the executor maps profile timings back to nodes with it) */
  dispatches = 0;

  constructor(readonly device: GPUDevice) {
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    this.info = deviceInfo(device);
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment;
    device.lost.then(() => (this.lost = true));
  }

  static async create(opts: GetDeviceOptions = {}): Promise<Runtime> {
    return new Runtime(await getDevice(opts));
  }

  get isLost() {
    return this.lost;
  }

  /** Record one dispatch into the current encoder. */
  dispatch(p: Program): void {
    if (this.lost) throw new WgsegError('DEVICE_LOST', `device lost; cannot run ${p.name}`);
    const [x, y = 1, z = 1] = p.workgroups;
    if (x * y * z === 0) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) throw new WgsegError('BAD_SHAPE', `${p.name}: dispatch ${x}x${y}x${z} exceeds ${max} per dimension`);
    const cp = this.pipelines.get(p.shader, p.defines, p.overrides, p.entry);
    this.dispatches++;
    const entries: GPUBindGroupEntry[] = [];
    for (const b of cp.layout.bindings) {
      if (b.kind === 'uniform') {
        if (!cp.layout.uniform) throw new WgsegError('SHADER', `${p.shader}: uniform binding without struct`);
        const bytes = packUniforms(cp.layout.uniform, p.uniforms ?? {}, p.name);
        entries.push({ binding: b.binding, resource: this.uniformSlot(bytes) });
      } else {
        const buf = p.buffers[b.name];
        if (!buf) throw new WgsegError('SHADER', `${p.name}: buffer "${b.name}" not given (shader ${p.shader})`);
        entries.push({ binding: b.binding, resource: { buffer: buf } });
      }
    }
    const bindGroup = this.device.createBindGroup({ layout: cp.bindGroupLayout, entries });
    const wall = this.profiler && !this.profiler.timestamps ? this.device.createCommandEncoder() : null;
    const pass = wall ? wall.beginComputePass() : this.profiler ? this.profiler.beginPass(this.encoderNow(), p.name) : this.passNow();
    pass.setPipeline(cp.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) pass.end();
    if (wall) this.profiler!.recordWall(p.name, wall.finish());
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
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.submits++;
    }
    this.encoder = null;
    this.pool.submitted();
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

  /** Wait for the queue to drain. */
  async sync(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
  }

  // ---- tensors --------------------------------------------------------------------------

  alloc(shape: number[], dtype: DType = 'f32'): GpuTensor {
    return { buffer: this.pool.acquire(Math.max(4, numel(shape) * BYTES[dtype])), shape: [...shape], dtype };
  }

  upload(data: ArrayLike<number>, shape: number[], dtype: DType = 'f32'): GpuTensor {
    if (data.length !== numel(shape)) throw new WgsegError('BAD_SHAPE', `upload: ${data.length} values for shape [${shape.join(',')}]`);
    const t = this.alloc(shape, dtype);
    const bytes = encodeHost(data, dtype);
    this.device.queue.writeBuffer(t.buffer, 0, bytes, 0, Math.ceil(bytes.byteLength / 4) * 4);
    return t;
  }

  /** Read a tensor back to the host (submits pending work first). */
  async read(t: GpuTensor): Promise<HostArray> {
    const n = numel(t.shape);
    const bytes = Math.max(4, Math.ceil((n * BYTES[t.dtype]) / 4) * 4);
    const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      this.copy(t.buffer, staging, bytes);
      this.submit();
      await staging.mapAsync(GPUMapMode.READ);
      return decodeHost(staging.getMappedRange().slice(0), t.dtype, n);
    } catch (e) {
      if (this.lost) throw new WgsegError('DEVICE_LOST', `device lost while reading a [${t.shape.join(',')}] tensor`);
      throw e;
    } finally {
      staging.destroy();
    }
  }

  release(...ts: GpuTensor[]): void {
    for (const t of ts) this.pool.release(t.buffer);
  }

  dispose(): void {
    this.endPass();
    this.encoder = null;
    this.pool.dispose();
  }
}
