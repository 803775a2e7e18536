import { WgsegError } from '../core/errors';
import { createTracked, destroyTracked } from './memory';

/** Bucket sizes: 16-byte aligned, then the next of 2^k * {1, 1.25, 1.5, 1.75} (< 25% waste). */
export function bucketSize(bytes: number): number {
  const n = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (n <= 256) return n;
  const p = 2 ** Math.floor(Math.log2(n));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) if (p * f >= n) return p * f;
  return 2 * p;
}

/** read-back buffers the pool keeps free (BufferPool.recycle) */
const RECYCLED = 4;

export interface PoolStats {
  allocatedBytes: number;
  freeBytes: number;
  inUseBytes: number;
  buffers: number;
}

/**
 * GPU buffers pooled by (usage, bucket). `release` is deferred: the buffer goes back to the free
 * list only at the next `submitted()`, once the commands that read it are in the queue.
 */
export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  private pending = new Set<GPUBuffer>();
  private idle = new Set<GPUBuffer>();
  private live = new Set<GPUBuffer>();
  private bytes = 0;
  private freeBytes = 0;

  constructor(
    readonly device: GPUDevice,
    /** soft cap on bytes this pool holds; cached free buffers are dropped before passing it */
    readonly budget = 2 ** 31,
  ) {}

  /** storage + copy both ways (a getter: Dawn installs the GPU* globals only when the device is made) */
  static get STORAGE() {
    return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  }

  private key(size: number, usage: number) {
    return `${usage}:${size}`;
  }

  /**
   * A buffer of at least `bytes` (rounded up to a size bucket), or of exactly `bytes` (rounded to 4)
   * when `exact`: a read-back buffer that one copy fills whole, which Dawn then need not zero first.
   */
  acquire(bytes: number, usage: number = BufferPool.STORAGE, exact = false): GPUBuffer {
    const size = exact ? Math.max(4, Math.ceil(bytes / 4) * 4) : bucketSize(bytes);
    if (this.holder) {
      const own = createTracked(this.device, { size, usage, label: 'wgseg captured scratch' });
      this.holder.push(own);
      return own;
    }
    const list = this.free.get(this.key(size, usage));
    const reused = list?.pop();
    if (reused) {
      this.idle.delete(reused);
      this.freeBytes -= size;
      return reused;
    }
    if (bytes > this.device.limits.maxBufferSize) {
      throw new WgsegError(
        'OUT_OF_MEMORY',
        `buffer of ${bytes} bytes exceeds the device's maxBufferSize ${this.device.limits.maxBufferSize}`,
      );
    }
    if (this.bytes + size > this.budget) this.flush();
    if (this.bytes + size > this.budget) {
      throw new WgsegError(
        'OUT_OF_MEMORY',
        `need ${size} more bytes; pool holds ${this.bytes - this.freeBytes} in use of a ${this.budget}-byte budget`,
      );
    }
    const buf = createTracked(this.device, { size, usage });
    this.live.add(buf);
    this.bytes += size;
    return buf;
  }

  /**
   * While set (synchronously, by Runtime.capture): `acquire` makes new buffers outside the pool and
   * adds them here, for their owner (a Capture, whose commands bind them) to destroy; the pool's
   * own buffers and figures are untouched.
   */
  holder: GPUBuffer[] | null = null;

  /** Return a buffer; it becomes reusable after the next `submitted()`. Releasing twice is a no-op. */
  release(buf: GPUBuffer): void {
    if (this.live.has(buf) && !this.idle.has(buf)) this.pending.add(buf);
  }

  /** Call after queue.submit(): pending releases become reusable. */
  submitted(): void {
    for (const buf of this.pending) this.toFree(buf);
    this.pending.clear();
  }

  /**
   * Return a buffer that no command still to be submitted uses (a read-back staging buffer once
   * unmapped): reusable at once. Recycling twice is a no-op.
   */
  recycle(buf: GPUBuffer): void {
    if (!this.live.has(buf) || this.idle.has(buf)) return;
    this.pending.delete(buf);
    this.toFree(buf);
    // exact-size read-back buffers: one per output size a model has, so inputs of many shapes (OCR
    // lines of every width) would keep one each; the RECYCLED most recently returned stay
    this.recycled = [...this.recycled.filter((b) => b !== buf && this.idle.has(b)), buf];
    while (this.recycled.length > RECYCLED) {
      const old = this.recycled.shift()!;
      const list = this.free.get(this.key(old.size, old.usage))!;
      list.splice(list.indexOf(old), 1);
      this.idle.delete(old);
      this.freeBytes -= old.size;
      this.drop(old);
    }
  }

  private recycled: GPUBuffer[] = [];

  private toFree(buf: GPUBuffer) {
    const k = this.key(buf.size, buf.usage);
    const list = this.free.get(k) ?? [];
    list.push(buf);
    this.free.set(k, list);
    this.idle.add(buf);
    this.freeBytes += buf.size;
  }

  /** Destroy every cached free buffer; returns the bytes freed. */
  flush(): number {
    const freed = this.freeBytes;
    for (const list of this.free.values()) for (const b of list) this.drop(b);
    this.free.clear();
    this.idle.clear();
    this.recycled = [];
    this.freeBytes = 0;
    return freed;
  }

  private drop(buf: GPUBuffer) {
    if (this.live.delete(buf)) this.bytes -= buf.size;
    destroyTracked(buf);
  }

  stats(): PoolStats {
    return {
      allocatedBytes: this.bytes,
      freeBytes: this.freeBytes,
      inUseBytes: this.bytes - this.freeBytes,
      buffers: this.live.size,
    };
  }

  dispose(): void {
    for (const b of this.live) destroyTracked(b);
    this.live.clear();
    this.free.clear();
    this.pending.clear();
    this.idle.clear();
    this.bytes = this.freeBytes = 0;
  }
}
