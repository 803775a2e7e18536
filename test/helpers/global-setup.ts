import { Runtime } from '../../src/gpu/runtime';

// Runs once before the suite: names the adapter, and fails the whole run loudly if there is none.
export default async function setup() {
  const rt = await Runtime.create();
  const i = rt.info;
  console.log(
    `\nwgseg tests on WebGPU adapter: ${i.adapter} (shader-f16: ${i.f16}, timestamp-query: ${i.timestamps}, subgroups: ${i.subgroups})\n`,
  );
  rt.device.destroy();
}
