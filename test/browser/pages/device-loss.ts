// Device loss in the browser, driven by test/browser/device-loss.test.ts: the same steps as
// test/gpu/device-loss.test.ts on Chromium's WebGPU. Results go to window.__deviceLoss; the Node
// side compares the outputs with the float64 reference.
import { Session, type Tensor } from '../../../src/session';
import { destroyAfterNextSubmit, destroyDuringNextMap } from '../../helpers/device-faults';
import { SMALL_NET_DIMS, smallNet } from '../../helpers/small-net';

interface Caught {
  name?: string;
  code?: string;
  message: string;
}
const caught = (e: unknown): Caught => {
  const x = e as { name?: string; code?: string; message?: string };
  return { name: x?.name, code: x?.code, message: String(x?.message ?? e) };
};
const status = document.querySelector('#status')!;
let step = 'start';

async function main() {
  const net = smallNet();
  const feeds = () => ({ x: { data: net.input, dims: SMALL_NET_DIMS } });
  const read = async (out: Record<string, Tensor>) => Array.from(await out[net.output].read());
  const outs: Record<string, number[]> = {};
  const errors: Record<string, Caught> = {};

  const s = await Session.create(net.graph);
  const adapter = s.rt.info.adapter;
  const first = await s.run(feeds());
  outs.before = await read(first);

  // between runs
  step = 'between runs';
  const d0 = s.rt.device;
  d0.destroy();
  await d0.lost;
  outs.afterLoss = await read(await s.run(feeds()));
  const newDevice = s.rt.device !== d0;
  errors.staleRead = await first[net.output].read().then(() => ({ message: 'no error' }), caught);

  // while the run's submit is pending
  step = 'mid-run';
  destroyAfterNextSubmit(s.rt.device);
  errors.midRun = await s.run(feeds()).then(() => ({ message: 'no error' }), caught);
  outs.afterMidRun = await read(await s.run(feeds()));

  // while a read-back is pending
  step = 'mid-read';
  const pending = await s.run(feeds());
  destroyDuringNextMap(s.rt.device);
  errors.midRead = await read(pending).then(() => ({ message: 'no error' }), caught);
  outs.afterMidRead = await read(await s.run(feeds()));
  const generation = s.rt.generation;
  s.dispose();

  // on the caller's device: no recovery, said so
  step = 'caller device';
  const own = await (await navigator.gpu.requestAdapter())!.requestDevice();
  const mine = await Session.create(net.graph, { device: own });
  outs.callerDevice = await read(await mine.run(feeds()));
  own.destroy();
  await own.lost;
  errors.callerDevice = await mine.run(feeds()).then(() => ({ message: 'no error' }), caught);
  mine.dispose();

  (window as unknown as { __deviceLoss: unknown }).__deviceLoss = { adapter, outs, errors, newDevice, generation };
  status.textContent = 'done';
}

main().catch((e) => {
  status.textContent = `error at step ${step}: ${(e as Error).stack ?? e}`;
  status.className = 'error';
});
