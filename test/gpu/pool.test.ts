// Pure logic of the buffer pool, without a GPU: a fake device records creations/destructions.
import { beforeAll, describe, expect, it } from 'vitest';
import { BufferPool, bucketSize } from '../../src/gpu/buffer-pool';

class FakeBuffer {
  destroyed = false;
  constructor(
    readonly size: number,
    readonly usage: number,
  ) {}
  destroy() {
    this.destroyed = true;
  }
}
function fakeDevice(maxBufferSize = 1 << 30) {
  const created: FakeBuffer[] = [];
  const device = {
    limits: { maxBufferSize },
    createBuffer: ({ size, usage }: { size: number; usage: number }) => {
      const b = new FakeBuffer(size, usage);
      created.push(b);
      return b;
    },
  };
  return { device: device as unknown as GPUDevice, created };
}

beforeAll(() => {
  // the GPU* enums exist only once Dawn/the browser installs them; the pool reads them lazily
  (globalThis as Record<string, unknown>).GPUBufferUsage ??= {
    STORAGE: 0x80,
    COPY_SRC: 0x4,
    COPY_DST: 0x8,
    UNIFORM: 0x40,
  };
});

describe('bucketSize', () => {
  it('rounds to 16 bytes and to 2^k * {1, 1.25, 1.5, 1.75}', () => {
    expect(bucketSize(1)).toBe(16);
    expect(bucketSize(17)).toBe(32);
    expect(bucketSize(256)).toBe(256);
    expect(bucketSize(257)).toBe(320);
    expect(bucketSize(1000)).toBe(1024);
    expect(bucketSize(1025)).toBe(1280);
    expect(bucketSize(1600)).toBe(1792);
    for (let n = 1; n < 1e6; n = Math.ceil(n * 1.37)) {
      const b = bucketSize(n);
      expect(b).toBeGreaterThanOrEqual(n);
      expect(b % 16).toBe(0);
      expect(b).toBeLessThanOrEqual(Math.max(16, n * 1.25 + 16));
    }
  });
});

describe('BufferPool', () => {
  it('reuses a released buffer only after submit (deferred release)', () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device);
    const a = pool.acquire(1000);
    pool.release(a);
    const b = pool.acquire(1000);
    expect(b).not.toBe(a); // still pending: the encoder may read it
    pool.submitted();
    expect(pool.acquire(900)).toBe(a); // same bucket (1024)
    expect(created.length).toBe(2);
  });

  it('read-back buffers: exact sizes, reusable at once when recycled, the 4 most recent kept', () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device);
    const READ = 0x1 | 0x8; // MAP_READ | COPY_DST
    const a = pool.acquire(1001, READ, true);
    expect(a.size).toBe(1004);
    pool.recycle(a);
    expect(pool.acquire(1001, READ, true)).toBe(a); // no submit needed
    pool.recycle(a);
    const more = [2000, 3000, 4000, 5000].map((n) => pool.acquire(n, READ, true));
    for (const b of more) pool.recycle(b);
    // five sizes recycled: the oldest (a) is destroyed, the other four stay free
    expect((a as unknown as FakeBuffer).destroyed).toBe(true);
    expect(more.every((b) => !(b as unknown as FakeBuffer).destroyed)).toBe(true);
    expect(pool.stats()).toMatchObject({ freeBytes: 14000, buffers: 4 });
    expect(pool.acquire(5000, READ, true)).toBe(more[3]);
    expect(pool.acquire(1001, READ, true)).not.toBe(a);
    expect(created.length).toBe(6);
  });

  it('a buffer released twice is handed out once', () => {
    const { device } = fakeDevice();
    const pool = new BufferPool(device);
    const a = pool.acquire(64);
    pool.release(a);
    pool.release(a);
    pool.submitted();
    pool.release(a); // already free: ignored
    pool.submitted();
    expect(pool.acquire(64)).toBe(a);
    expect(pool.acquire(64)).not.toBe(a);
  });

  it('keys by usage as well as size', () => {
    const { device } = fakeDevice();
    const pool = new BufferPool(device);
    const a = pool.acquire(64, 0x80);
    pool.release(a);
    pool.submitted();
    expect(pool.acquire(64, 0x40)).not.toBe(a);
    expect(pool.acquire(64, 0x80)).toBe(a);
  });

  it('flushes cached buffers before exceeding its budget, then fails with OUT_OF_MEMORY', () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device, 4096);
    const a = pool.acquire(2048);
    pool.release(a);
    pool.submitted();
    const b = pool.acquire(3000); // different bucket; needs the cached 2048 bytes dropped
    expect((a as unknown as FakeBuffer).destroyed).toBe(true);
    expect(pool.stats().allocatedBytes).toBe(3072);
    expect(() => pool.acquire(2048)).toThrow(/OUT_OF_MEMORY|budget/);
    pool.release(b);
    pool.dispose();
    expect(created.every((c) => c.destroyed)).toBe(true);
  });

  it('rejects buffers beyond maxBufferSize with a clear error', () => {
    const { device } = fakeDevice(1 << 20);
    expect(() => new BufferPool(device).acquire(2 << 20)).toThrow(/maxBufferSize/);
  });

  it('reports stats', () => {
    const { device } = fakeDevice();
    const pool = new BufferPool(device);
    const a = pool.acquire(100);
    pool.acquire(100);
    pool.release(a);
    pool.submitted();
    expect(pool.stats()).toEqual({ allocatedBytes: 224, freeBytes: 112, inUseBytes: 112, buffers: 2 });
  });
});
