import { describe, expect, it } from 'vitest';
import type { DType } from '../../src/core/dtype';
import { kernelFor } from '../../src/kernels/registry';
import type { Attrs } from '../../src/core/attrs';
import { gpu, runOp, type HostTensor } from '../helpers/gpu';
import { rng, type Rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import {
  castRef,
  concatRef,
  depthToSpaceRef,
  expandRef,
  gatherRef,
  padRef,
  sliceRef,
  spaceToDepthRef,
  tileRef,
  transposeRef,
  type Ref,
} from '../reference/layout';

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const r = rng(11);
/** Distinct-ish values so that any misplaced element shows. */
const tensor = (shape: number[], dtype: DType = 'f32', g: Rng = r): HostTensor & Ref => ({
  shape,
  dtype,
  data:
    dtype === 'f32' || dtype === 'f16'
      ? Array.from(g.array(numel(shape), -64, 64), (v) => Math.round(v * 16) / 16)
      : Array.from({ length: numel(shape) }, () => g.int(dtype === 'u32' ? 0 : -1000, 1000)),
});
const ints = (v: number[]) => ({ data: v, shape: [v.length] });

async function check(op: string, inputs: (HostTensor | undefined)[], attrs: Attrs, want: Ref, label = op) {
  const [y] = await runOp(op, inputs, attrs);
  expect(y.shape, `${label}: shape`).toEqual(want.shape);
  expectClose(y.data, want.data, TOL.exact, label);
  return y;
}

function permutations(xs: number[]): number[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('Transpose', () => {
  it('all 24 perms of a 4-D tensor', async () => {
    const x = tensor([2, 3, 4, 5]);
    for (const perm of permutations([0, 1, 2, 3]))
      await check('Transpose', [x], { perm }, transposeRef(x, perm), `perm ${perm}`);
  });
  it('default reverses the dims; 6-D; i32 and f16', async () => {
    const x = tensor([2, 3, 5]);
    await check('Transpose', [x], {}, transposeRef(x, [2, 1, 0]));
    const six = tensor([2, 1, 3, 2, 2, 3], 'i32');
    await check('Transpose', [six], { perm: [5, 2, 0, 4, 1, 3] }, transposeRef(six, [5, 2, 0, 4, 1, 3]));
    if ((await gpu()).info.f16) {
      const h = tensor([3, 5, 7], 'f16');
      await check('Transpose', [h], { perm: [1, 2, 0] }, transposeRef(h, [1, 2, 0]));
    }
  });
});

describe('Slice', () => {
  const BIG = 9223372036854775807;
  it('opset 10+: starts/ends/axes/steps inputs, negative steps and axes, clamping', async () => {
    const x = tensor([4, 5, 6]);
    const cases: [number[], number[], number[] | undefined, number[] | undefined][] = [
      [[1, 0], [3, 4], undefined, undefined],
      [
        [0, 1, 2],
        [-1, 1000, 6],
        [0, 1, 2],
        [1, 2, 3],
      ],
      [[-1], [-BIG], [-1], [-1]], // full reverse of the last axis
      [
        [10, -2],
        [-10, 0],
        [1, 2],
        [-2, -1],
      ], // starts past the end clamp to dim-1 for negative steps
      [
        [-100, 2],
        [BIG, -1],
        [-3, -2],
        [1, 1],
      ],
      [[3], [1], [0], [1]], // empty
      [
        [2, 5],
        [-BIG, -7],
        [0, 1],
        [-1, -2],
      ],
    ];
    for (const [starts, ends, axes, steps] of cases) {
      const host = [x, ints(starts), ints(ends), axes && ints(axes), steps && ints(steps)];
      await check(
        'Slice',
        host,
        {},
        sliceRef(x, starts, ends, axes, steps),
        `Slice ${starts}:${ends}:${axes}:${steps}`,
      );
    }
  });
  it('random slices', async () => {
    for (let t = 0; t < 6; t++) {
      const shape = Array.from({ length: r.int(1, 4) }, () => r.int(1, 6));
      const x = tensor(shape, t % 2 ? 'i32' : 'f32');
      const axes = [...shape.keys()].filter(() => r.next() < 0.7).map((a) => (r.next() < 0.5 ? a - shape.length : a));
      const starts = axes.map(() => r.int(-8, 8)),
        ends = axes.map(() => r.int(-8, 8)),
        steps = axes.map(() => r.pick([-3, -2, -1, 1, 2, 3]));
      await check(
        'Slice',
        [x, ints(starts), ints(ends), ints(axes), ints(steps)],
        {},
        sliceRef(x, starts, ends, axes, steps),
        `Slice [${shape}] ${starts}:${ends}:${axes}:${steps}`,
      );
    }
  });
  it('opset < 10 attributes', async () => {
    const x = tensor([3, 4, 5]);
    await check(
      'Slice',
      [x],
      { starts: [1, -3], ends: [100, -1], axes: [2, 0] },
      sliceRef(x, [1, -3], [100, -1], [2, 0]),
    );
  });
});

describe('Pad', () => {
  for (const mode of ['constant', 'reflect', 'edge', 'wrap']) {
    it(`${mode}: random pads incl. negative (crop)`, async () => {
      for (let t = 0; t < 4; t++) {
        const shape = Array.from({ length: r.int(1, 4) }, () => r.int(2, 5));
        const x = tensor(shape, t % 2 ? 'i32' : 'f32');
        // reflect pads stay below the (cropped) dim, as ONNX requires
        const pads = [...shape, ...shape].map(() => (mode === 'reflect' ? r.int(-1, 1) : r.int(-1, 3)));
        const value = mode === 'constant' ? r.int(-5, 5) : 0;
        const host = [x, ints(pads), mode === 'constant' ? { data: [value], shape: [] } : undefined];
        await check('Pad', host, { mode }, padRef(x, pads, mode, value), `Pad ${mode} [${shape}] ${pads}`);
      }
    });
  }
  it('axes input (negative axes), opset < 11 attributes, f32 constant value', async () => {
    const x = tensor([2, 3, 4]);
    await check(
      'Pad',
      [x, ints([1, 2, 0, 3]), { data: [1.5], shape: [] }, ints([-1, 0])],
      {},
      padRef(x, [2, 0, 1, 3, 0, 0], 'constant', 1.5),
    );
    await check('Pad', [x], { mode: 'edge', pads: [0, 1, 2, 1, 0, 0] }, padRef(x, [0, 1, 2, 1, 0, 0], 'edge'));
    await check(
      'Pad',
      [x],
      { pads: [0, 0, 1, 0, 0, 1], value: -2.25 },
      padRef(x, [0, 0, 1, 0, 0, 1], 'constant', -2.25),
    );
  });
  it('reflect and wrap pads larger than the dim; wrap after a crop', async () => {
    const x = tensor([2, 3]);
    await check('Pad', [x, ints([0, 5, 0, 4])], { mode: 'reflect' }, padRef(x, [0, 5, 0, 4], 'reflect'));
    await check('Pad', [x, ints([3, 7, 2, 1])], { mode: 'wrap' }, padRef(x, [3, 7, 2, 1], 'wrap'));
    await check('Pad', [x, ints([0, -1, 0, 2])], { mode: 'wrap' }, padRef(x, [0, -1, 0, 2], 'wrap'));
  });
  it('f16 constant', async () => {
    if (!(await gpu()).info.f16) return expect((await gpu()).info.f16).toBe(false);
    const x = tensor([2, 3], 'f16');
    await check(
      'Pad',
      [x, ints([1, 1, 0, 2]), { data: [0.75], shape: [] }],
      {},
      padRef(x, [1, 1, 0, 2], 'constant', 0.75),
    );
  });
});

describe('Concat', () => {
  it('every axis, negative axes, 1..3 inputs, an empty input', async () => {
    for (let rank = 1; rank <= 4; rank++) {
      const base = Array.from({ length: rank }, () => r.int(1, 4));
      for (let axis = -rank; axis < rank; axis++) {
        const a = (axis + rank) % rank;
        const count = ((axis + rank * 3) % 3) + 1;
        const xs = Array.from({ length: count }, (_, k) =>
          tensor(base.map((d, i) => (i === a ? (k === 1 && rank === 3 ? 0 : r.int(1, 3)) : d))),
        );
        await check('Concat', xs, { axis }, concatRef(xs, axis), `Concat rank ${rank} axis ${axis} x${count}`);
      }
    }
  });
  it('f16 with odd slabs', async () => {
    if (!(await gpu()).info.f16) return expect((await gpu()).info.f16).toBe(false);
    const xs = [tensor([3, 1, 3], 'f16'), tensor([3, 2, 3], 'f16')];
    await check('Concat', xs, { axis: 1 }, concatRef(xs, 1));
  });
});

describe('views: Reshape, Flatten, Squeeze, Unsqueeze', () => {
  const x = tensor([2, 3, 4]);
  const same = (shape: number[]): Ref => ({ data: x.data, shape });
  it('Reshape with 0 and -1, allowzero', async () => {
    await check('Reshape', [x, ints([0, -1])], {}, same([2, 12]));
    await check('Reshape', [x, ints([-1, 0, 2])], {}, same([4, 3, 2]));
    await check('Reshape', [x, ints([0, 0, 2, 2])], {}, same([2, 3, 2, 2]));
    await check('Reshape', [x, ints([24])], { allowzero: 1 }, same([24]));
    expect(
      kernelFor('Reshape').infer([{ shape: [0, 3], dtype: 'f32' }], { allowzero: 1 }, [undefined, [3, 0]])[0].shape,
    ).toEqual([3, 0]);
  });
  it('Flatten, Squeeze, Unsqueeze (attributes and inputs)', async () => {
    await check('Flatten', [x], {}, same([2, 12]));
    await check('Flatten', [x], { axis: -1 }, same([6, 4]));
    await check('Flatten', [x], { axis: 0 }, same([1, 24]));
    await check('Flatten', [x], { axis: 3 }, same([24, 1]));
    const y = { data: x.data, shape: [1, 2, 1, 12, 1] };
    await check('Squeeze', [y], {}, same([2, 12]));
    await check('Squeeze', [y, ints([-1, 0])], {}, same([2, 1, 12]));
    await check('Squeeze', [y], { axes: [2] }, same([1, 2, 12, 1]));
    await check('Unsqueeze', [x, ints([0, -1])], {}, same([1, 2, 3, 4, 1]));
    await check('Unsqueeze', [x], { axes: [1, 3] }, same([2, 1, 3, 1, 4]));
  });
});

describe('Expand, Tile, Gather', () => {
  it('Expand (both directions, rank growth)', async () => {
    for (const [sx, s] of [
      [
        [3, 1],
        [2, 1, 4],
      ],
      [[1], [2, 3]],
      [
        [2, 1, 3],
        [1, 4, 1],
      ],
      [[4], [4]],
    ]) {
      const x = tensor(sx, 'i32');
      await check('Expand', [x, ints(s)], {}, expandRef(x, s), `Expand [${sx}] to [${s}]`);
    }
  });
  it('Tile', async () => {
    for (const [sx, reps] of [
      [
        [2, 3],
        [2, 3],
      ],
      [[3], [4]],
      [
        [1, 2, 3],
        [2, 1, 2],
      ],
      [
        [2, 2],
        [1, 0],
      ],
    ]) {
      const x = tensor(sx);
      await check('Tile', [x, ints(reps)], {}, tileRef(x, reps), `Tile [${sx}] x [${reps}]`);
    }
  });
  it('Gather on every axis, negative indices, scalar and 2-D indices', async () => {
    const x = tensor([3, 4, 5]);
    const cases: [number, number[], number[]][] = [
      [0, [2, 0, -1, 1], [4]],
      [1, [3, -4, 0, 2, 1, -1], [2, 3]],
      [-1, [4], []],
      [2, [0, 0, -5], [3]],
    ];
    for (const [axis, idx, shape] of cases) {
      const indices = { data: idx, shape, dtype: 'i32' as const };
      await check('Gather', [x, indices], { axis }, gatherRef(x, indices, axis), `Gather axis ${axis} [${shape}]`);
    }
  });
});

describe('DepthToSpace, SpaceToDepth', () => {
  it('DCR and CRD, blocks 2 and 3', async () => {
    for (const [b, shape] of [
      [2, [2, 8, 3, 2]],
      [3, [1, 18, 2, 3]],
    ] as const) {
      const x = tensor([...shape]);
      for (const mode of ['DCR', 'CRD'] as const)
        await check(
          'DepthToSpace',
          [x],
          { blocksize: b, mode },
          depthToSpaceRef(x, b, mode),
          `DepthToSpace ${mode} b${b}`,
        );
    }
  });
  it('SpaceToDepth, and DCR DepthToSpace undoes it', async () => {
    const x = tensor([2, 3, 4, 6]);
    const y = await check('SpaceToDepth', [x], { blocksize: 2 }, spaceToDepthRef(x, 2));
    await check('DepthToSpace', [{ data: y.data, shape: y.shape }], { blocksize: 2 }, x);
    const z = tensor([1, 2, 6, 3]);
    await check('SpaceToDepth', [z], { blocksize: 3 }, spaceToDepthRef(z, 3));
  });
});

describe('Cast', () => {
  // every integer target is i32 storage (narrow ones wrapped: test/kernels/int-types.test.ts); u32 is bool's
  const codes: Record<string, number> = { f32: 1, f16: 10, i32: 6 };
  it('from f32, f16, i32 and u32 to f32, f16 and i32, and to bool', async () => {
    const f16 = (await gpu()).info.f16;
    const types = (f16 ? ['f32', 'f16', 'i32', 'u32'] : ['f32', 'i32', 'u32']) as DType[];
    for (const from of types) {
      const vals =
        from === 'f32' || from === 'f16'
          ? [0, 1.75, -2.5, 7.25, -0.5, 100, 3.125, -65]
          : from === 'i32'
            ? [0, 1, -1, 70000, -2147483648, 5, -3, 2047]
            : [0, 1, 4294967295, 70000, 2147483648, 5, 3, 2047];
      for (const to of types.filter((t) => t !== 'u32')) {
        // within f16's range for -> f16 (expectClose cannot compare infinities)
        const xs = vals.map((v) => (to === 'f16' && Math.abs(v) > 65504 ? 4097 : v));
        const x = { data: xs, shape: [2, 4], dtype: from };
        const want = Array.from(xs, (v) => castRef(v, from, to));
        const [y] = await runOp('Cast', [x], { to: codes[to] });
        expectClose(y.data, want, to === 'f16' ? TOL.f16 : TOL.exact, `Cast ${from}->${to}`);
      }
      const [b] = await runOp('Cast', [{ data: vals, shape: [8], dtype: from }], { to: 9 });
      expect(Array.from(b.data), `Cast ${from}->bool`).toEqual(vals.map((v) => castRef(v, from, 'u32', true)));
    }
  });
  it('CastLike takes the dtype of its second input', async () => {
    const xs = [0, 1.75, -2.5, 7.25];
    const [y] = await runOp('CastLike', [
      { data: xs, shape: [4] },
      { data: [0], shape: [1], dtype: 'i32' },
    ]);
    expect(Array.from(y.data)).toEqual(xs.map((v) => castRef(v, 'f32', 'i32')));
    expect(() => kernelFor('CastLike').infer([{ shape: [2], dtype: 'f32' }], {}, [])).toThrow(
      /CastLike: missing input 1/,
    );
  });
  it('every integer code maps to i32, bool to u32', () => {
    for (const to of [2, 3, 4, 5, 6, 7, 12, 13])
      expect(kernelFor('Cast').infer([{ shape: [2], dtype: 'f32' }], { to }, [])[0].dtype).toBe('i32');
    expect(kernelFor('Cast').infer([{ shape: [2], dtype: 'f32' }], { to: 9 }, [])[0].dtype).toBe('u32');
  });
});

describe('Split', () => {
  // [shape, axis, attrs, split input (opset 13+), the sizes ONNX defines]
  const cases: [number[], number, Attrs, number[] | undefined, number[], DType][] = [
    [[2, 6, 3], 1, { split: [1, 2, 3] }, undefined, [1, 2, 3], 'f32'], // opset 11-12 attribute
    [[2, 6, 3], -2, {}, [4, 0, 2], [4, 0, 2], 'f32'], // opset 13 input, an empty part, negative axis
    [[7, 4], 0, { num_outputs: 3 }, undefined, [3, 3, 1], 'i32'], // opset 18: the last chunk smaller
    [[3, 8], -1, { num_outputs: 4 }, undefined, [2, 2, 2, 2], 'f16'],
    [[2, 3, 9], 2, { __outputs: 3 }, undefined, [3, 3, 3], 'f32'], // no sizes: equal parts per output
    [[5], 0, {}, [5], [5], 'u32'],
  ];
  for (const [shape, axis, attrs, sizes, want, dtype] of cases) {
    it(`[${shape}] axis ${axis} ${JSON.stringify(attrs)}${sizes ? ` split input [${sizes}]` : ''} ${dtype}`, async () => {
      if (dtype === 'f16' && !(await gpu()).info.f16) return;
      const x = tensor(shape, dtype);
      const ys = await runOp('Split', [x, sizes && ints(sizes)], { axis, ...attrs });
      expect(ys.length).toBe(want.length);
      const a = axis < 0 ? axis + shape.length : axis;
      let start = 0;
      want.forEach((size, k) => {
        const ref = sliceRef(x, [start], [start + size], [a]);
        expect(ys[k].shape, `output ${k}`).toEqual(ref.shape);
        expectClose(ys[k].data, ref.data, TOL.exact, `Split output ${k}`);
        start += size;
      });
    });
  }

  it('sizes that do not add up, parts that are not equal, bad num_outputs', () => {
    const x = [{ shape: [2, 6], dtype: 'f32' as DType }];
    const infer =
      (attrs: Attrs, host: number[] | undefined = undefined) =>
      () =>
        kernelFor('Split').infer(x, { axis: 1, ...attrs }, [undefined, host]);
    expect(infer({}, [2, 3])).toThrow(/Split: split \[2,3\] does not sum to dim 6/);
    expect(infer({ __outputs: 4 })).toThrow(/does not split into 4 equal parts/);
    expect(infer({ num_outputs: 0 })).toThrow(/num_outputs 0/);
  });
});

describe('layout errors', () => {
  const f = (shape: number[], dtype: DType = 'f32') => ({ shape, dtype });
  const err = (op: string, inputs: ReturnType<typeof f>[], attrs: Attrs, host: (number[] | undefined)[] = []) => {
    try {
      kernelFor(op).infer(inputs, attrs, host);
    } catch (e) {
      return `${(e as { code: string }).code} ${(e as Error).message}`;
    }
    return 'no error';
  };
  it('bad attributes', () => {
    expect(err('Transpose', [f([2, 3])], { perm: [0, 0] })).toMatch(/^BAD_ATTRIBUTE Transpose: perm \[0,0\]/);
    expect(err('Concat', [f([2, 3]), f([2, 3])], { axis: 2 })).toMatch(/^BAD_ATTRIBUTE Concat: axis 2 out of range/);
    expect(err('Pad', [f([2, 3])], { mode: 'mirror' }, [undefined, [0, 0, 0, 0]])).toMatch(
      /^BAD_ATTRIBUTE Pad: mode "mirror"/,
    );
    expect(err('Slice', [f([4])], {}, [undefined, [0], [2], [0], [0]])).toMatch(/^BAD_ATTRIBUTE Slice: step 0/);
    expect(err('DepthToSpace', [f([1, 4, 2, 2])], { blocksize: 2, mode: 'XYZ' })).toMatch(
      /^BAD_ATTRIBUTE DepthToSpace: mode/,
    );
    expect(err('Cast', [f([2])], { to: 16 })).toMatch(/^UNSUPPORTED_DTYPE Cast: target type 16/);
    expect(err('Squeeze', [f([2, 1])], { axes: [1, -1] })).toMatch(/^BAD_ATTRIBUTE Squeeze: repeated axis/);
  });
  it('bad shapes', () => {
    expect(err('Concat', [f([2, 3]), f([3, 3])], { axis: 1 })).toMatch(
      /^BAD_SHAPE Concat: shapes \[2,3\], \[3,3\] differ off axis 1/,
    );
    expect(err('Reshape', [f([2, 3])], {}, [undefined, [4, -1]])).toMatch(/^BAD_SHAPE Reshape: cannot infer -1/);
    expect(err('Reshape', [f([2, 3])], {}, [undefined, [5]])).toMatch(/^BAD_SHAPE Reshape: \[2,3\] \(6 elements\)/);
    expect(err('Squeeze', [f([2, 3])], {}, [undefined, [1]])).toMatch(/^BAD_SHAPE Squeeze: dim 1 of \[2,3\] is not 1/);
    expect(err('Expand', [f([2, 3])], {}, [undefined, [4, 3]])).toMatch(/^BAD_SHAPE Expand: shapes/);
    expect(err('DepthToSpace', [f([1, 6, 2, 2])], { blocksize: 2 })).toMatch(/^BAD_SHAPE DepthToSpace: channels 6/);
    expect(err('SpaceToDepth', [f([1, 1, 3, 4])], { blocksize: 2 })).toMatch(
      /^BAD_SHAPE SpaceToDepth: spatial dims 3x4/,
    );
    expect(err('Pad', [f([2, 3])], { mode: 'constant' }, [undefined, [0, -4, 0, 0]])).toMatch(
      /^BAD_SHAPE Pad: pads -4,0 crop more/,
    );
    expect(err('Pad', [f([2, 3])], { mode: 'edge' }, [undefined, [0, -3, 0, 1]])).toMatch(
      /^BAD_SHAPE Pad: edge padding of an empty dim/,
    );
    expect(err('Tile', [f([2, 3])], {}, [undefined, [2]])).toMatch(/^BAD_SHAPE Tile: repeats \[2\]/);
    expect(err('Gather', [f([2, 3]), f([2])], {})).toMatch(/^UNSUPPORTED_DTYPE Gather: indices must be i32/);
  });
});
