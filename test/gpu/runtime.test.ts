// The GPU runtime on real WebGPU: device features, loss and recreation, caching, profiling.
import { describe, expect, it } from 'vitest';
import { getDevice } from '../../src/gpu/device';
import { Runtime } from '../../src/gpu/runtime';
import { runKernel } from '../../src/kernels/dispatch';
import { kernelFor } from '../../src/kernels/registry';

describe('runtime', () => {
  it('reports the adapter and the optional features it got', async () => {
    const rt = await Runtime.create();
    expect(rt.info.adapter.length).toBeGreaterThan(0);
    for (const [flag, feature] of [
      [rt.info.f16, 'shader-f16'],
      [rt.info.timestamps, 'timestamp-query'],
      [rt.info.subgroups, 'subgroups'],
    ] as const) {
      expect(flag).toBe(rt.device.features.has(feature));
    }
    expect(rt.device.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
  });

  it('after device loss the caller is told and the next getDevice() returns a new device', async () => {
    let told = '';
    const d1 = await getDevice({ onLost: (r) => (told = r) });
    const rt = new Runtime(d1);
    d1.destroy();
    await d1.lost;
    await new Promise((r) => setTimeout(r, 0));
    expect(told).not.toBe('');
    expect(rt.isLost).toBe(true);
    expect(() => rt.upload([1], [1]) && runKernel(rt, kernelFor('Relu'), [rt.alloc([1])])).toThrow(/device lost/);
    const d2 = await getDevice();
    expect(d2).not.toBe(d1);
    const rt2 = new Runtime(d2);
    const [y] = runKernel(rt2, kernelFor('Relu'), [rt2.upload([-1, 2], [2])]);
    expect(Array.from(await rt2.read(y))).toEqual([0, 2]);
  });

  it('caches pipelines and bind-group layouts: repeated dispatches create none', async () => {
    const rt = await Runtime.create();
    const relu = kernelFor('Relu');
    const x = rt.upload([1, -2, 3], [3]);
    runKernel(rt, relu, [x]);
    const n = rt.pipelines.size;
    for (let i = 0; i < 20; i++) rt.release(...runKernel(rt, relu, [rt.upload([i], [1])]));
    runKernel(rt, kernelFor('Sigmoid'), [x]); // same shader, op code in the uniform: same pipeline
    expect(rt.pipelines.size).toBe(n);
    runKernel(rt, kernelFor('Relu'), [rt.upload([1], [1], 'i32')]); // other dtype define: one more
    expect(rt.pipelines.size).toBe(n + 1);
    await rt.sync();
  });

  it('compiles asynchronously once per key and names the shader on failure', async () => {
    const rt = await Runtime.create();
    const [a, b] = await Promise.all([
      rt.pipelines.compile('elementwise/unary.wgsl', { T: 'f32' }, { WG: 64 }),
      rt.pipelines.compile('elementwise/unary.wgsl', { T: 'f32' }, { WG: 64 }),
    ]);
    expect(a).toBe(b);
    await expect(rt.pipelines.compile('elementwise/unary.wgsl', { T: 'bogus_type' })).rejects.toThrow(/unary\.wgsl/);
  });

  it('profiles every dispatch (GPU timestamps when available)', async () => {
    const rt = await Runtime.create();
    const x = rt.upload(new Float32Array(4096).fill(-1), [4096]);
    const t = await rt.profile(() => {
      runKernel(rt, kernelFor('Relu'), [x]);
      runKernel(rt, kernelFor('Exp'), [x]);
    });
    expect(t.map((e) => e.name)).toEqual(['Relu[4096]', 'Exp[4096]']);
    expect(t.every((e) => e.ms >= 0 && e.ms < 1000)).toBe(true);
    expect(t[0].source).toBe(rt.info.timestamps ? 'gpu' : 'wall');
  });

  it('rejects uploads whose length does not match the shape', async () => {
    const rt = await Runtime.create();
    expect(() => rt.upload([1, 2, 3], [2, 2])).toThrow(/3 values for shape \[2,2\]/);
  });
});
