import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/import/npy';
import { readSafetensors } from '../../src/import/safetensors';
import { srn, type SrnOptions } from '../../src/models/srn';
import { gpu } from '../helpers/gpu';
import { expectNetClose } from '../helpers/ort';

/**
 * SRN built in TS vs the PyTorch module (tools/refs/srn.py) with fixed random weights (BN
 * statistics included): fused scores and attention maps, fixtures from `npm run refs`, f32 rule.
 */
const FIX = new URL('../fixtures/models/', import.meta.url);
const file = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));
const npy = (name: string) => readNpy(file(name));

async function check(name: string, o: SrnOptions) {
  const x = npy(`${name}.input.npy`);
  const model = srn(o).load(file(`${name}.safetensors`), `${name}.safetensors`);
  const rt = await gpu();
  const s = await model.session({ device: rt });
  try {
    const before = rt.submits;
    const out = await s.run({ input: { data: x.data as Float32Array, dims: x.shape } });
    expect(rt.submits - before, 'submits per run').toBe(1);
    for (const k of ['scores', 'attention']) {
      const ref = npy(`${name}.output.${k}.npy`);
      expect(out[k].shape, `${name}.${k} shape`).toEqual(ref.shape);
      const { maxAbsErr, worst } = expectNetClose(await out[k].read(), ref.data as Float32Array, `${name}.${k}`);
      console.log(
        `${name}.${k} [${ref.shape}]: max abs err ${maxAbsErr.toExponential(2)}, ${(worst * 100).toFixed(1)}% of the allowed error`,
      );
      out[k].dispose();
    }
  } finally {
    s.dispose();
  }
}

const SMALL: SrnOptions = {
  classes: 5,
  width: 4,
  layers: [1, 1, 1, 1],
  inputHeight: 64,
  inputWidth: 64,
  attentionChannels: 8,
  srChannels: 8,
};

describe('models/srn vs PyTorch', () => {
  it('BasicBlock trunk, 64x64 (4x4 attention maps)', () => check('srn', SMALL));
  it('Bottleneck trunk, batch 2, 48x80 (3x5 maps, non-square regularisation kernel), alpha 0.3', () =>
    check('srn_bottleneck', {
      classes: 6,
      block: 'bottleneck',
      width: 4,
      layers: [1, 2, 1, 1],
      inputHeight: 48,
      inputWidth: 80,
      attentionChannels: 6,
      srChannels: 4,
      alpha: 0.3,
      batch: 2,
    }));

  it('names: the module state_dict in order; the default trunk is torchvision resnet18', () => {
    const m = srn(SMALL);
    const keys = [...readSafetensors(file('srn.safetensors')).keys()];
    expect([...m.params.keys()]).toEqual(keys.filter((k) => !m.unused.has(k)));
    expect([...m.unused].every((k) => k.endsWith('.num_batches_tracked') && keys.includes(k))).toBe(true);
    const tv = (JSON.parse(readFileSync(new URL('srn.torchvision-keys.json', FIX), 'utf8')) as Record<string, string[]>)
      .resnet18_num_classes_20;
    const d = srn();
    const trunk = [...d.params.keys(), ...d.unused]
      .filter((k) => k.startsWith('resnet.'))
      .map((k) => k.slice('resnet.'.length));
    expect(trunk.sort()).toEqual([...tv].sort());
    expect(d.params.get('spatial.4.weight')).toEqual([2048, 1, 14, 14]); // the paper's 2048 filters of 14x14 in 512 groups
  });

  it('missing, unexpected and mis-shaped weights are listed; no weights, no session', async () => {
    const w = readSafetensors(file('srn.safetensors'));
    w.delete('confidence.weight');
    w.set('attention.6.weight', w.get('attention.4.weight')!);
    expect(() => srn({ ...SMALL, inputHeight: 96 }).load(w, 'bad.safetensors')).toThrow(
      /bad\.safetensors.*srn.*missing \(1\): confidence\.weight; mis-shaped \(1\): spatial\.4\.weight \[32,1,4,4\] \(model wants \[32,1,6,4\]\); unexpected \(1\): attention\.6\.weight/,
    );
    await expect(srn(SMALL).session({ device: await gpu() })).rejects.toThrow(
      /parameters have no weights.*resnet\.conv1\.weight/,
    );
  });
});
