import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCase, type FuzzCase } from '../../tools/fuzz/cases';
import { fuzz, table } from '../../tools/fuzz/harness';
import { FORMATS } from '../../tools/fuzz/seeds';

/**
 * The bounded version of `npm run fuzz`: 500 mutated files (125 per format: ONNX, TFLite,
 * safetensors, .npy) from a fixed seed through the importers, Session.create and a run, in a
 * worker process with a time bound (20 s) and memory bounds per case. Every case must end in
 * success or a WgsegError; a failure prints the case (seed + index) and its saved file.
 */
describe('fuzz: 500 mutated files across the four formats', () => {
  it('every case ends in success or a WgsegError, within the time and memory bounds', async () => {
    const lines: string[] = [];
    const rep = await fuzz({ cases: 500, seed: 20240, formats: FORMATS, log: (l) => lines.push(l) });
    console.log(`${table(rep)}\n(${(rep.wallMs / 1000).toFixed(1)} s on ${rep.adapter})`);
    expect(
      rep.failures.map(
        (f) => `case ${f.index} ${f.format}/${f.seed} (${f.what}): ${f.reason.split('\n')[0]} [${f.file}]`,
      ),
    ).toEqual([]);
    for (const f of FORMATS) {
      const s = rep.stats[f];
      expect(s.cases, f).toBe(125);
      // the mutations both break files and leave some loadable: neither outcome may be missing
      expect(s.ok, f).toBeGreaterThan(0);
      expect(
        Object.values(s.errors).reduce((a, b) => a + b, 0),
        f,
      ).toBeGreaterThan(0);
    }
    // model files that load also run: some cases got to a run on the GPU
    expect(rep.stats.onnx.stages.run).toBeGreaterThan(0);
    expect(rep.stats.tflite.stages.run).toBeGreaterThan(0);
  });
});

describe('fuzz harness', () => {
  it('counts each kind of failure: memory left behind, a hang, a crash, another exception, a memory spike, a GPU buffer over the limit; later cases still run', async () => {
    const self = (index: number, what: string): FuzzCase => ({
      index,
      format: 'npy',
      seed: 'selftest',
      what: `self-test ${what}`,
      bytes: new TextEncoder().encode(`SELFTEST:${what}`),
    });
    const bad: Record<number, string> = {
      0: 'leak',
      60: 'hang',
      61: 'crash',
      62: 'throw',
      63: 'memory',
      64: 'bigbuffer',
    };
    const rep = await fuzz({
      cases: 70,
      seed: 1,
      formats: ['npy'],
      timeoutMs: 6000,
      maxRss: 1.5 * 2 ** 30,
      maxGrowth: 256 * 2 ** 20,
      outDir: join(tmpdir(), `wgseg-fuzz-selftest-${process.pid}`),
      env: { WGSEG_FUZZ_SELFTEST: '1' },
      makeCase: (i) => (bad[i] ? self(i, bad[i]) : makeCase(1, i, ['npy'])),
    });
    const got = rep.failures.map((f) => [f.index, f.reason.split('\n')[0].replace(/\d+/g, 'N').slice(0, 60)]);
    expect(got).toEqual([
      [0, expect.stringMatching(/^RSS growth: the worker's RSS after a full GC stayed over/)],
      [60, 'hang: no result within N ms'],
      [61, expect.stringMatching(/^worker exited \(code N, signal null\)/)],
      [62, 'TypeError: self-test TypeError'],
      [63, expect.stringMatching(/^memory: worker RSS N MiB over the bound of N MiB/)],
      [64, expect.stringMatching(/^a GPU buffer of N bytes was created, over the sessions' maxB/)],
    ]);
    const s = rep.stats.npy;
    expect(s.cases).toBe(70);
    expect(s.ok + Object.values(s.errors).reduce((a, b) => a + b, 0)).toBe(65); // every other case, the leaking one included, still ends normally
    expect(s.ok).toBeGreaterThan(0);
  });
});
