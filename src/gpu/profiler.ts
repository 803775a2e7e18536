export interface Timing {
  name: string;
  ms: number;
  /** 'gpu' from timestamp queries, 'wall' from per-dispatch submit + wait */
  source: 'gpu' | 'wall';
}

const MAX_PASSES = 2048;

/**
 * Per-dispatch timing. With timestamp-query every dispatch gets its own pass with
 * beginning/end timestamps; without it each dispatch is submitted alone and timed on the wall.
 */
export class Profiler {
  private names: string[] = [];
  private querySet: GPUQuerySet | null = null;
  private resolveBuf: GPUBuffer | null = null;
  private readBuf: GPUBuffer | null = null;
  private wall: { name: string; cb: GPUCommandBuffer }[] = [];
  private resolvedCount = 0;

  constructor(
    readonly device: GPUDevice,
    readonly timestamps: boolean,
  ) {
    if (timestamps) {
      this.querySet = device.createQuerySet({ type: 'timestamp', count: MAX_PASSES * 2 });
      this.resolveBuf = device.createBuffer({
        size: MAX_PASSES * 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      this.readBuf = device.createBuffer({
        size: MAX_PASSES * 16,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
  }

  beginPass(encoder: GPUCommandEncoder, name: string): GPUComputePassEncoder {
    const i = this.names.length;
    this.names.push(name);
    if (this.querySet && i < MAX_PASSES) {
      return encoder.beginComputePass({
        timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
    }
    return encoder.beginComputePass();
  }

  /** Called by the runtime before each submit. */
  resolve(encoder: GPUCommandEncoder): void {
    const n = Math.min(this.names.length, MAX_PASSES);
    if (this.querySet && n > this.resolvedCount) {
      encoder.resolveQuerySet(
        this.querySet,
        2 * this.resolvedCount,
        2 * (n - this.resolvedCount),
        this.resolveBuf!,
        16 * this.resolvedCount,
      );
      this.resolvedCount = n;
    }
  }

  /** Wall mode: each dispatch arrives as its own command buffer, submitted and timed in finish(). */
  recordWall(name: string, cb: GPUCommandBuffer): void {
    this.wall.push({ name, cb });
  }

  async finish(submit: () => void): Promise<Timing[]> {
    submit();
    if (!this.timestamps) {
      const out: Timing[] = [];
      for (const { name, cb } of this.wall) {
        const t0 = performance.now();
        this.device.queue.submit([cb]);
        await this.device.queue.onSubmittedWorkDone();
        out.push({ name, ms: performance.now() - t0, source: 'wall' });
      }
      return out;
    }
    const n = Math.min(this.names.length, MAX_PASSES);
    if (n === 0) return [];
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.resolveBuf!, 0, this.readBuf!, 0, n * 16);
    this.device.queue.submit([enc.finish()]);
    await this.readBuf!.mapAsync(GPUMapMode.READ, 0, n * 16);
    const t = new BigUint64Array(this.readBuf!.getMappedRange(0, n * 16).slice(0));
    this.readBuf!.unmap();
    return this.names
      .slice(0, n)
      .map((name, i) => ({ name, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6, source: 'gpu' as const }));
  }

  dispose(): void {
    this.querySet?.destroy();
    this.resolveBuf?.destroy();
    this.readBuf?.destroy();
  }
}
