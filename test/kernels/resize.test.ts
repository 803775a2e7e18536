import { describe, expect, it } from 'vitest';
import { gpu, runOp, type HostTensor } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { resizeRef, type ResizeOpts } from '../reference/resize';

const f32 = (v: number[]) => v.map(Math.fround);
const r = rng(5);

/** Run Resize with opts mapped onto ONNX inputs/attributes and compare with the f64 reference. */
async function check(shape: number[], o: ResizeOpts, label: string, dtype: 'f32' | 'f16' = 'f32') {
  const n = shape.reduce((a, b) => a * b);
  const x = r.array(n, -2, 2);
  const opts = { ...o, scales: o.scales && f32(o.scales), roi: o.roi && f32(o.roi) };
  const attrs: Record<string, string | number | number[]> = { mode: o.mode ?? 'nearest' };
  if (o.coord) attrs.coordinate_transformation_mode = o.coord;
  if (o.nearest) attrs.nearest_mode = o.nearest;
  if (o.a !== undefined) attrs.cubic_coeff_a = o.a;
  if (o.exclude) attrs.exclude_outside = 1;
  if (o.antialias) attrs.antialias = 1;
  if (o.extrap !== undefined) attrs.extrapolation_value = o.extrap;
  if (o.axes) attrs.axes = o.axes;
  if (o.keep) attrs.keep_aspect_ratio_policy = o.keep;
  const inputs: (HostTensor | undefined)[] = [
    { data: x, shape, dtype },
    opts.roi ? { data: opts.roi, shape: [opts.roi.length] } : undefined,
    opts.scales ? { data: opts.scales, shape: [opts.scales.length] } : { data: [], shape: [0] },
    o.sizes ? { data: o.sizes, shape: [o.sizes.length] } : undefined,
  ];
  const [y] = await runOp('Resize', inputs, attrs);
  const want = resizeRef(dtype === 'f16' ? x : Float32Array.from(x), shape, opts);
  expect(y.shape, label).toEqual(want.shape);
  expectClose(y.data, want.data, dtype === 'f16' ? TOL.f16 : TOL.f32, label);
}

const COORDS = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_crop_and_resize',
];
const ROI = [0.1, 0.25, 0.9, 1.15]; // H [0.1, 0.9], W [0.25, 1.15]: part of W extrapolates

describe('Resize: coordinate modes x modes, up and down by scales', () => {
  for (const coord of COORDS) {
    for (const mode of ['nearest', 'linear', 'cubic'] as const) {
      it(`${coord} ${mode}`, async () => {
        const roi = coord === 'tf_crop_and_resize' ? ROI : undefined;
        await check(
          [2, 3, 5, 6],
          { mode, coord, scales: [1.7, 2.3], axes: [2, 3], roi, extrap: 0.5 },
          `${coord}/${mode}/up`,
        );
        await check(
          [2, 3, 7, 9],
          { mode, coord, scales: [1, 1, 0.6, 0.45], roi: roi && [0, 0, roi[0], roi[1], 1, 1, roi[2], roi[3]] },
          `${coord}/${mode}/down`,
        );
      });
    }
  }
});

describe('Resize: by sizes', () => {
  for (const mode of ['nearest', 'linear', 'cubic'] as const) {
    it(`${mode} sizes up/down, stretch`, async () => {
      await check([2, 3, 5, 4], { mode, sizes: [2, 3, 9, 3] }, `${mode}/sizes`);
      await check([1, 2, 6, 7], { mode, coord: 'align_corners', sizes: [4, 11], axes: [2, 3] }, `${mode}/sizes/ac`);
      await check([1, 2, 6, 7], { mode, coord: 'pytorch_half_pixel', sizes: [1, 2, 3, 1] }, `${mode}/sizes/pt1`);
    });
  }
  for (const keep of ['not_larger', 'not_smaller'] as const) {
    it(`keep_aspect_ratio_policy ${keep}`, async () => {
      await check([2, 1, 4, 6], { mode: 'nearest', sizes: [7, 8], axes: [2, 3], keep }, `${keep}/up`);
      await check([2, 1, 5, 8], { mode: 'linear', sizes: [3, 3], axes: [3, 2], keep }, `${keep}/down`);
      await check(
        [1, 2, 5, 8],
        { mode: 'cubic', coord: 'half_pixel_symmetric', sizes: [4, 5], axes: [2, 3], keep },
        `${keep}/hps`,
      );
    });
  }
});

describe('Resize: nearest modes, cubic options, antialias, axes', () => {
  for (const nearest of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
    it(`nearest_mode ${nearest} (exact .5 ties)`, async () => {
      await check(
        [1, 2, 3, 5],
        { mode: 'nearest', nearest, coord: 'asymmetric', scales: [1, 1, 2, 4] },
        `${nearest}/asym`,
      );
      await check(
        [1, 2, 4, 4],
        { mode: 'nearest', nearest, coord: 'half_pixel', sizes: [1, 2, 8, 3] },
        `${nearest}/hp`,
      );
      await check(
        [1, 1, 4, 3],
        { mode: 'nearest', nearest, coord: 'align_corners', sizes: [7, 8], axes: [2, 3] },
        `${nearest}/ac`,
      );
    });
  }
  it('cubic_coeff_a -0.5 with exclude_outside', async () => {
    await check([2, 2, 4, 5], { mode: 'cubic', a: -0.5, exclude: true, scales: [1, 1, 2, 1.6] }, 'cubic/excl/up');
    await check([2, 2, 6, 7], { mode: 'cubic', a: -0.5, exclude: true, scales: [1, 1, 0.8, 0.6] }, 'cubic/excl/down');
  });
  for (const mode of ['linear', 'cubic'] as const) {
    it(`antialias ${mode}`, async () => {
      await check([2, 2, 9, 8], { mode, antialias: true, scales: [1, 1, 0.6, 0.35] }, `${mode}/aa/scales`);
      await check([1, 3, 7, 10], { mode, antialias: true, sizes: [3, 4], axes: [2, 3] }, `${mode}/aa/sizes`);
      await check(
        [1, 1, 4, 5],
        { mode, antialias: true, coord: 'align_corners', scales: [1, 1, 0.5, 2] },
        `${mode}/aa/mixed`,
      );
      await check([1, 1, 6, 6], { mode, antialias: true, exclude: true, scales: [1, 1, 0.5, 0.7] }, `${mode}/aa/excl`);
    });
  }
  it('axes: one trailing axis, reversed axes, negative axes, rank 3', async () => {
    await check([2, 3, 4, 5], { mode: 'linear', scales: [1.5], axes: [3] }, 'axes [3]');
    await check([2, 3, 4, 5], { mode: 'nearest', scales: [3, 2], axes: [3, 2] }, 'axes [3,2]');
    await check([2, 3, 4, 5], { mode: 'cubic', sizes: [6, 3], axes: [-2, -1] }, 'axes [-2,-1]');
    await check([3, 5, 6], { mode: 'linear', scales: [1, 0.5, 1.5] }, 'rank 3');
  });
  it('tf_crop_and_resize with axes and extrapolation_value', async () => {
    await check(
      [1, 2, 5, 5],
      { mode: 'linear', coord: 'tf_crop_and_resize', roi: [0.4, 0.6, 0.6, 0.8], sizes: [3, 3], axes: [2, 3] },
      'crop axes',
    );
    await check(
      [1, 2, 5, 5],
      {
        mode: 'linear',
        coord: 'tf_crop_and_resize',
        roi: [0, 0, 0.4, 0.6, 1, 1, 1.2, 1.7],
        sizes: [1, 2, 3, 3],
        extrap: 10,
      },
      'crop extrap',
    );
    await check(
      [1, 2, 5, 5],
      {
        mode: 'cubic',
        coord: 'tf_crop_and_resize',
        roi: [0.2, -0.1, 0.8, 0.6],
        scales: [0.8, 1.6],
        axes: [2, 3],
        extrap: -3,
      },
      'crop cubic',
    );
  });
  it('f16', async () => {
    if (!(await gpu()).info.f16) return expect((await gpu()).info.f16).toBe(false);
    await check([1, 2, 5, 6], { mode: 'cubic', scales: [1, 1, 1.5, 0.5] }, 'f16', 'f16');
  });
});

describe('Upsample (opset 7-9)', () => {
  it('nearest, integer scales as input (opset 9) and attribute (opset 7)', async () => {
    const x = r.array(2 * 3 * 3 * 4);
    const want = resizeRef(Float32Array.from(x), [2, 3, 3, 4], {
      mode: 'nearest',
      coord: 'asymmetric',
      nearest: 'floor',
      scales: [1, 1, 2, 3],
    });
    const [a] = await runOp(
      'Upsample',
      [
        { data: x, shape: [2, 3, 3, 4] },
        { data: [1, 1, 2, 3], shape: [4] },
      ],
      { mode: 'nearest' },
    );
    const [b] = await runOp('Upsample', [{ data: x, shape: [2, 3, 3, 4] }], { scales: [1, 1, 2, 3] });
    expect(a.shape).toEqual([2, 3, 6, 12]);
    expectClose(a.data, want.data, TOL.exact, 'upsample nearest input');
    expectClose(b.data, want.data, TOL.exact, 'upsample nearest attr');
    // repeat semantics: y[.., i, j] = x[.., floor(i/2), floor(j/3)]
    expect(a.data[12 * 5 + 7]).toBe(Math.fround(x[4 * 2 + 2]));
  });
  it('linear, fractional scales (asymmetric)', async () => {
    const x = r.array(2 * 2 * 3 * 5);
    const scales = f32([1, 1, 2, 1.5]);
    const [y] = await runOp(
      'Upsample',
      [
        { data: x, shape: [2, 2, 3, 5] },
        { data: scales, shape: [4] },
      ],
      { mode: 'linear' },
    );
    const want = resizeRef(Float32Array.from(x), [2, 2, 3, 5], { mode: 'linear', coord: 'asymmetric', scales });
    expect(y.shape).toEqual([2, 2, 6, 7]);
    expectClose(y.data, want.data, TOL.f32, 'upsample linear');
  });
});

describe('Resize errors', () => {
  const x = { data: new Float32Array(2 * 3 * 4 * 4), shape: [2, 3, 4, 4] };
  const none = { data: [], shape: [0] };
  it('rejects resizing N or C, bad inputs and attributes', async () => {
    await expect(
      runOp('Resize', [x, undefined, { data: [1, 2, 2, 2], shape: [4] }], { mode: 'linear' }),
    ).rejects.toThrow(/Resize: only the two trailing dims can be resized; dim 1/);
    await expect(runOp('Resize', [x, undefined, none, { data: [2, 4, 8, 8], shape: [4] }])).rejects.toMatchObject({
      code: 'BAD_SHAPE',
    });
    await expect(
      runOp('Resize', [x, undefined, { data: [2, 2], shape: [2] }, { data: [8, 8], shape: [2] }], { axes: [2, 3] }),
    ).rejects.toThrow(/exactly one of scales and sizes/);
    await expect(runOp('Resize', [x, undefined, none, undefined])).rejects.toMatchObject({ code: 'BAD_ATTRIBUTE' });
    await expect(runOp('Resize', [x, undefined, { data: [2, 2], shape: [2] }])).rejects.toThrow(
      /Resize: scales has 2 values for 4 axes/,
    );
    await expect(runOp('Resize', [x, undefined, { data: [1, 1, 2, 2], shape: [4] }], { mode: 'area' })).rejects.toThrow(
      /Resize: mode "area"/,
    );
    await expect(
      runOp('Resize', [x, undefined, { data: [1, 1, 2, 2], shape: [4] }], {
        coordinate_transformation_mode: 'tf_half_pixel_for_nn',
      }),
    ).rejects.toMatchObject({ code: 'BAD_ATTRIBUTE' });
    await expect(runOp('Resize', [x, undefined, { data: [1, 1, 0, 2], shape: [4] }])).rejects.toThrow(
      /scales must be > 0/,
    );
    await expect(runOp('Resize', [x, undefined, { data: [2, 2], shape: [2] }], { axes: [2, 4] })).rejects.toThrow(
      /Resize: axes/,
    );
    await expect(runOp('Upsample', [x, { data: [1, 1, 0.5, 2], shape: [4] }])).rejects.toThrow(
      /Upsample: scales must be >= 1/,
    );
    await expect(
      runOp('Resize', [
        { data: [1, 2], shape: [1, 1, 1, 2], dtype: 'i32' },
        undefined,
        { data: [1, 1, 1, 2], shape: [4] },
      ]),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED_DTYPE' });
  });
});
