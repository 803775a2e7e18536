// Every GridSample and Resize / Upsample kernel variant forced on the test adapters (lavapipe,
// SwiftShader) against the f64 references: every GridSample mode x padding x align_corners, sizes
// that are and are not multiples of 4 (where 'pixel-x4' does not apply), batch; Resize in every
// mode and coordinate transform, up- and downsampling (the x4 kernel's shared window and its direct
// path), odd widths (partial last group of 4), tf_crop_and_resize extrapolation, Upsample, and f16
// where the adapter has it.
// adapters() is this process's adapter: `npm test` runs the file on lavapipe and again in the
// 'swiftshader' project (vite.config.ts).
import { describe, expect, it, vi } from 'vitest';
import { fromHalf, toHalf, type DType } from '../../src/core/dtype';
import type { Runtime } from '../../src/gpu/runtime';
import { adapters, runOp, variantsOf, type HostTensor } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { gridSampleRef, type GridSampleOpts } from '../reference/grid-sample';
import { resizeRef, type ResizeOpts } from '../reference/resize';

const r = rng(23);
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const q = (dtype: DType) => (v: number) => (dtype === 'f16' ? fromHalf(toHalf(v)) : Math.fround(v));

async function gridSample(
  rt: Runtime,
  variant: string,
  xs: number[],
  [ho, wo]: number[],
  o: GridSampleOpts,
  dtype: DType = 'f32',
) {
  const gs = [xs[0], ho, wo, 2];
  const x = Array.from(r.array(numel(xs), -2, 2), q(dtype));
  const grid = Array.from(r.array(numel(gs), -1.6, 1.6), q(dtype));
  // exact corners and far-out points (several reflections)
  [-1, 1, 0, -3.5, 4.25, 1.0625, -1.0625, 2.5].forEach((v, i) => (grid[(i * 7) % grid.length] = v));
  const ins = [
    { data: x, shape: xs, dtype },
    { data: grid, shape: gs, dtype },
  ];
  const attrs = { mode: o.mode, padding_mode: o.padding, align_corners: o.align ? 1 : 0 };
  const ok = await variantsOf('GridSample', ins, attrs, rt);
  expect(ok).toEqual((ho * wo) % 4 === 0 ? ['pixel', 'pixel-x4'] : ['pixel']);
  if (!ok.includes(variant)) return;
  const [y] = await runOp('GridSample', ins, attrs, [], { variant, rt });
  const label = `${rt.info.adapter} ${variant} ${dtype} GridSample [${xs}] -> ${ho}x${wo} ${JSON.stringify(o)}`;
  expect(y.shape, label).toEqual([xs[0], xs[1], ho, wo]);
  expectClose(y.data, gridSampleRef(x, xs, grid, gs, o), dtype === 'f16' ? TOL.f16 : TOL.f32Reduce, label);
}

describe.each(['pixel', 'pixel-x4'])('GridSample variant %s', (variant) => {
  it('every mode, padding and align_corners; batch; sizes with and without Ho*Wo % 4 == 0', async () => {
    for (const [, rt] of await adapters()) {
      for (const mode of ['nearest', 'linear', 'cubic'] as const)
        for (const padding of ['zeros', 'border', 'reflection'] as const)
          for (const align of [false, true])
            await gridSample(rt, variant, [2, 3, 5, 7], [4, 6], { mode, padding, align });
      await gridSample(rt, variant, [1, 2, 6, 5], [3, 5], { mode: 'linear', padding: 'zeros', align: false }); // 15 pixels
      await gridSample(rt, variant, [2, 1, 9, 4], [7, 4], { mode: 'cubic', padding: 'border', align: false });
    }
  });
  it('f16 where the adapter has it', async () => {
    for (const [, rt] of await adapters()) {
      if (!rt.info.f16) continue;
      await gridSample(rt, variant, [1, 2, 4, 5], [4, 3], { mode: 'linear', padding: 'border', align: false }, 'f16');
      await gridSample(rt, variant, [2, 3, 5, 6], [2, 6], { mode: 'cubic', padding: 'reflection', align: true }, 'f16');
    }
  });
});

async function resize(
  rt: Runtime,
  variant: string,
  shape: number[],
  o: ResizeOpts & { window?: boolean },
  dtype: DType = 'f32',
  upsample = false,
) {
  const x = Array.from(r.array(numel(shape), -2, 2), q(dtype));
  const f32 = (v?: number[]) => v?.map(Math.fround);
  const opts = { ...o, scales: f32(o.scales), roi: f32(o.roi) };
  const attrs: Record<string, string | number | number[]> = { mode: o.mode ?? 'nearest' };
  if (o.coord) attrs.coordinate_transformation_mode = o.coord;
  if (o.nearest) attrs.nearest_mode = o.nearest;
  if (o.exclude) attrs.exclude_outside = 1;
  if (o.antialias) attrs.antialias = 1;
  if (o.extrap !== undefined) attrs.extrapolation_value = o.extrap;
  const op = upsample ? 'Upsample' : 'Resize';
  const inputs: (HostTensor | undefined)[] = upsample
    ? [
        { data: x, shape, dtype },
        { data: opts.scales!, shape: [4] },
      ]
    : [
        { data: x, shape, dtype },
        opts.roi ? { data: opts.roi, shape: [opts.roi.length] } : undefined,
        opts.scales ? { data: opts.scales, shape: [opts.scales.length] } : { data: [], shape: [0] },
        o.sizes ? { data: o.sizes, shape: [o.sizes.length] } : undefined,
      ];
  const ok = await variantsOf(op, inputs, attrs, rt);
  expect(ok).toEqual(o.antialias ? ['pixel'] : ['window-x4', 'pixel', 'row-x4']);
  if (!ok.includes(variant)) return;
  const spy = vi.spyOn(rt, 'dispatch');
  const shaders: string[] = [];
  const [y] = await runOp(op, inputs, attrs, [], { variant, rt }).finally(() => {
    shaders.push(...spy.mock.calls.map(([p]) => p.shader));
    spy.mockRestore();
  });
  // window-x4 runs its own kernel where the taps fit 4-column windows, else the pixel kernel
  if (variant === 'window-x4' && o.window !== undefined)
    expect(shaders, 'window-x4 kernel').toContain(o.window ? 'resize/resize-win4.wgsl' : 'resize/resize.wgsl');
  const want = resizeRef(x, shape, upsample ? { ...opts, coord: 'asymmetric', nearest: 'floor' } : opts);
  const label = `${rt.info.adapter} ${variant} ${dtype} ${op} [${shape}] ${JSON.stringify(o)}`;
  expect(y.shape, label).toEqual(want.shape);
  expectClose(y.data, want.data, dtype === 'f16' ? TOL.f16 : TOL.f32Reduce, label);
}

describe.each(['pixel', 'row-x4', 'window-x4'])('Resize variant %s', (variant) => {
  it('modes x coordinate transforms, up and down, odd widths, extrapolation, Upsample', async () => {
    for (const [name, rt] of await adapters()) {
      const big = !/swiftshader/i.test(name);
      const coords = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'half_pixel_symmetric'];
      for (const mode of ['nearest', 'linear', 'cubic'] as const)
        for (const coord of coords) await resize(rt, variant, [1, 2, 5, 7], { mode, coord, scales: [1, 1, 2, 3] });
      await resize(rt, variant, [1, 3, 4, 4], { mode: 'linear', scales: [1, 1, 8, 8] }); // x8: shared window
      await resize(rt, variant, [2, 1, 6, 9], { mode: 'cubic', sizes: [2, 1, 5, 11] }); // odd width: partial group
      await resize(rt, variant, [1, 2, 8, 30], { mode: 'linear', scales: [1, 1, 0.5, 0.25] }); // wide spread: direct loads
      await resize(rt, variant, [1, 1, 7, 33], { mode: 'nearest', nearest: 'ceil', sizes: [1, 1, 3, 5] });
      await resize(rt, variant, [1, 2, 5, 6], { mode: 'cubic', exclude: true, scales: [1, 1, 1.5, 1.7] });
      await resize(rt, variant, [1, 2, 5, 6], {
        mode: 'linear',
        coord: 'tf_crop_and_resize',
        roi: [0, 0, -0.2, 0.1, 1, 1, 1.3, 0.8],
        sizes: [1, 2, 7, 9],
        extrap: 3.5,
      });
      await resize(rt, variant, [1, 2, 6, 8], { mode: 'linear', antialias: true, scales: [1, 1, 0.5, 0.5] });
      await resize(rt, variant, [2, 3, 3, 4], { mode: 'linear', scales: [1, 1, 2, 3] }, 'f32', true); // Upsample
      if (big) await resize(rt, variant, [1, 21, 8, 9], { mode: 'linear', scales: [1, 1, 8, 8], window: true });
      // where 4 outputs' taps fit a 4-column window (window-x4's own kernel), and where they do not
      await resize(rt, variant, [2, 3, 5, 6], { mode: 'linear', scales: [1, 1, 2, 2], window: true });
      await resize(rt, variant, [1, 2, 5, 7], {
        mode: 'linear',
        coord: 'align_corners',
        sizes: [1, 2, 9, 12],
        window: true,
      });
      await resize(rt, variant, [1, 1, 3, 5], { mode: 'nearest', sizes: [1, 1, 12, 20], window: true });
      await resize(rt, variant, [1, 2, 3, 5], { mode: 'cubic', scales: [1, 1, 8, 8], window: true });
      await resize(rt, variant, [1, 2, 4, 3], { mode: 'linear', scales: [1, 1, 8, 8], window: false }); // input narrower than 4
      await resize(rt, variant, [1, 2, 4, 8], { mode: 'cubic', scales: [1, 1, 2, 2], window: false }); // taps span 5
      await resize(rt, variant, [1, 2, 4, 9], { mode: 'linear', scales: [1, 1, 2, 2], window: false }); // width 18
    }
  });
  it('f16 where the adapter has it', async () => {
    for (const [, rt] of await adapters()) {
      if (!rt.info.f16) continue;
      await resize(rt, variant, [1, 2, 4, 5], { mode: 'linear', scales: [1, 1, 8, 8], window: true }, 'f16');
      await resize(rt, variant, [1, 2, 5, 3], { mode: 'cubic', sizes: [1, 2, 9, 7] }, 'f16');
    }
  });
});
