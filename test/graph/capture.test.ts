// Captured runs (Runtime.capture, the executor's replay): the first run of a plan records its
// nodes' commands, later runs replay them. Every run is checked against the f64 reference, with
// new host data each time, GPU-buffer inputs in a different buffer each time, a buffer the plan
// cannot copy from (no COPY_SRC: bound as is, not captured), and the profiler (never captured).
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { SMALL_NET_DIMS, smallNet, smallNetRef } from '../helpers/small-net';
import { TOL, expectClose } from '../helpers/tolerance';

const net = smallNet();
const fresh = (seed: number) => Float32Array.from(rng(seed).array(net.input.length));

describe('captured runs', () => {
  it('the first run records, the next ones replay, each with its own input and the right output', async () => {
    const s = await Session.create(net.graph, { device: await gpu() });
    try {
      for (let i = 0; i < 4; i++) {
        const x = fresh(100 + i);
        const out = await s.run({ x: { data: x, dims: SMALL_NET_DIMS } });
        expect(s.lastEncode?.replayed, `run ${i}`).toBe(i > 0);
        expectClose(await out[net.output].read(), smallNetRef(x, net.weights), TOL.f32Reduce, `run ${i}`);
        out[net.output].dispose();
      }
    } finally {
      s.dispose();
    }
  });

  it('GPU-buffer inputs: another buffer each run is copied in and replayed; a buffer without COPY_SRC runs uncaptured', async () => {
    const rt = await gpu();
    const s = await Session.create(net.graph, { device: rt });
    const bufs: GPUBuffer[] = [];
    const feed = (x: Float32Array, usage: number) => {
      const b = rt.device.createBuffer({ size: x.byteLength, usage: usage | GPUBufferUsage.COPY_DST });
      rt.device.queue.writeBuffer(b, 0, x as Float32Array<ArrayBuffer>);
      bufs.push(b);
      return { buffer: b, dims: SMALL_NET_DIMS, type: 'float32' as const };
    };
    try {
      const usages = [
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
        GPUBufferUsage.STORAGE,
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      ];
      for (const [i, usage] of usages.entries()) {
        const x = fresh(200 + i);
        const out = await s.run({ x: feed(x, usage) });
        const copyable = (usage & GPUBufferUsage.COPY_SRC) !== 0;
        expect(s.lastEncode?.replayed, `run ${i}`).toBe(i > 0 && copyable);
        expectClose(await out[net.output].read(), smallNetRef(x, net.weights), TOL.f32Reduce, `run ${i}`);
        out[net.output].dispose();
      }
    } finally {
      s.dispose();
      for (const b of bufs) b.destroy();
    }
  });

  it('profiled runs are recorded afresh (per-node timings), and give the same outputs', async () => {
    const s = await Session.create(net.graph, { device: await gpu(), profile: true });
    try {
      for (let i = 0; i < 2; i++) {
        const x = fresh(300 + i);
        const out = await s.run({ x: { data: x, dims: SMALL_NET_DIMS } });
        expect(s.lastEncode?.replayed).toBe(false);
        expect(s.lastProfile?.length).toBeGreaterThan(0);
        expectClose(await out[net.output].read(), smallNetRef(x, net.weights), TOL.f32Reduce, `profiled ${i}`);
        out[net.output].dispose();
      }
    } finally {
      s.dispose();
    }
  });
});
