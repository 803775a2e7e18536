// The soak, short: 100 inferences of a small U-Net and 50 Session create/run/dispose cycles
// (`npm run soak` does 1,000 of each and prints the figures). wgseg's GPU buffers, the session's
// pool and the pipeline cache must be back at their baselines; the JS heap within 2 MiB.
import { describe, expect, it } from 'vitest';
import { soak } from '../../bench/soak-lib';

const HEAP_BOUND = 2 * 2 ** 20;

describe('soak (short)', () => {
  it('100 runs and 50 create/dispose cycles return GPU memory and pipelines to their baselines', async () => {
    const r = await soak(100, 50);
    const { run, cycle } = r;
    console.log(
      `soak: runs gpu ${run.before.gpu.bytes} -> ${run.after.gpu.bytes} B, heap +${((run.after.heap - run.before.heap) / 2 ** 20).toFixed(2)} MiB; ` +
        `cycles gpu ${cycle.before.gpu.bytes} -> ${cycle.after.gpu.bytes} B, heap +${((cycle.after.heap - cycle.before.heap) / 2 ** 20).toFixed(2)} MiB`,
    );
    // one session running: its buffers (plan, constants, pool) stay exactly as after the first run
    expect(run.before.gpu.buffers).toBeGreaterThan(0);
    expect(run.after.gpu).toEqual(run.before.gpu);
    expect(run.after.pool).toEqual(run.before.pool);
    expect(run.after.pipelines).toBe(run.before.pipelines);
    expect(r.last).toEqual(r.first);
    // sessions created and disposed: nothing of theirs is left, no pipeline added
    expect(cycle.before.gpu).toEqual({ bytes: 0, buffers: 0 });
    expect(cycle.after.gpu).toEqual({ bytes: 0, buffers: 0 });
    expect(cycle.after.pipelines).toBe(cycle.before.pipelines);
    expect(run.after.heap - run.before.heap).toBeLessThan(HEAP_BOUND);
    expect(cycle.after.heap - cycle.before.heap).toBeLessThan(HEAP_BOUND);
  });
});
