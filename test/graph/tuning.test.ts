// The autotuner (src/graph/tuning.ts) through Session: measured choices, the tuning cache (hit,
// miss, corrupt file, another adapter, another version), forced variants, the time budget and
// 'off'. Outputs are checked against the f64 conv reference whichever variant runs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/core/version';
import { GraphBuilder } from '../../src/graph/builder';
import { tuningKey } from '../../src/graph/tuning';
import { Session, type SessionOptions } from '../../src/session';
import { memoryTuningCache, openTuningCache, parseTuningFile } from '../../src/tuning-cache';
import { gpu } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { convRef } from '../reference/conv';
import { convTransposeRef } from '../reference/conv-transpose';

const X = [1, 8, 12, 12],
  W = [16, 8, 3, 3];
const r = rng(7);
const x = Float32Array.from(r.array(X.reduce((a, b) => a * b)));
const w = Float32Array.from(r.array(W.reduce((a, b) => a * b)));
const want = convRef({ x, xShape: X, w, wShape: W, pads: [1, 1, 1, 1] });

/** One 3x3 conv and a Relu: one FusedConv node after fusion, an op with several kernel variants. */
function model() {
  const b = new GraphBuilder('tuning-net');
  const y = b.op('Conv', [b.input('x', X), b.constant(w, W)], { pads: [1, 1, 1, 1] });
  b.output(b.op('Relu', [y]), 'y');
  return b.build();
}

async function run(opts: SessionOptions) {
  const s = await Session.create(model(), { device: await gpu(), ...opts });
  try {
    const { y } = await s.run({ x: { data: x, dims: X } });
    expectClose(
      await y.read(),
      want.data.map((v) => Math.max(0, v)),
      TOL.f32Reduce,
      `${JSON.stringify(s.tuning)}`,
    );
    return s.tuning;
  } finally {
    s.dispose();
  }
}

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('autotuner', () => {
  it("'auto' measures each candidate once, keeps the fastest, and the next session reads it from the cache", async () => {
    const cache = memoryTuningCache();
    const [first] = await run({ tune: 'auto', tuningCache: cache });
    const rt = await gpu();
    expect(first.op).toBe('FusedConv');
    expect(first.candidates.length).toBeGreaterThan(1); // lavapipe: gemm-subgroup and gemm at least
    expect(first.source).toBe('measured');
    expect(Object.keys(first.times).sort()).toEqual([...first.candidates].sort());
    const fastest = Object.entries(first.times).sort((a, b) => a[1] - b[1])[0][0];
    expect(first.choice).toBe(fastest);
    expect(first.key.startsWith(`${VERSION}|${rt.info.adapter}|FusedConv|`)).toBe(true);
    expect(cache.get(first.key)).toBe(fastest);
    console.log(`tuning: ${first.key}: ${JSON.stringify(first.times)} -> ${first.choice}`);

    // a hit: the cached choice is used as is, nothing measured (even a slower one: the cache is trusted)
    const slower = first.candidates.find((c) => c !== fastest)!;
    cache.set(first.key, slower);
    const [hit] = await run({ tune: 'auto', tuningCache: cache });
    expect(hit).toMatchObject({ source: 'cache', choice: slower, times: {} });

    // 'full' measures again whatever the cache says, and refreshes it
    const [full] = await run({ tune: 'full', tuningCache: cache });
    expect(full.source).toBe('measured');
    expect(cache.get(first.key)).toBe(full.choice);
  });

  it('a choice cached for another adapter or another wgseg version is a miss; an unknown variant name is ignored', async () => {
    const rt = await gpu();
    const cache = memoryTuningCache();
    const [probe] = await run({ tune: 'off' });
    const cls = probe.key.split('|').slice(3).join('|');
    cache.set(tuningKey('another / adapter', 'FusedConv', cls), 'gemm');
    cache.set(`0.0.0-old|${rt.info.adapter}|FusedConv|${cls}`, 'gemm');
    const [miss] = await run({ tune: 'auto', tuningCache: cache });
    expect(miss.source).toBe('measured');
    cache.set(miss.key, 'no-such-variant');
    const [unknown] = await run({ tune: 'auto', tuningCache: cache });
    expect(unknown.source).toBe('measured');
  });

  it('the cache file: written by a session, read by the next; a corrupt file is ignored and rewritten, never fatal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wgseg-tuning-'));
    dirs.push(dir);
    const path = join(dir, 'sub', 'tuning.json');
    const [made] = await run({ tune: 'auto', tuningCache: path });
    expect(made.source).toBe('measured');
    const stored = parseTuningFile(await readFile(path, 'utf8'));
    expect(stored.get(made.key)).toBe(made.choice);
    const [again] = await run({ tune: 'auto', tuningCache: path });
    expect(again).toMatchObject({ source: 'cache', choice: made.choice });

    for (const junk of ['{ not json', '[]', '{"format":"wgseg-tuning-0","entries":{}}', '\u0000\u0001binary']) {
      await writeFile(path, junk);
      expect(parseTuningFile(junk).size).toBe(0);
      const [c] = await run({ tune: 'auto', tuningCache: path });
      expect(c.source).toBe('measured');
      expect(parseTuningFile(await readFile(path, 'utf8')).get(c.key)).toBe(c.choice);
    }
    // a cache that cannot be written (a path under a file) still tunes and runs
    const blocked = join(dir, 'sub', 'tuning.json', 'x.json');
    const [b] = await run({ tune: 'auto', tuningCache: blocked });
    expect(b.source).toBe('measured');
    expect((await openTuningCache(blocked)).get(b.key)).toBeUndefined();
  });

  it('forced variants run, each one (on lavapipe, and on SwiftShader in that project); a variant that does not apply is BAD_INPUT naming the node', async () => {
    for (const rt of [await gpu()]) {
      const s = await Session.create(model(), { device: rt, tune: 'off' });
      const names = s.tuning[0].candidates;
      s.dispose();
      // the subgroup GEMM shares weights across 8 lanes: lavapipe (8), not SwiftShader (4)
      if (rt.info.subgroups && rt.info.subgroupMinSize >= 8) expect(names).toContain('gemm-subgroup');
      else expect(names).not.toContain('gemm-subgroup');
      for (const v of names) {
        const s2 = await Session.create(model(), { device: rt, variants: { FusedConv: v } });
        try {
          expect(s2.tuning[0]).toMatchObject({ choice: v, source: 'forced' });
          const { y } = await s2.run({ x: { data: x, dims: X } });
          expectClose(
            await y.read(),
            want.data.map((u) => Math.max(0, u)),
            TOL.f32Reduce,
            `${rt.info.adapter} ${v}`,
          );
        } finally {
          s2.dispose();
        }
      }
    }
    await expect(
      Session.create(model(), { device: await gpu(), variants: { FusedConv: 'depthwise' } }),
    ).rejects.toThrow(/node .*FusedConv.*variant "depthwise" does not apply/);
    await expect(Session.create(model(), { device: await gpu(), variants: { FusedConv: 'nope' } })).rejects.toThrow(
      /variant "nope" is not one of/,
    );
  });

  it('first-run variants: a small ConvTranspose runs its first run on the direct kernel and the chosen one from the second run on (where that is the subgroup kernel); every run matches f64', async () => {
    const xs = [1, 6, 10, 10],
      ws = [6, 5, 4, 4];
    const xv = Float32Array.from(r.array(xs.reduce((a, b) => a * b)));
    const wv = Float32Array.from(r.array(ws.reduce((a, b) => a * b)));
    const attrs = { strides: [2, 2], pads: [1, 1, 1, 1] };
    const ref = convTransposeRef({ x: xv, xShape: xs, w: wv, wShape: ws, strides: [2, 2], pads: [1, 1, 1, 1] });
    const b = new GraphBuilder('first-run');
    b.output(b.op('ConvTranspose', [b.input('x', xs), b.constant(wv, ws)], attrs), 'y');
    const rt = await gpu();
    const subgroup = rt.info.subgroups && rt.info.subgroupMinSize >= 8;
    const s = await Session.create(b.build(), { device: rt, tune: 'off', profile: true });
    try {
      expect(s.tuning[0]).toMatchObject(subgroup ? { choice: 'subgroup', firstRun: 'direct' } : { choice: 'portable' });
      if (!subgroup) expect(s.tuning[0].firstRun).toBeUndefined();
      const kernels: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { y } = await s.run({ x: { data: xv, dims: xs } });
        expectClose(await y.read(), ref.data, TOL.f32Reduce, `run ${i}`);
        kernels.push(s.lastProfile!.flatMap((n) => n.dispatches.map((d) => d.name)).join());
      }
      const want = subgroup ? ['direct', 'subgroup', 'subgroup'] : ['', '', ''];
      kernels.forEach((k, i) => expect(k, `run ${i}: ${k}`).toMatch(want[i]));
    } finally {
      s.dispose();
    }
    // forced, the chosen kernel runs from the first run
    const f = await Session.create(b.build(), { device: rt, variants: { ConvTranspose: 'portable' }, profile: true });
    try {
      expect(f.tuning[0].firstRun).toBeUndefined();
      await f.run({ x: { data: xv, dims: xs } });
      expect(f.lastProfile!.flatMap((n) => n.dispatches.map((d) => d.name)).join()).not.toMatch('direct');
    } finally {
      f.dispose();
    }
  });

  it("'off', 'cached' and a spent budget run without measuring; a bad tune value is BAD_INPUT", async () => {
    const cache = memoryTuningCache();
    const [off] = await run({ tune: 'off', tuningCache: cache });
    expect(off).toMatchObject({ source: 'default', times: {} });
    expect(off.choice).toBe(off.candidates[0]);
    // 'cached' (the default): the cached choice where there is one, else the default, never measured
    const [miss] = await run({ tune: 'cached', tuningCache: cache });
    expect(miss).toMatchObject({ source: 'default', choice: off.choice, times: {} });
    const other = off.candidates[off.candidates.length - 1];
    cache.set(off.key, other);
    const env = process.env.WGSEG_TUNE;
    delete process.env.WGSEG_TUNE; // the suite runs with WGSEG_TUNE=off (vite.config.ts): here the real default
    const [hit] = await run({ tuningCache: cache }).finally(() => (process.env.WGSEG_TUNE = env));
    expect(hit).toMatchObject({ source: 'cache', choice: other, times: {} });
    const fresh = memoryTuningCache();
    const [spent] = await run({ tune: 'auto', tuneBudgetMs: 0, tuningCache: fresh });
    expect(spent).toMatchObject({ source: 'budget', choice: off.choice, times: {} });
    expect(fresh.get(off.key)).toBeUndefined();
    await expect(Session.create(model(), { tune: 'fast' as 'auto' })).rejects.toThrow(/tune "fast" is not one of/);
    await expect(Session.create(model(), { tuneBudgetMs: -1 })).rejects.toThrow(/tuneBudgetMs/);
  });
});

it("the tuning cache key's version is package.json's", async () => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(VERSION).toBe(pkg.version);
});
