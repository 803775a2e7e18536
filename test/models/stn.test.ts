import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/import/npy';
import { readSafetensors } from '../../src/import/safetensors';
import type { Model } from '../../src/models/model';
import { GraphBuilder } from '../../src/graph/builder';
import { conv2d } from '../../src/models/layers';
import { locSize, spatialTransformer, spatialTransformerModel, stnClassifier } from '../../src/models/stn';
import { gpu } from '../helpers/gpu';
import { expectNetClose } from '../helpers/ort';

/**
 * STN built in TS vs the PyTorch module (tools/refs/stn.py = the PyTorch STN tutorial's Net,
 * generalised in size) with fixed random weights and a non-trivial theta: fixtures from
 * `npm run refs`, f32 rule, on log-probabilities, the rectified input and theta.
 */
const FIX = new URL('../fixtures/models/', import.meta.url);
const file = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));
const npy = (name: string) => readNpy(file(name));

async function run(model: Model, x: { data: Float32Array; shape: number[] }) {
  const rt = await gpu();
  const s = await model.session({ device: rt });
  try {
    const before = rt.submits;
    const outs = await s.run({ input: { data: x.data, dims: x.shape } });
    expect(rt.submits - before, 'submits per run').toBe(1);
    const res: Record<string, { data: Float32Array; shape: number[] }> = {};
    for (const [k, t] of Object.entries(outs)) {
      res[k] = { data: (await t.read()) as Float32Array, shape: t.shape };
      t.dispose();
    }
    return res;
  } finally {
    s.dispose();
  }
}

async function check(name: string, size: number, channels = 1, classes = 10, stn = true) {
  const x = npy(`${name}.input.npy`) as { data: Float32Array; shape: number[] };
  const out = await run(
    stnClassifier({ size, channels, classes, stn }).load(file(`${name}.safetensors`), `${name}.safetensors`),
    x,
  );
  const refs: [string, string][] = stn
    ? [
        ['log_probs', 'output.output'],
        ['rectified', 'output.rectified'],
        ['theta', 'output.theta'],
      ]
    : [['log_probs', 'output']];
  expect(Object.keys(out).sort()).toEqual(refs.map((r) => r[0]).sort());
  for (const [k, f] of refs) {
    const ref = npy(`${name}.${f}.npy`);
    expect(out[k].shape, `${name}.${k} shape`).toEqual(ref.shape);
    const { maxAbsErr, worst } = expectNetClose(out[k].data, ref.data as Float32Array, `${name}.${k}`);
    console.log(
      `${name}.${k} [${ref.shape}]: max abs err ${maxAbsErr.toExponential(2)}, ${(worst * 100).toFixed(1)}% of the allowed error`,
    );
  }
}

describe('models/stn vs PyTorch', () => {
  it('28x28 (the tutorial), batch 2', () => check('stn28', 28));
  it('42x42, 3 channels, 5 classes', () => check('stn42', 42, 3, 5));
  it('60x60, batch 2', () => check('stn60', 60));
  it('the same CNN without the transformer, 42x42', () => check('cnn42', 42, 1, 10, false));

  it('parameter names are the tutorial module state_dict keys', () => {
    const keys = (f: string) => [...readSafetensors(file(f)).keys()].sort();
    expect([...stnClassifier().params.keys()].sort()).toEqual(keys('stn28.safetensors'));
    expect([...stnClassifier({ size: 42, stn: false }).params.keys()].sort()).toEqual(keys('cnn42.safetensors'));
    expect([...stnClassifier().params.keys()].slice(0, 8)).toEqual([
      'localization.0.weight',
      'localization.0.bias',
      'localization.3.weight',
      'localization.3.bias',
      'fc_loc.0.weight',
      'fc_loc.0.bias',
      'fc_loc.2.weight',
      'fc_loc.2.bias',
    ]);
  });

  it('composable: the transformer under a prefix in front of another network', () => {
    const b = new GraphBuilder('composed');
    const t = spatialTransformer(b, b.input('image', [1, 3, 64, 48]), {
      channels: 3,
      height: 64,
      width: 48,
      prefix: 'stn.',
    });
    b.output(conv2d(b, 'head', t.output, 3, 2, 1), 'y');
    expect([...b.params.keys()]).toEqual([
      ...['localization.0', 'localization.3', 'fc_loc.0', 'fc_loc.2'].flatMap((p) => [
        `stn.${p}.weight`,
        `stn.${p}.bias`,
      ]),
      'head.weight',
      'head.bias',
    ]);
    expect(b.params.get('stn.fc_loc.0.weight')).toEqual([32, 10 * locSize(64) * locSize(48)]);
    expect(() => spatialTransformer(new GraphBuilder('tiny'), 'x', { channels: 1, height: 15, width: 40 })).toThrow(
      /tiny: spatial transformer needs an input of at least 16x16, got 15x40/,
    );
  });

  it('identity init: without weights for fc_loc.2 the transformer returns its input (42x42 and 40x24)', async () => {
    const all = readSafetensors(file('stn42.safetensors'));
    for (const [h, w, c] of [
      [42, 42, 3],
      [40, 24, 2],
    ]) {
      const loc = new Map([...all].filter(([k]) => k.startsWith('localization.') || k.startsWith('fc_loc.0.')));
      if (c !== 3)
        for (const [k, t] of loc)
          if (k.endsWith('.0.weight') && k.startsWith('localization'))
            loc.set(k, { ...t, shape: [8, c, 7, 7], data: t.data.slice(0, 8 * c * 49) });
      if (h !== w) {
        const t = loc.get('fc_loc.0.weight')!,
          k = 10 * locSize(h) * locSize(w); // 10 * 6 * 2 here
        loc.set('fc_loc.0.weight', { ...t, shape: [32, k], data: t.data.slice(0, 32 * k) });
      }
      const m = spatialTransformerModel({ channels: c, height: h, width: w, batch: 2 }).load(loc, 'loc.safetensors', {
        partial: true,
      });
      expect(m.unloaded).toEqual([]);
      const x = Float32Array.from({ length: 2 * c * h * w }, (_, i) => Math.sin(i * 0.37) * 3);
      const out = await run(m, { data: x, shape: [2, c, h, w] });
      expect(out.rectified.shape).toEqual([2, c, h, w]);
      expectNetClose(out.theta.data, [1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0], `theta ${h}x${w}`);
      const { maxAbsErr } = expectNetClose(out.rectified.data, x, `identity resampling ${h}x${w}`);
      console.log(`identity STN ${h}x${w}: max |rectified - input| ${maxAbsErr.toExponential(2)} (max |input| 3)`);
    }
  });

  it('missing, unexpected and mis-shaped weights are listed; no weights, no session', async () => {
    const w = readSafetensors(file('stn42.safetensors'));
    w.delete('fc_loc.2.bias');
    w.set('fc3.weight', w.get('fc2.weight')!);
    expect(() => stnClassifier({ size: 60, channels: 3, classes: 5 }).load(w, 'bad.safetensors')).toThrow(
      /bad\.safetensors.*stn60.*missing \(1\): fc_loc\.2\.bias; mis-shaped \(2\): fc_loc\.0\.weight \[32,490\] \(model wants \[32,1210\]\), fc1\.weight \[50,980\] \(model wants \[50,2880\]\); unexpected \(1\): fc3\.weight/,
    );
    await expect(stnClassifier().session({ device: await gpu() })).rejects.toThrow(
      /parameters have no weights.*localization\.0\.weight/,
    );
    expect(() => stnClassifier({ size: 12 })).toThrow(/at least 16x16/);
  });
});
