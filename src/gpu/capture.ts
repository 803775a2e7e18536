import { createTracked, destroyTracked } from './memory';

/** A recorded dispatch or buffer copy. */
export type Command =
  | { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; x: number; y: number; z: number }
  | { src: GPUBuffer; dst: GPUBuffer; bytes: number; srcOffset: number; dstOffset: number };

const CHUNK = 64 * 1024;

/**
 * An inference's commands recorded once and replayed by later runs (the compute counterpart of
 * ORT's graph capture): pipelines and bind groups are made once, uniform structs are written once
 * into buffers of the capture's own, and the scratch buffers kernels take while recording are the
 * capture's own too (its bind groups name them) until `dispose`. Valid while every buffer it binds
 * lives: the executor binds only its plan's buffers and drops the capture with the plan or after
 * an out-of-memory retry.
 */
export class Capture {
  readonly commands: Command[] = [];
  /** scratch buffers kernels took while recording (BufferPool.holder): the capture's own, the commands bind them */
  readonly held: GPUBuffer[] = [];
  private chunks: { buffer: GPUBuffer; data: Uint8Array<ArrayBuffer>; used: number }[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly align: number,
  ) {}

  /** A slot for one uniform struct, in the capture's own uniform buffers. */
  uniform(bytes: ArrayBuffer): GPUBufferBinding {
    const size = bytes.byteLength;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.used + size > CHUNK) {
      const buffer = createTracked(this.device, {
        size: CHUNK,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        label: 'wgseg captured uniforms',
      });
      chunk = { buffer, data: new Uint8Array(CHUNK), used: 0 };
      this.chunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.data.set(new Uint8Array(bytes), offset);
    chunk.used = Math.ceil((offset + size) / this.align) * this.align;
    return { buffer: chunk.buffer, offset, size };
  }

  /** Write the uniform structs (once: queued before the submit of the recording run). */
  writeUniforms(): void {
    for (const c of this.chunks) this.device.queue.writeBuffer(c.buffer, 0, c.data, 0, c.used);
  }

  /** Free the uniform and scratch buffers. */
  dispose(): void {
    for (const c of this.chunks) destroyTracked(c.buffer);
    this.chunks = [];
    for (const b of this.held) destroyTracked(b);
    this.held.length = 0;
    this.commands.length = 0;
  }
}
