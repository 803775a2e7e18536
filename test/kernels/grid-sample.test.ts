import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { runOp, gpu } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { affineGridRef, gridSampleRef, type GridSampleOpts } from '../reference/grid-sample';

// Interpolation weights come from f32 coordinates on the GPU: a few ulps of a coordinate times the
// data slope, so the reduction tolerance.
const tol = TOL.f32Reduce;

/** grid values in [-1.6, 1.6] plus the exact corners and a few far-out points (multiple reflections) */
function makeGrid(r: ReturnType<typeof rng>, n: number, ho: number, wo: number): Float32Array {
  const g = Float32Array.from(r.array(n * ho * wo * 2, -1.6, 1.6));
  const special = [-1, 1, 0, -3.7, 4.2, 1.05, -1.05, 2.5];
  for (let i = 0; i < special.length; i++) g[(i * 7) % g.length] = special[i];
  return g;
}

describe('GridSample', () => {
  const r = rng(7);
  const modes: [string, GridSampleOpts['mode']][] = [
    ['bilinear', 'linear'],
    ['nearest', 'nearest'],
    ['bicubic', 'cubic'],
  ];
  for (const [mi, [name, mode]] of modes.entries()) {
    for (const padding of ['zeros', 'border', 'reflection'] as const) {
      for (const align of [0, 1]) {
        it(`${mode} ${padding} align_corners=${align}`, async () => {
          const xs = [2, 3, 5, 7],
            gs = [2, 4, 6, 2];
          const x = Float32Array.from(
            r.array(
              xs.reduce((a, b) => a * b),
              -2,
              2,
            ),
          );
          const grid = makeGrid(r, 2, 4, 6);
          // opset 16 spelling for even padding index, opset 20 spelling otherwise
          const attrMode = (mi + align) % 2 === 0 ? name : mode;
          const [y] = await runOp(
            'GridSample',
            [
              { data: x, shape: xs },
              { data: grid, shape: gs },
            ],
            { mode: attrMode, padding_mode: padding, align_corners: align },
          );
          expect(y.shape).toEqual([2, 3, 4, 6]);
          expectClose(
            y.data,
            gridSampleRef(x, xs, grid, gs, { mode, padding, align: align === 1 }),
            tol,
            `${mode}/${padding}/${align}`,
          );
        });
      }
    }
  }

  it('nearest rounds half to even', async () => {
    // W = 4, align_corners=0: x = ((g+1)*4 - 1)/2, so g = -0.5, 0, 0.5, 1 -> 0.5, 1.5, 2.5, 3.5 (exact in f32)
    // -> 0, 2, 2, 4 (outside: zeros padding gives 0, border gives x[3])
    const x = Float32Array.from([10, 11, 12, 13]);
    const grid = Float32Array.from([-0.5, 0, 0, 0, 0.5, 0, 1, 0]);
    const run = (padding_mode: string) =>
      runOp(
        'GridSample',
        [
          { data: x, shape: [1, 1, 1, 4] },
          { data: grid, shape: [1, 1, 4, 2] },
        ],
        { mode: 'nearest', padding_mode },
      );
    expectClose((await run('zeros'))[0].data, [10, 12, 12, 0], TOL.exact, 'nearest ties zeros');
    expectClose((await run('border'))[0].data, [10, 12, 12, 13], TOL.exact, 'nearest ties border');
  });

  it('f16', async () => {
    if (!(await gpu()).info.f16) return expect((await gpu()).info.f16).toBe(false);
    const xs = [1, 2, 4, 5],
      gs = [1, 3, 3, 2];
    const x = r.array(40, -2, 2),
      grid = makeGrid(r, 1, 3, 3);
    const [y] = await runOp(
      'GridSample',
      [
        { data: x, shape: xs, dtype: 'f16' },
        { data: grid, shape: gs, dtype: 'f16' },
      ],
      { mode: 'linear', padding_mode: 'border' },
    );
    expectClose(
      y.data,
      gridSampleRef(x, xs, Float32Array.from(grid), gs, { mode: 'linear', padding: 'border', align: false }),
      TOL.f16,
      'f16',
    );
  });

  it('identity affine grid reproduces the input (AffineGrid -> GridSample)', async () => {
    for (const align of [0, 1]) {
      const x = Float32Array.from(r.array(2 * 3 * 5 * 6));
      const theta = [1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0];
      const [g] = await runOp(
        'AffineGrid',
        [
          { data: theta, shape: [2, 2, 3] },
          { data: [2, 3, 5, 6], shape: [4] },
        ],
        { align_corners: align },
      );
      const [y] = await runOp(
        'GridSample',
        [
          { data: x, shape: [2, 3, 5, 6] },
          { data: g.data, shape: g.shape },
        ],
        { align_corners: align },
      );
      expectClose(y.data, x, TOL.f32, `identity align=${align}`);
    }
  });

  it('rejects bad shapes and attributes', async () => {
    const x = { data: new Float32Array(24), shape: [1, 1, 2, 3, 4] };
    await expect(runOp('GridSample', [x, { data: new Float32Array(3), shape: [1, 1, 1, 1, 3] }])).rejects.toThrow(
      /GridSample: volumetric/,
    );
    const x4 = { data: new Float32Array(6), shape: [1, 1, 2, 3] };
    await expect(runOp('GridSample', [x4, { data: new Float32Array(6), shape: [1, 1, 2, 3] }])).rejects.toThrow(
      /GridSample: grid must be/,
    );
    await expect(
      runOp('GridSample', [x4, { data: new Float32Array(4), shape: [1, 1, 2, 2] }], { mode: 'area' }),
    ).rejects.toThrow(/GridSample: mode "area"/);
    await expect(
      runOp('GridSample', [x4, { data: new Float32Array(4), shape: [1, 1, 2, 2] }], { padding_mode: 'wrap' }),
    ).rejects.toMatchObject({ code: 'BAD_ATTRIBUTE' });
    await expect(
      runOp('GridSample', [x4, { data: new Float32Array(4), shape: [1, 1, 2, 2] }], { align_corners: 2 }),
    ).rejects.toBeInstanceOf(WgsegError);
  });
});

describe('AffineGrid', () => {
  const r = rng(11);
  for (const align of [0, 1]) {
    for (const size of [
      [2, 3, 5, 6],
      [2, 1, 7, 3],
      [1, 2, 1, 4],
    ]) {
      if (align === 1 && size.includes(1)) continue; // size-1 axes with align_corners are tested through torch's 0 below
      it(`align_corners=${align} size [${size}]`, async () => {
        const theta = Float32Array.from(r.array(size[0] * 6, -1.5, 1.5));
        const [g] = await runOp(
          'AffineGrid',
          [
            { data: theta, shape: [size[0], 2, 3] },
            { data: size, shape: [4] },
          ],
          { align_corners: align },
        );
        expect(g.shape).toEqual([size[0], size[2], size[3], 2]);
        expectClose(g.data, affineGridRef(theta, size, align === 1), TOL.f32, `affine ${align}`);
      });
    }
  }

  it('size-1 axis with align_corners=1 maps to 0 (torch linspace of one step)', async () => {
    const theta = [2, 3, 0.5, -1, 4, 0.25];
    const [g] = await runOp(
      'AffineGrid',
      [
        { data: theta, shape: [1, 2, 3] },
        { data: [1, 1, 1, 1], shape: [4] },
      ],
      { align_corners: 1 },
    );
    expectClose(g.data, [0.5, 0.25], TOL.exact, 'size 1');
  });

  it('rejects 3-D and mismatched theta', async () => {
    await expect(
      runOp('AffineGrid', [
        { data: new Float32Array(24), shape: [2, 3, 4] },
        { data: [2, 1, 3, 4, 5], shape: [5] },
      ]),
    ).rejects.toThrow(/AffineGrid: 3-D/);
    await expect(
      runOp('AffineGrid', [
        { data: new Float32Array(6), shape: [1, 2, 3] },
        { data: [2, 1, 4, 5], shape: [4] },
      ]),
    ).rejects.toMatchObject({ code: 'BAD_SHAPE' });
  });
});
