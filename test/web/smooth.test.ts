// MaskSmoother (src/web/smooth.ts) on real WebGPU against a float64 EMA computed here.
import { describe, expect, it } from 'vitest';
import { MaskSmoother } from '../../src/web/smooth';
import { gpu } from '../helpers/gpu';
import { rng } from '../helpers/random';

describe('MaskSmoother', () => {
  it('first frame copied, then state = state + alpha * (mask - state); reset starts over', async () => {
    const rt = await gpu();
    const n = 1000,
      r = rng(3);
    const s = new MaskSmoother(rt.device, n);
    const want = new Float64Array(n);
    const frames = [1, 0.3, 0.3, 0.7, 1].map((alpha) => ({
      alpha,
      mask: Float32Array.from({ length: n }, () => r.next()),
    }));
    try {
      for (const [k, { alpha, mask }] of frames.entries()) {
        const t = rt.upload(mask, [n]);
        const enc = rt.device.createCommandEncoder();
        s.encode(enc, t.buffer, k === 0 ? 0.2 : alpha); // the first frame ignores alpha
        rt.device.queue.submit([enc.finish()]);
        for (let i = 0; i < n; i++) want[i] = k === 0 ? mask[i] : want[i] + alpha * (mask[i] - want[i]);
        const got = (await rt.read({ buffer: s.output, shape: [n], dtype: 'f32' })) as Float32Array;
        for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i]), `frame ${k} [${i}]`).toBeLessThan(1e-6);
        rt.pool.release(t.buffer);
      }
      s.reset();
      const t = rt.upload(frames[1].mask, [n]);
      const enc = rt.device.createCommandEncoder();
      s.encode(enc, t.buffer, 0.1);
      rt.device.queue.submit([enc.finish()]);
      const got = (await rt.read({ buffer: s.output, shape: [n], dtype: 'f32' })) as Float32Array;
      expect(Array.from(got)).toEqual(Array.from(frames[1].mask));
      rt.pool.release(t.buffer);
    } finally {
      s.dispose();
    }
  });
});
