// Device loss on Dawn: device.destroy() between runs, while a run's submit is pending and while a
// read-back is pending. The running call rejects with DEVICE_LOST naming the reason; the next run
// recreates the device, pipelines and weights (outputs checked against the float64 reference).
import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { getDevice } from '../../src/gpu/device';
import { Runtime } from '../../src/gpu/runtime';
import { Session, type Tensor } from '../../src/session';
import { destroyAfterNextSubmit, destroyDuringNextMap } from '../helpers/device-faults';
import { SMALL_NET_DIMS, smallNet } from '../helpers/small-net';
import { expectClose, TOL } from '../helpers/tolerance';

const net = smallNet();
const feeds = () => ({ x: { data: net.input, dims: SMALL_NET_DIMS } });

async function expectRight(out: Record<string, Tensor>, label: string) {
  expectClose(await out[net.output].read(), net.want, TOL.f32Reduce, label);
}

const lostError = (reason: RegExp) =>
  expect.objectContaining({ name: 'WgsegError', code: 'DEVICE_LOST', message: expect.stringMatching(reason) });

describe('device loss (Dawn)', () => {
  it('between runs: the next run recreates device, pipelines and weights; old tensors refuse read()', async () => {
    const s = await Session.create(net.graph);
    const before = await s.run(feeds());
    await expectRight(before, 'before the loss');
    const old = { device: s.rt.device, pipelines: s.rt.pipelines, generation: s.rt.generation };
    expect(s.rt.canRecover).toBe(true);
    old.device.destroy();
    await old.device.lost;
    expect(s.rt.lostReason).toMatch(/^destroyed/);
    const after = await s.run(feeds());
    expect(s.rt.device).not.toBe(old.device);
    expect(s.rt.pipelines).not.toBe(old.pipelines);
    expect(s.rt.pipelines.size).toBeGreaterThan(0);
    expect(s.rt.generation).toBe(old.generation + 1);
    await expectRight(after, 'after recovery');
    expect(before[net.output].stale).toBe(true);
    await expect(before[net.output].read()).rejects.toThrow(
      /tensor from a GPU device that was lost; its data is gone: run the session again/,
    );
    await expect(s.run({ x: before[net.output] })).rejects.toThrow(
      /input x is a tensor from a GPU device that was lost/,
    );
    before[net.output].dispose(); // a no-op on the new device's pool
    after[net.output].dispose();
    s.dispose();
  });

  it('while a run is submitted: that run rejects naming the reason, the next one recovers', async () => {
    const s = await Session.create(net.graph);
    await expectRight(await s.run(feeds()), 'warm-up');
    const device = s.rt.device;
    destroyAfterNextSubmit(device);
    const err = await s.run(feeds()).catch((e) => e);
    expect(err).toBeInstanceOf(WgsegError);
    expect(err).toEqual(
      lostError(
        /^GPU device lost \(destroyed.*\) during a run of test\.onnx; the next Session\.run recreates the device/,
      ),
    );
    await expectRight(await s.run(feeds()), 'run after the failed one');
    expect(s.rt.device).not.toBe(device);
    s.dispose();
  });

  it('while a read-back is pending: read() rejects with DEVICE_LOST; the session runs again', async () => {
    const s = await Session.create(net.graph);
    const out = await s.run(feeds());
    destroyDuringNextMap(s.rt.device);
    await expect(out[net.output].read()).rejects.toEqual(
      lostError(/^GPU device lost \(destroyed.*\) while reading a \[1,2,8,8\] f32 tensor/),
    );
    await expectRight(await s.run(feeds()), 'after the lost read-back');
    s.dispose();
  });

  it('two sessions on one Runtime.create() runtime both recover', async () => {
    const rt = await Runtime.create();
    const a = await Session.create(net.graph, { device: rt });
    const b = await Session.create(smallNet().graph, { device: rt });
    await expectRight(await a.run(feeds()), 'a');
    rt.device.destroy();
    await expectRight(await b.run(feeds()), 'b after loss');
    await expectRight(await a.run(feeds()), 'a after loss');
    expect(rt.generation).toBe(1);
    a.dispose();
    b.dispose();
    rt.dispose();
  });

  it("on the caller's GPUDevice: runs reject saying wgseg cannot recreate it", async () => {
    const device = await getDevice();
    const s = await Session.create(net.graph, { device });
    await expectRight(await s.run(feeds()), 'caller device');
    expect(s.rt.canRecover).toBe(false);
    device.destroy();
    await device.lost;
    for (let i = 0; i < 2; i++) {
      await expect(s.run(feeds())).rejects.toEqual(
        lostError(
          /^GPU device lost \(destroyed.*\) earlier; the device was given by the caller, so wgseg cannot recreate it: make a new GPUDevice and a new Session/,
        ),
      );
    }
    s.dispose();
    // the documented way out: a new device, a new session
    const fresh = await Session.create(net.graph, { device: await getDevice() });
    await expectRight(await fresh.run(feeds()), 'new session on a new device');
    fresh.dispose();
  });
});
