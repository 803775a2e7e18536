import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { readNpy } from '../../src/import/npy';
import { readSafetensors } from '../../src/import/safetensors';
import { deeplabV3, deeplabV3Plus, type DeepLabOptions } from '../../src/models/deeplab';
import { gpu } from '../helpers/gpu';
import { expectNetClose } from '../helpers/ort';

/**
 * DeepLab v3 / v3+ built in TS vs the same PyTorch modules (tools/refs/deeplab.py, fixed random
 * weights incl. BN statistics; `/usr/bin/python3 tools/make_refs.py deeplab` regenerates the
 * fixtures) under the f32 rule |got - ref| <= 1e-4 * max(1, max|ref|) + 1e-3 * |ref|.
 */

const dir = new URL('../fixtures/models/', import.meta.url);
const file = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
const npy = (name: string) => readNpy(file(name), name);

/** Tiny configs, as CASES in tools/refs/deeplab.py (width 4, one block per stage, 16 ASPP channels, 5 classes). */
const TINY = {
  classes: 5,
  asppChannels: 16,
  backbone: { layers: [1, 1, 1, 1] as [number, number, number, number], channels: 4 },
};
const PLUS = { lowLevelChannels: 8, decoderChannels: 16 };
const MOBILE = { classes: 5, asppChannels: 8, backbone: { kind: 'mobilenet_v3_large' as const, widthMult: 0.1 } };
const CASES: { name: string; build: typeof deeplabV3; opts: Omit<DeepLabOptions, 'height' | 'width'> }[] = [
  { name: 'deeplabv3_os8', build: deeplabV3, opts: { ...TINY, outputStride: 8, rates: [12, 24, 36] } },
  { name: 'deeplabv3_os16', build: deeplabV3, opts: { ...TINY, outputStride: 16, rates: [6, 12, 18] } },
  {
    name: 'deeplabv3_basic_os8',
    build: deeplabV3,
    opts: { ...TINY, backbone: { ...TINY.backbone, block: 'basic' }, outputStride: 8, rates: [6, 12, 18] },
  },
  { name: 'deeplabv3plus_os16', build: deeplabV3Plus, opts: { ...TINY, ...PLUS, outputStride: 16 } },
  { name: 'deeplabv3plus_os8', build: deeplabV3Plus, opts: { ...TINY, ...PLUS, outputStride: 8 } },
  { name: 'deeplabv3_mobilenet', build: deeplabV3, opts: { ...MOBILE } },
  { name: 'deeplabv3plus_mobilenet', build: deeplabV3Plus, opts: { ...MOBILE, ...PLUS } },
];

describe('DeepLab vs PyTorch', () => {
  for (const c of CASES) {
    it(`${c.name} matches PyTorch (one submit per run)`, async () => {
      const rt = await gpu();
      const x = npy(`${c.name}.input.npy`),
        ref = npy(`${c.name}.output.npy`);
      const [, , height, width] = x.shape;
      const model = c.build({ ...c.opts, height, width }).load(file(`${c.name}.safetensors`), `${c.name}.safetensors`);
      const s = await model.session({ device: rt });
      try {
        const before = rt.submits;
        const out = await s.run({ input: { data: x.data as Float32Array, dims: x.shape } });
        expect(rt.submits - before).toBe(1);
        expect(out.out.shape).toEqual(ref.shape);
        const { maxAbsErr, worst } = expectNetClose(await out.out.read(), ref.data as Float32Array, c.name);
        console.log(
          `${c.name}: [${x.shape}] -> [${ref.shape}], max abs err ${maxAbsErr.toExponential(2)}, worst/allowed ${worst.toFixed(3)}`,
        );
      } finally {
        s.dispose();
      }
    });
  }

  it('a symbolic batch runs two images at once (v3+ at output stride 16)', async () => {
    const rt = await gpu();
    const c = CASES[3],
      x = npy(`${c.name}.input.npy`),
      ref = npy(`${c.name}.output.npy`);
    const [, , height, width] = x.shape;
    const s = await c
      .build({ ...c.opts, height, width, batch: 'N' })
      .load(file(`${c.name}.safetensors`))
      .session({ device: rt });
    try {
      const two = new Float32Array(x.data.length * 2);
      two.set(x.data as Float32Array), two.set(x.data as Float32Array, x.data.length);
      const out = await s.run({ input: { data: two, dims: [2, ...x.shape.slice(1)] } });
      expect(out.out.shape).toEqual([2, ...ref.shape.slice(1)]);
      const got = await out.out.read(),
        n = ref.data.length;
      expectNetClose(got.subarray(0, n), ref.data as Float32Array, 'batch 0');
      expectNetClose(got.subarray(n), ref.data as Float32Array, 'batch 1');
    } finally {
      s.dispose();
    }
  });
});

describe('DeepLab parameter names', () => {
  it("v3 at the default config declares torchvision deeplabv3_resnet50's state_dict names and shapes", () => {
    const keys = JSON.parse(readFileSync(new URL('deeplab.torchvision-keys.json', dir), 'utf8')) as [
      string,
      number[],
    ][];
    expect(keys.length).toBe(362);
    const model = deeplabV3({ height: 65, width: 65 });
    expect([...model.params]).toEqual(keys.filter(([k]) => !k.endsWith('num_batches_tracked')));
    expect([...model.unused].sort()).toEqual(
      keys
        .map(([k]) => k)
        .filter((k) => k.endsWith('num_batches_tracked'))
        .sort(),
    );
  });

  it("v3 on MobileNetV3-Large at the default config declares torchvision deeplabv3_mobilenet_v3_large's names and shapes", () => {
    const keys = JSON.parse(readFileSync(new URL('deeplab.torchvision-mobilenet-keys.json', dir), 'utf8')) as [
      string,
      number[],
    ][];
    expect(keys.length).toBe(352);
    const model = deeplabV3({ height: 65, width: 65, backbone: { kind: 'mobilenet_v3_large' } });
    expect([...model.params]).toEqual(keys.filter(([k]) => !k.endsWith('num_batches_tracked')));
    expect([...model.unused].sort()).toEqual(
      keys
        .map(([k]) => k)
        .filter((k) => k.endsWith('num_batches_tracked'))
        .sort(),
    );
  });

  it('v3+ names: backbone.*, aspp.*, decoder.{reduce,fuse,classifier}', () => {
    const w = readSafetensors(file('deeplabv3plus_os16.safetensors'));
    const model = deeplabV3Plus({ ...CASES[3].opts, height: 65, width: 65 });
    expect(new Set([...model.params.keys(), ...model.unused])).toEqual(new Set(w.keys()));
    expect(model.params.get('decoder.fuse.3.weight')).toEqual([16, 16, 3, 3]);
    expect(model.params.get('decoder.reduce.0.weight')).toEqual([8, 16, 1, 1]);
  });
});

describe('DeepLab weights errors', () => {
  const c = CASES[1];
  const build = (o: Partial<DeepLabOptions> = {}) => c.build({ ...c.opts, height: 57, width: 75, ...o });
  const fail = (f: () => unknown): WgsegError => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(WgsegError);
      return e as WgsegError;
    }
    throw new Error('expected a WgsegError');
  };

  it('lists missing, unexpected and mis-shaped tensors', () => {
    const w = readSafetensors(file(`${c.name}.safetensors`));
    w.delete('backbone.layer3.0.conv2.weight');
    w.delete('classifier.0.convs.4.1.weight');
    w.set('classifier.5.weight', { ...w.get('classifier.4.weight')! });
    const e = fail(() => build({ classes: 6 }).load(w, 'broken.safetensors'));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toMatch(/^broken\.safetensors: weights do not fit deeplabv3/);
    expect(e.message).toMatch(/missing \(2\): backbone\.layer3\.0\.conv2\.weight, classifier\.0\.convs\.4\.1\.weight/);
    expect(e.message).toMatch(
      /mis-shaped \(2\): classifier\.4\.weight \[5,16,1,1\] \(model wants \[6,16,1,1\]\), classifier\.4\.bias \[5\] \(model wants \[6\]\)/,
    );
    expect(e.message).toMatch(/unexpected \(1\): classifier\.5\.weight/);
  });

  it('v3 weights do not load into v3+ (names differ), nor a Bottleneck file into BasicBlock', () => {
    const w = file(`${c.name}.safetensors`);
    expect(fail(() => deeplabV3Plus({ ...c.opts, height: 57, width: 75 }).load(w)).message).toMatch(
      /missing .*aspp\.convs\.0\.0\.weight.*unexpected .*classifier\.0\.convs/,
    );
    expect(fail(() => build({ backbone: { ...TINY.backbone, block: 'basic' } }).load(w)).message).toMatch(
      /unexpected .*backbone\.layer1\.0\.conv3\.weight/,
    );
  });

  it('a session without weights, and a bad output stride, are refused', async () => {
    await expect(build().session()).rejects.toThrow(/parameters have no weights .*call model\.load/);
    expect(fail(() => build({ outputStride: 32 as 16 })).code).toBe('BAD_ATTRIBUTE');
    expect(fail(() => build({ ...MOBILE, outputStride: 8 })).message).toMatch(
      /MobileNetV3 backbone has output stride 16 only/,
    );
  });
});
