import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder';
import { readNpy } from '../../src/import/npy';
import { readSafetensors } from '../../src/import/safetensors';
import { fcn, type FcnOptions } from '../../src/models/fcn';
import { bilinearKernel, crop } from '../../src/models/layers';
import type { Model } from '../../src/models/model';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { expectNetClose } from '../helpers/ort';
import { rng } from '../helpers/random';

/**
 * FCN-32s/16s/8s built in TS vs the PyTorch module (tools/refs/fcn.py, wkentaro/pytorch-fcn names
 * and forward) with fixed random weights: VGG widths scaled 1/32 (2/4/8/16/16, fc 128), 5 classes,
 * non-square inputs; fixtures from `npm run refs`, the f32 rule.
 */
const FIX = new URL('../fixtures/models/', import.meta.url);
const file = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));
const SMALL = { classes: 5, channelScale: 1 / 32 };

async function run(
  model: Model,
  x: { data: Float32Array; dims: number[] },
): Promise<{ data: Float32Array; shape: number[] }> {
  const rt = await gpu();
  const s = await model.session({ device: rt });
  try {
    const before = rt.submits;
    const out = (await s.run({ input: x })).logits;
    expect(rt.submits - before, 'submits per run').toBe(1);
    const data = (await out.read()) as Float32Array;
    out.dispose();
    return { data, shape: out.shape };
  } finally {
    s.dispose();
  }
}

async function check(name: string, o: FcnOptions) {
  const x = readNpy(file(`${name}.input.npy`)),
    ref = readNpy(file(`${name}.output.npy`));
  const got = await run(fcn(o).load(file(`${name}.safetensors`), `${name}.safetensors`), {
    data: x.data as Float32Array,
    dims: x.shape,
  });
  expect(got.shape).toEqual(ref.shape);
  const { maxAbsErr, worst } = expectNetClose(got.data, ref.data as Float32Array, name);
  console.log(
    `${name} [${ref.shape}]: max abs err ${maxAbsErr.toExponential(2)}, ${(worst * 100).toFixed(1)}% of the allowed error`,
  );
}

/** The crop offsets (Slice starts) of a built FCN, in graph order. */
function cropOffsets(m: Model): number[] {
  return m.graph.nodes
    .filter((n) => n.op === 'Slice')
    .map((n) => Array.from(m.graph.values.get(n.inputs[1])!.data!))
    .map(([top, left]) => (expect(top).toBe(left), top));
}

/**
 * The interpolation a bilinear-initialised transposed convolution performs, derived: kernel
 * k = 2s, f = ceil(k/2) = s, centre s - 1/2, so tap t weighs w[t] = 1 - |t - s + 1/2| / s. Output
 * o = s*i + r (0 <= r < s) gets x[i] through tap r and x[i-1] through tap r + s:
 * y[o] = (1 - (r + 1/2)/s) x[i-1] + ((r + 1/2)/s) x[i] — linear interpolation of x, extended by
 * zeros, at p = (o + 1/2)/s - 1 (2-D: the product of the two axes, i.e. bilinear). After FCN's crop
 * at offset `off`, output pixel y samples p = (y + off + 1/2)/s - 1. For FCN-8s (s 8, off 31) that
 * is p = (y + 23.5)/8, the 1/8 map's own Caffe coordinate of pixel y's centre: half-pixel sampling
 * (pixel centres, scale exactly 1/8; not align_corners) shifted by the network's geometry — ONNX
 * half_pixel would be (y + 0.5)/8 - 0.5. With pad 100 every p lies in the interior [0, n-1], where
 * the zero extension never enters and this is exact bilinear interpolation of the score map.
 */
function bilinearRef(
  x: ArrayLike<number>,
  dims: number[],
  s: number,
  off: number,
  oh: number,
  ow: number,
): { data: Float64Array; interior: boolean } {
  const [n, c, h, w] = dims,
    out = new Float64Array(n * c * oh * ow);
  let interior = true;
  const taps = (o: number, len: number): [number, number][] => {
    const p = (o + off + 0.5) / s - 1,
      i = Math.floor(p),
      t = p - i;
    if (p < 0 || p > len - 1) interior = false;
    return (
      [
        [i, 1 - t],
        [i + 1, t],
      ] as [number, number][]
    ).filter(([j]) => j >= 0 && j < len);
  };
  for (let b = 0; b < n * c; b++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++) {
        let v = 0;
        for (const [iy, wy] of taps(y, h)) for (const [ix, wx] of taps(xo, w)) v += wy * wx * x[(b * h + iy) * w + ix];
        out[(b * oh + y) * ow + xo] = v;
      }
  return { data: out, interior };
}

describe('models/fcn vs PyTorch', () => {
  it('FCN-32s, 50x37', () => check('fcn32s', { ...SMALL, variant: '32s', height: 50, width: 37 }));
  it('FCN-16s, 32x45', () => check('fcn16s', { ...SMALL, variant: '16s', height: 32, width: 45 }));
  it('FCN-8s, 45x61', () => check('fcn8s', { ...SMALL, variant: '8s', height: 45, width: 61 }));

  it('FCN-8s at batch 2 (symbolic batch dim): each image matches PyTorch', async () => {
    const x = readNpy(file('fcn8s.input.npy')),
      ref = readNpy(file('fcn8s.output.npy'));
    const xd = x.data as Float32Array,
      rd = ref.data as Float32Array;
    const two = new Float32Array(2 * xd.length);
    two.set(xd);
    two.set(
      xd.map((v) => -v),
      xd.length,
    ); // second image: the negated input, whose output differs
    const model = fcn({ ...SMALL, height: 45, width: 61 }).load(file('fcn8s.safetensors'));
    const got = await run(model, { data: two, dims: [2, ...x.shape.slice(1)] });
    expect(got.shape).toEqual([2, ...ref.shape.slice(1)]);
    expectNetClose(got.data.subarray(0, rd.length), rd, 'fcn8s batch 2, image 0');
    const one = await run(model, { data: two.subarray(xd.length), dims: x.shape });
    expectNetClose(got.data.subarray(rd.length), one.data, 'fcn8s batch 2, image 1 vs the same image alone');
  });

  it('crop offsets are Caffe coord_map: 19 / 5, 27 / 5, 9, 31 at pad 100; conv1_1 pad p shifts only the last (p - 81, p - 73, p - 69)', () => {
    const at = (variant: FcnOptions['variant'], pad = 100, size = 64) =>
      cropOffsets(fcn({ ...SMALL, variant, pad, height: size, width: size }));
    expect([at('32s'), at('16s'), at('8s')]).toEqual([[19], [5, 27], [5, 9, 31]]);
    expect([at('32s', 90, 200), at('16s', 80, 200), at('8s', 69, 200)]).toEqual([[9], [5, 7], [5, 9, 0]]);
    expect(() => at('8s', 60, 300)).toThrow(/upscore8 crop.*offset -9/);
    expect(() => at('32s', 0, 100)).toThrow(/pool5 is 4x4, fc6 needs 7x7/);
    expect(() => fcn({ ...SMALL, variant: '4s' as '8s', height: 8, width: 8 })).toThrow(/variant "4s"/);
    // pad 100 makes any size work, down to 1x1
    expect(at('8s', 100, 1)).toEqual([5, 9, 31]);
  });
});

describe('models/fcn bilinear upsampling', () => {
  it('a bilinear-initialised ConvTranspose (k 2s, stride s), cropped as FCN does, is exact bilinear interpolation', async () => {
    const rt = await gpu();
    const r = rng(7);
    for (const [s, off, n, oh, ow] of [
      [2, 0, 5, 12, 12],
      [8, 31, 9, 45, 40],
      [32, 19, 4, 50, 37],
      [16, 27, 5, 32, 45],
    ]) {
      const dims = [1, 3, n, n + 1],
        x = Float32Array.from({ length: 3 * n * (n + 1) }, () => r.uniform());
      const b = new GraphBuilder(`upscore s${s}`);
      const w = b.param('upscore.weight', [3, 3, 2 * s, 2 * s], bilinearKernel(3, 2 * s));
      const up = b.op('ConvTranspose', [b.input('score', dims), w], { kernel_shape: [2 * s, 2 * s], strides: [s, s] });
      // the transposed conv's output is (n + 1) s by (n + 2) s; crop what fits
      const [h, wd] = [Math.min(oh, (n + 1) * s - off), Math.min(ow, (n + 2) * s - off)];
      b.output(crop(b, up, off, off, h, wd), 'y');
      const sess = await Session.create(b.build(), { device: rt });
      try {
        const y = (await sess.run({ score: { data: x, dims } })).y;
        const ref = bilinearRef(x, dims, s, off, h, wd);
        const { maxAbsErr } = expectNetClose((await y.read()) as Float32Array, ref.data, `s${s} off ${off}`);
        console.log(
          `bilinear ConvTranspose s${s} crop ${off} ${n}x${n + 1} -> ${h}x${wd}: max abs err vs f64 interpolation ${maxAbsErr.toExponential(2)} (${ref.interior ? 'interior only' : 'zero-extended edges included'})`,
        );
        y.dispose();
      } finally {
        sess.dispose();
      }
    }
  });

  it('FCN-8s with no upscore weights given: bilinear upscore layers (= PyTorch get_upsampling_weight), output = exact bilinear interpolation of the fused 1/8 score map', async () => {
    const w = readSafetensors(file('fcn8s.safetensors'));
    for (const k of [...w.keys()]) if (k.startsWith('upscore')) w.delete(k);
    const x = readNpy(file('fcn8s.input.npy')),
      fused = readNpy(file('fcn8s_bilinear.fused.npy'));
    const torchOut = readNpy(file('fcn8s_bilinear.output.npy'));
    const got = await run(
      fcn({ ...SMALL, height: 45, width: 61 }).load(w, 'fcn8s without upscore', { partial: true }),
      { data: x.data as Float32Array, dims: x.shape },
    );
    const a = expectNetClose(got.data, torchOut.data as Float32Array, 'fcn8s bilinear vs PyTorch');
    const ref = bilinearRef(fused.data as Float32Array, fused.shape, 8, 31, 45, 61);
    expect(ref.interior, 'every sample point inside the score map').toBe(true);
    const bi = expectNetClose(got.data, ref.data, 'fcn8s output vs f64 bilinear interpolation of the fused map');
    console.log(
      `fcn8s bilinear: max abs err ${a.maxAbsErr.toExponential(2)} vs PyTorch, ${bi.maxAbsErr.toExponential(2)} vs f64 bilinear of PyTorch's fused [${fused.shape}] map`,
    );
  });
});

describe('models/fcn weights', () => {
  it('parameter names and shapes of the real networks (21 classes, VGG16 widths) are pytorch-fcn state_dict keys, in order', () => {
    const names = JSON.parse(readFileSync(new URL('fcn.names.json', FIX), 'utf8')) as Record<
      string,
      [string, number[]][]
    >;
    for (const variant of ['32s', '16s', '8s'] as const) {
      const m = fcn({ variant, height: 64, width: 64 });
      expect([...m.params], variant).toEqual(names[variant]);
      expect(m.unused.size).toBe(0);
    }
  });

  it('missing, unexpected and mis-shaped weights are listed', () => {
    const w = readSafetensors(file('fcn16s.safetensors'));
    w.delete('conv3_2.weight');
    w.set('upscore8.weight', { ...w.get('upscore2.weight')! });
    w.set('score_pool4.weight', { ...w.get('score_pool4.weight')!, shape: [5, 16, 1, 2] });
    const m = () => fcn({ ...SMALL, variant: '16s', height: 32, width: 45 });
    expect(() => m().load(w, 'bad.safetensors')).toThrow(
      /bad\.safetensors.*fcn16s.*missing \(1\): conv3_2\.weight.*mis-shaped \(1\): score_pool4\.weight \[5,16,1,2\] \(model wants \[5,16,1,1\]\).*unexpected \(1\): upscore8\.weight/,
    );
    // the 8s weights are not the 16s network's: score_pool3, upscore8, upscore_pool4 are unexpected
    expect(() => m().load(file('fcn8s.safetensors'), 'fcn8s.safetensors')).toThrow(
      /unexpected \(4\): score_pool3\.weight, score_pool3\.bias, upscore8\.weight, upscore_pool4\.weight$/,
    );
  });

  it('a model without weights refuses to make a session (the upscore layers alone are initialised)', async () => {
    const m = fcn({ ...SMALL, height: 16, width: 16 });
    expect(m.unloaded).not.toContain('upscore8.weight');
    await expect(m.session({ device: await gpu() })).rejects.toThrow(/parameters have no weights.*conv1_1\.weight/);
  });
});
