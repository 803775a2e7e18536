// Out-of-memory (through the test hook Runtime.faults: Mesa lavapipe allocates lazily and never
// reports out-of-memory, not even past the process's address-space limit) and debug-mode
// validation errors (a real broken kernel call on Dawn).
import { describe, expect, it } from 'vitest';
import { gpuMemory } from '../../src/gpu/memory';
import { Runtime } from '../../src/gpu/runtime';
import { runKernel } from '../../src/kernels/dispatch';
import { kernelFor } from '../../src/kernels/registry';
import type { Attrs } from '../../src/core/attrs';
import { Session } from '../../src/session';
import { SMALL_NET_DIMS, smallNet } from '../helpers/small-net';
import { expectClose, TOL } from '../helpers/tolerance';

const net = smallNet();
const feeds = () => ({ x: { data: net.input, dims: SMALL_NET_DIMS } });
const OUT_BYTES = 2 * 8 * 8 * 4;
/** w1, b1, w2, b2 as uploaded, in f32: the conv weights in the GEMM layout the kernel packs them into at load */
function constBytes(rt: Runtime): number {
  const conv = kernelFor('Conv');
  const packed = (w: Float32Array, shape: number[], x: number[], attrs: Attrs) =>
    conv.prepack!(
      rt,
      1,
      w,
      [
        { shape: x, dtype: 'f32' },
        { shape, dtype: 'f32' },
      ],
      attrs,
    )!.data.length;
  return (
    (packed(net.weights.w1, [4, 2, 3, 3], SMALL_NET_DIMS, { pads: [1, 1, 1, 1] }) +
      4 +
      packed(net.weights.w2, [2, 4, 1, 1], [1, 4, 8, 8], {}) +
      2) *
    4
  );
}
const INPUT_SLOT = 2 * 8 * 8 * 4;

/** Put `n` released 4 KiB buffers in the pool's free lists (what a flush must drop). */
function fillPoolCache(rt: Runtime, n: number) {
  const bufs = Array.from({ length: n }, () => rt.pool.acquire(4096));
  for (const b of bufs) rt.pool.release(b);
  rt.pool.submitted();
  expect(rt.pool.stats().freeBytes).toBe(n * 4096);
}

describe('out of memory', () => {
  it('a plan allocation that fails once: the pool is flushed and the retry succeeds', async () => {
    const rt = await Runtime.create();
    fillPoolCache(rt, 3);
    rt.faults.outOfMemory = 1;
    const s = await Session.create(net.graph, { device: rt });
    expect(rt.faults.outOfMemory).toBe(0);
    expect(rt.pool.stats().freeBytes).toBe(0);
    expectClose(await (await s.run(feeds()))[net.output].read(), net.want, TOL.f32Reduce, 'after the retry');
    s.dispose();
    rt.dispose();
  });

  it('failing twice: OUT_OF_MEMORY with the planned bytes; nothing is left allocated', async () => {
    const rt = await Runtime.create();
    const ok = await Session.create(net.graph, { device: rt });
    const CONST_BYTES = constBytes(rt);
    const planned = INPUT_SLOT + ok.plannedPeakBytes! + CONST_BYTES;
    ok.dispose();
    const base = gpuMemory();
    fillPoolCache(rt, 2);
    rt.faults.outOfMemory = 2;
    const err = await Session.create(net.graph, { device: rt }).catch((e) => e);
    expect(err).toMatchObject({ name: 'WgsegError', code: 'OUT_OF_MEMORY' });
    expect(err.message).toMatch(
      new RegExp(
        `^test\\.onnx: the plan's buffers \\(\\d+ intermediates, \\d+ bytes; 4 constants, ${CONST_BYTES} bytes\\): GPU out of memory: planned ${planned} bytes; available: the device refused them twice \\(wgseg held \\d+ bytes, 8192 freed by flushing the buffer pool before the retry; WebGPU reports no free-memory figure, only the per-buffer limit maxBufferSize \\d+\\): out-of-memory injected`,
      ),
    );
    expect(gpuMemory()).toEqual(base);
    rt.dispose();
  });

  it("a run's output allocation: retried once after a flush, then OUT_OF_MEMORY; the next run works", async () => {
    const rt = await Runtime.create();
    const s = await Session.create(net.graph, { device: rt });
    rt.faults.outOfMemory = 1;
    const once = await s.run(feeds());
    expectClose(await once[net.output].read(), net.want, TOL.f32Reduce, 'retried run');
    rt.faults.outOfMemory = 2;
    await expect(s.run(feeds())).rejects.toMatchObject({
      code: 'OUT_OF_MEMORY',
      message: expect.stringMatching(
        new RegExp(
          `^test\\.onnx: a run \\(outputs ${OUT_BYTES} bytes, planned intermediates \\d+ bytes already held\\): GPU out of memory: planned ${OUT_BYTES} bytes`,
        ),
      ),
    });
    expectClose(await (await s.run(feeds()))[net.output].read(), net.want, TOL.f32Reduce, 'run after the failure');
    s.dispose();
    rt.dispose();
  });
});

describe('debug mode: validation errors name the kernel', () => {
  /** A tensor whose buffer cannot be bound as storage: a broken call into a kernel. */
  const mappable = (rt: Runtime, n: number) => ({
    buffer: rt.device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    shape: [n],
    dtype: 'f32' as const,
  });

  it('a bind-group error surfaces at sync() with kernel, shapes, shader and buffers', async () => {
    const rt = await Runtime.create({ debug: true });
    expect(rt.debug).toBe(true);
    rt.context = 'test node relu_0 (Relu)';
    const [y] = runKernel(rt, kernelFor('Relu'), [mappable(rt, 4)]);
    rt.context = '';
    const err = await rt.sync().catch((e) => e);
    expect(err).toMatchObject({ name: 'WgsegError', code: 'GPU_VALIDATION' });
    expect(err.message).toMatch(
      /^test node relu_0 \(Relu\): kernel Relu\[4\] \(shader elementwise\/unary\.wgsl, workgroups 1x1; buffers x: 16 B, usage 0x9; y: 16 B, usage 0x8c\): .*usage.* \(and 1 more validation error\)$/s,
    );
    // the runtime stays usable: a correct call afterwards runs
    rt.release(y);
    const [z] = runKernel(rt, kernelFor('Relu'), [rt.upload([-1, 2], [2])]);
    expect(Array.from(await rt.read(z))).toEqual([0, 2]);
    rt.dispose();
  });

  it('a pipeline that fails to compile names the kernel', async () => {
    const rt = await Runtime.create({ debug: true });
    const buf = rt.pool.acquire(16);
    rt.dispatch({
      name: 'Broken[4]',
      shader: 'elementwise/unary.wgsl',
      defines: { T: 'bogus_type' },
      uniforms: { n: 4, op: 0, a: 0, b: 0 },
      buffers: { x: buf, y: buf },
      workgroups: [1],
    });
    await expect(rt.sync()).rejects.toMatchObject({
      code: 'GPU_VALIDATION',
      message: expect.stringMatching(/^kernel Broken\[4\] \(shader elementwise\/unary\.wgsl.*bogus_type/s),
    });
    rt.dispose();
  });

  it('a session in debug mode computes the same (one command buffer per dispatch, still one submit)', async () => {
    const s = await Session.create(net.graph, { debug: true });
    expect(s.rt.debug).toBe(true);
    const before = s.rt.submits;
    const out = await s.run(feeds());
    expect(s.rt.submits - before).toBe(1);
    expectClose(await out[net.output].read(), net.want, TOL.f32Reduce, 'debug session');
    s.dispose();
  });

  it('without debug the same broken call is not attributed (the scopes are what names it)', async () => {
    const rt = await Runtime.create({ debug: false });
    rt.device.pushErrorScope('validation');
    runKernel(rt, kernelFor('Relu'), [mappable(rt, 4)]);
    await rt.sync();
    const err = await rt.device.popErrorScope();
    expect(err?.message).toMatch(/usage/);
    expect(err?.message).not.toMatch(/Relu\[4\]/);
    rt.dispose();
  });
});

describe('validation errors of concurrent runs', () => {
  // two runs in flight on one device (two <wgseg-view>s sharing a session): each gets its own errors.
  // A validation scope held across an await handed the bad run's error to the good one (CI, stop 11).
  it('a run fed a destroyed buffer rejects; a run beside it on the same session succeeds', async () => {
    const rt = await Runtime.create();
    const s = await Session.create(net.graph, { device: rt });
    const foreign = rt.device.createBuffer({
      size: net.input.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    foreign.destroy();
    for (const order of ['bad first', 'good first']) {
      const bad = () => s.run({ x: { buffer: foreign, dims: SMALL_NET_DIMS, type: 'float32' } });
      const good = () => s.run(feeds());
      const [b, g] =
        order === 'bad first'
          ? await Promise.allSettled([bad(), good()])
          : (await Promise.allSettled([good(), bad()])).reverse();
      expect(b.status, order).toBe('rejected');
      expect((b as PromiseRejectedResult).reason, order).toMatchObject({
        code: 'GPU_VALIDATION',
        message: expect.stringMatching(/^test\.onnx: .*destroyed/s),
      });
      expect(g.status, `${order}: ${(g as PromiseRejectedResult).reason}`).toBe('fulfilled');
      expectClose(
        await (g as PromiseFulfilledResult<Awaited<ReturnType<typeof good>>>).value[net.output].read(),
        net.want,
        TOL.f32Reduce,
        order,
      );
    }
    s.dispose();
    rt.dispose();
  });
});
