import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/import/npy';
import { readSafetensors } from '../../src/import/safetensors';
import { unet, type UNetOptions } from '../../src/models/unet';
import { gpu } from '../helpers/gpu';
import { expectNetClose } from '../helpers/ort';

/**
 * U-Net built in TS vs the PyTorch module (tools/refs/unet.py, milesial/Pytorch-UNet names) with
 * fixed random weights (BN statistics included): fixtures from `npm run refs`, f32 rule.
 */
const FIX = new URL('../fixtures/models/', import.meta.url);
const file = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));

async function check(name: string, o: UNetOptions) {
  const x = readNpy(file(`${name}.input.npy`)),
    ref = readNpy(file(`${name}.output.npy`));
  const model = unet(o).load(file(`${name}.safetensors`), `${name}.safetensors`);
  const rt = await gpu();
  const s = await model.session({ device: rt });
  try {
    const before = rt.submits;
    const out = (await s.run({ input: { data: x.data as Float32Array, dims: x.shape } })).logits;
    expect(rt.submits - before).toBe(1);
    expect(out.shape).toEqual(ref.shape);
    const { maxAbsErr, worst } = expectNetClose(await out.read(), ref.data as Float32Array, name);
    console.log(
      `${name} [${ref.shape}]: max abs err ${maxAbsErr.toExponential(2)}, ${(worst * 100).toFixed(1)}% of the allowed error`,
    );
    out.dispose();
  } finally {
    s.dispose();
  }
}

describe('models/unet vs PyTorch', () => {
  it('width 4, depth 4, transposed-conv up, 32x32', () =>
    check('unet', { channels: 3, classes: 3, width: 4, depth: 4 }));
  it('bilinear up, depth 3, batch 2, odd size 27x21 (upsampled maps padded to the skip)', () =>
    check('unet_bilinear_odd', {
      channels: 1,
      classes: 2,
      width: 4,
      depth: 3,
      bilinear: true,
      inputHeight: 27,
      inputWidth: 21,
      batch: 2,
    }));
  it('depth 2, odd size 19x30', () =>
    check('unet_odd', { channels: 2, classes: 4, width: 4, depth: 2, inputHeight: 19, inputWidth: 30 }));

  it('parameter names of the original (width 64, depth 4) are upstream state_dict keys, both variants', () => {
    const names = JSON.parse(readFileSync(new URL('unet.names.json', FIX), 'utf8')) as Record<string, string[]>;
    for (const [variant, bilinear] of [
      ['transposed', false],
      ['bilinear', true],
    ] as const) {
      const m = unet({ bilinear });
      expect([...m.params.keys(), ...m.unused].sort(), variant).toEqual([...names[variant]].sort());
      expect([...m.params.keys()], `${variant}: state_dict order`).toEqual(
        names[variant].filter((n) => !m.unused.has(n)),
      );
    }
  });

  it('missing, unexpected and mis-shaped weights are listed', () => {
    const w = readSafetensors(file('unet.safetensors'));
    w.delete('inc.double_conv.0.weight');
    w.set('up9.up.weight', { ...w.get('up1.up.weight')! });
    w.set('outc.conv.weight', { ...w.get('outc.conv.weight')!, shape: [2, 4, 1, 1] });
    const m = unet({ channels: 3, classes: 3, width: 4, depth: 4 });
    expect(() => m.load(w, 'bad.safetensors')).toThrow(
      /bad\.safetensors.*missing \(1\): inc\.double_conv\.0\.weight.*mis-shaped \(1\): outc\.conv\.weight \[2,4,1,1\] \(model wants \[3,4,1,1\]\).*unexpected \(1\): up9\.up\.weight/,
    );
    expect(() => unet({ depth: 0 })).toThrow(/depth/);
  });

  it('a model without weights refuses to make a session', async () => {
    await expect(unet({ width: 4, depth: 2 }).session({ device: await gpu() })).rejects.toThrow(
      /parameters have no weights.*inc\.double_conv\.0\.weight/,
    );
  });
});
