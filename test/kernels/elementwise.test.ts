import { describe, expect, it } from 'vitest';
import type { DType } from '../../src/core/dtype';
import { kernelFor } from '../../src/kernels/registry';
import type { Attrs } from '../../src/core/attrs';
import { gpu, runOp } from '../helpers/gpu';
import { rng, type Rng } from '../helpers/random';
import { TOL, expectClose } from '../helpers/tolerance';
import { binaryRef, broadcastRef, unaryRef, type RefTensor } from '../reference/elementwise';

describe('unary elementwise', () => {
  const r = rng(1);
  const params: Record<string, [Record<string, number>, number, number]> = {
    LeakyRelu: [{ alpha: 0.1 }, 0.1, 0],
    HardSigmoid: [{ alpha: 0.3, beta: 0.4 }, 0.3, 0.4],
    Elu: [{ alpha: 0.7 }, 0.7, 0],
    Swish: [{}, 1, 0],
    Celu: [{ alpha: 1.5 }, 1.5, 0],
    Selu: [{ alpha: 1.6, gamma: 1.2 }, 1.6, 1.2],
    ThresholdedRelu: [{ alpha: 0.5 }, 0.5, 0],
  };
  for (const op of Object.keys(unaryRef)) {
    it(op, async () => {
      const shape = [2, 3, r.int(1, 9), r.int(1, 9)];
      const n = shape.reduce((a, b) => a * b);
      const positive = ['Sqrt', 'Log', 'Reciprocal'].includes(op);
      const x = Float32Array.from(r.array(n, positive ? 0.1 : -8, 8));
      const [attrs, a, b] = params[op] ?? [{}, 0, 0];
      const clip =
        op === 'Clip'
          ? [
              { data: [-0.5], shape: [] },
              { data: [2], shape: [] },
            ]
          : [];
      const [lo, hi] = op === 'Clip' ? [-0.5, 2] : [a, b];
      const [y] = await runOp(op, [{ data: x, shape }, ...clip], attrs);
      expectClose(
        y.data,
        Array.from(x, (v) => unaryRef[op](v, lo, hi)),
        TOL.f32,
        op,
      );
    });
  }
});

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Random values for `dtype`: floats rounded to f32, integers in [lo, hi]. */
function values(r: Rng, n: number, dtype: DType, lo = -4, hi = 4): number[] {
  if (dtype === 'i32' || dtype === 'u32') return Array.from({ length: n }, () => r.int(lo, hi));
  return Array.from(Float32Array.from(r.array(n, lo, hi)));
}

/** Non-zero divisors of magnitude >= 0.5 (or integers != 0). */
function divisors(r: Rng, n: number, dtype: DType, hi = 5): number[] {
  return Array.from({ length: n }, () => {
    const mag = dtype === 'i32' || dtype === 'u32' ? r.int(1, hi) : Math.fround(r.uniform(0.5, hi));
    return dtype === 'u32' || r.next() < 0.5 ? mag : -mag;
  });
}

// pairs of shapes covering scalars, size-1 dims, rank mismatch, equal shapes and rank 6
const SHAPE_PAIRS: [number[], number[]][] = [
  [
    [2, 3, 5],
    [2, 3, 5],
  ],
  [[2, 3, 4, 5], [5]],
  [[], [2, 3]],
  [[3, 1], []],
  [
    [2, 1, 4, 1],
    [3, 1, 5],
  ],
  [[1], [2, 3, 1]],
  [
    [2, 1, 3, 1, 2, 1],
    [1, 2, 1, 3, 1, 2],
  ],
  [
    [1, 3, 1, 1, 5, 2],
    [2, 1, 4, 3, 1, 1],
  ],
  [
    [2, 3, 7],
    [2, 1, 7],
  ],
];

async function checkBinary(
  op: string,
  a: RefTensor,
  b: RefTensor,
  dtype: DType,
  attrs: Attrs = {},
  bDtype: DType = dtype,
) {
  const want = broadcastRef([a, b], (x, y) => binaryRef(op, x, y, dtype, (attrs.fmod as number) ?? 0));
  const [y] = await runOp(
    op,
    [
      { ...a, dtype },
      { ...b, dtype: bDtype },
    ],
    attrs,
  );
  expect(y.shape).toEqual(want.shape);
  const tol = dtype === 'f16' ? TOL.f16 : dtype === 'f32' ? TOL.f32 : TOL.exact;
  expectClose(y.data, want.data, tol, `${op} ${dtype} [${a.shape}] [${b.shape}]`);
  return y;
}

it('Swish-24 alpha: x * sigmoid(alpha * x)', async () => {
  const x = [-6, -2.5, -1, -0.25, 0, 0.5, 1.75, 4, 9];
  for (const alpha of [0.5, 1.702, -0.3]) {
    const [y] = await runOp('Swish', [{ data: Float32Array.from(x), shape: [x.length] }], { alpha });
    expectClose(
      y.data,
      x.map((v) => unaryRef.Swish(v, alpha, 0)),
      TOL.f32,
      `Swish alpha=${alpha}`,
    );
  }
});

describe('transformer-era activations: defaults, attributes, extremes, f16', () => {
  // extremes: softplus/mish/celu must neither overflow nor lose small values
  const x = [-90, -30, -12, -3.5, -1, -0.3, -1e-3, 0, 1e-3, 0.3, 1, 2.2, 3.5, 12, 30, 90];
  const cases: [string, Attrs, number, number][] = [
    ['Erf', {}, 0, 0],
    ['Gelu', {}, 0, 0],
    ['Gelu', { approximate: 'none' }, 0, 0],
    ['Gelu', { approximate: 'tanh' }, 1, 0],
    ['Softplus', {}, 0, 0],
    ['Softsign', {}, 0, 0],
    ['Mish', {}, 0, 0],
    ['Celu', {}, 1, 0],
    ['Celu', { alpha: 0.25 }, 0.25, 0],
    ['Selu', {}, 1.6732631921768188, 1.0507010221481323],
    ['ThresholdedRelu', {}, 1, 0],
    ['ThresholdedRelu', { alpha: -2 }, -2, 0],
  ];
  for (const [op, attrs, a, b] of cases) {
    it(`${op} ${JSON.stringify(attrs)}`, async () => {
      const [y] = await runOp(op, [{ data: Float32Array.from(x), shape: [2, 8] }], attrs);
      const want = x.map((v) => unaryRef[op](v, a, b));
      // Celu at alpha 0.25 of -90: exp(-360) underflows to 0 either way
      expectClose(y.data, want, TOL.f32, `${op} ${JSON.stringify(attrs)}`);
      expect(Array.from(y.data).every(Number.isFinite), `${op}: finite`).toBe(true);
    });
  }

  it('f16 inputs where the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return;
    const v = Array.from(Float32Array.from(rng(5).array(40, -6, 6)));
    for (const [op, attrs, a, b] of cases) {
      const [y] = await runOp(op, [{ data: v, shape: [5, 8], dtype: 'f16' }], attrs);
      expectClose(
        y.data,
        v.map((u) => unaryRef[op](u, a, b)),
        TOL.f16,
        `${op} f16`,
      );
    }
  });

  it('bad attributes throw BAD_ATTRIBUTE', () => {
    const x = [{ shape: [3], dtype: 'f32' as DType }];
    expect(() => kernelFor('Gelu').infer(x, { approximate: 'erf' }, [])).toThrow(/Gelu: approximate "erf"/);
    expect(() => kernelFor('Celu').infer(x, { alpha: 0 }, [])).toThrow(/Celu: alpha must not be 0/);
  });
});

it('Round sends halves to even', async () => {
  const x = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4, -2.6];
  const [y] = await runOp('Round', [{ data: x, shape: [9] }]);
  expect(Array.from(y.data)).toEqual([-2, -2, -0, 0, 2, 2, 4, 2, -3]);
  expectClose(
    y.data,
    x.map((v) => unaryRef.Round(v, 0, 0)),
    TOL.exact,
    'Round',
  );
});

describe('binary elementwise, broadcasting', () => {
  const r = rng(2);
  for (const [sa, sb] of SHAPE_PAIRS) {
    it(`Add/Mul [${sa}] x [${sb}]`, async () => {
      const a = { data: values(r, numel(sa), 'f32'), shape: sa };
      const b = { data: values(r, numel(sb), 'f32'), shape: sb };
      await checkBinary('Add', a, b, 'f32');
      await checkBinary('Mul', b, a, 'f32');
    });
  }
});

describe('every binary op (f32)', () => {
  const r = rng(3);
  const ops = [
    'Add',
    'Sub',
    'Mul',
    'Div',
    'Pow',
    'Mod',
    'PRelu',
    'Equal',
    'Less',
    'Greater',
    'LessOrEqual',
    'GreaterOrEqual',
  ];
  for (const op of ops) {
    it(op, async () => {
      for (const [sa, sb] of [SHAPE_PAIRS[0], SHAPE_PAIRS[4], SHAPE_PAIRS[6]]) {
        // PRelu: the slope broadcasts to X, so X gets the full broadcast shape
        const shapeA =
          op === 'PRelu'
            ? broadcastRef(
                [
                  { data: [0], shape: sa },
                  { data: [0], shape: sb },
                ],
                () => 0,
              ).shape
            : sa;
        const compare = /Equal|Less|Greater/.test(op);
        // compares on small integers so that ties happen; Pow on positive bases
        const a = compare
          ? values(r, numel(shapeA), 'i32', -2, 2)
          : values(r, numel(shapeA), 'f32', op === 'Pow' ? 0.1 : -4, 4);
        const b = compare
          ? values(r, numel(sb), 'i32', -2, 2)
          : ['Div', 'Mod'].includes(op)
            ? divisors(r, numel(sb), 'f32')
            : values(r, numel(sb), 'f32', -2, 2);
        const y = await checkBinary(
          op,
          { data: a, shape: shapeA },
          { data: b, shape: sb },
          'f32',
          op === 'Mod' ? { fmod: 1 } : {},
        );
        if (compare) expect(y.data).toBeInstanceOf(Uint32Array);
      }
    });
  }

  it('Pow: negative base with integral exponents, zero exponent', async () => {
    const a = { data: [-2, -1.5, -3, 0, 0, 2, -0.5, 4], shape: [8] };
    const b = { data: [2, 3, -1, 0, 2, 0.5, 3, -0.5], shape: [8] };
    await checkBinary('Pow', a, b, 'f32');
  });

  it('Pow: f32 base with an i32 exponent (ONNX T1/T2)', async () => {
    const a = { data: values(r, 12, 'f32'), shape: [3, 4] };
    const b = { data: [0, 1, 2, 3], shape: [4] };
    await checkBinary('Pow', a, b, 'f32', {}, 'i32');
  });
});

describe('integer binary ops', () => {
  const r = rng(4);
  it('i32 Div truncates toward zero (test_div_int32_trunc)', async () => {
    const a = { data: [7, -7, 7, -7, 1, -1, 0, 2147483647], shape: [8] };
    const b = { data: [2, 2, -2, -2, 3, 3, 5, 2], shape: [8] };
    const y = await checkBinary('Div', a, b, 'i32');
    expect(Array.from(y.data)).toEqual([3, -3, -3, 3, 0, 0, 0, 1073741823]);
  });

  it('i32 Add/Sub/Mul/Div/Max/Min/Pow with broadcasting', async () => {
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow']) {
      const a = { data: values(r, 30, 'i32', -20, 20), shape: [2, 3, 5] };
      const b =
        op === 'Div'
          ? { data: divisors(r, 5, 'i32', 7), shape: [5] }
          : { data: values(r, 5, 'i32', op === 'Pow' ? -2 : -20, op === 'Pow' ? 5 : 20), shape: [5] };
      await checkBinary(op, a, b, 'i32');
    }
    for (const op of ['Max', 'Min']) {
      const a = { data: values(r, 6, 'i32', -9, 9), shape: [2, 3, 1] };
      const b = { data: values(r, 4, 'i32', -9, 9), shape: [4] };
      await checkBinary(op, a, b, 'i32');
    }
  });

  it('i32 Mod: fmod=0 takes the sign of the divisor, fmod=1 of the dividend', async () => {
    const a = { data: [7, -7, 7, -7, 6, -6, 0, 5], shape: [8] };
    const b = { data: [3, 3, -3, -3, 3, -4, 2, 7], shape: [8] };
    const y0 = await checkBinary('Mod', a, b, 'i32', { fmod: 0 });
    expect(Array.from(y0.data)).toEqual([1, 2, -2, -1, 0, -2, 0, 5]);
    const y1 = await checkBinary('Mod', a, b, 'i32', { fmod: 1 });
    expect(Array.from(y1.data)).toEqual([1, -1, 1, -1, 0, -2, 0, 5]);
    const c = { data: values(r, 24, 'i32', -50, 50), shape: [2, 3, 4] };
    await checkBinary('Mod', c, { data: divisors(r, 4, 'i32', 9), shape: [1, 4] }, 'i32', { fmod: 0 });
  });

  it('i32 overflow and u32 arithmetic wrap', async () => {
    await checkBinary('Add', { data: [2147483647, -2147483648], shape: [2] }, { data: [1, -1], shape: [2] }, 'i32');
    const y = await checkBinary('Sub', { data: [3, 0, 10], shape: [3] }, { data: [5, 1, 4], shape: [3] }, 'u32');
    expect(Array.from(y.data)).toEqual([4294967294, 4294967295, 6]);
    await checkBinary('Mul', { data: [4000000000, 65536, 3], shape: [3] }, { data: [3, 65536, 7], shape: [3] }, 'u32');
    await checkBinary('Add', { data: [4294967295, 7], shape: [2, 1] }, { data: [1, 2, 3], shape: [3] }, 'u32');
    await checkBinary('Div', { data: [4294967295, 7, 9], shape: [3] }, { data: [2, 2, 10], shape: [3] }, 'u32');
  });

  it('compares on i32 and u32 give u32 0/1', async () => {
    for (const dtype of ['i32', 'u32'] as const) {
      const a = { data: values(r, 12, dtype, 0, 3), shape: [3, 4] };
      const b = { data: values(r, 4, dtype, 0, 3), shape: [4] };
      for (const op of ['Equal', 'Less', 'GreaterOrEqual']) await checkBinary(op, a, b, dtype);
    }
  });
});

describe('variadic Sum / Mean / Max / Min', () => {
  const r = rng(5);
  const shapes = [[2, 3, 4], [3, 1], [4], [1, 1, 1, 4]];
  const fold: Record<string, (vs: number[]) => number> = {
    Sum: (vs) => vs.reduce((p, q) => p + q),
    Mean: (vs) => vs.reduce((p, q) => p + q) / vs.length,
    Max: (vs) => Math.max(...vs),
    Min: (vs) => Math.min(...vs),
  };
  for (const op of Object.keys(fold)) {
    for (const count of [1, 2, 3, 4]) {
      it(`${op} of ${count}`, async () => {
        const ins = shapes.slice(0, count).map((s) => ({ data: values(r, numel(s), 'f32'), shape: s }));
        const want = broadcastRef(ins, (...vs) => fold[op](vs));
        const [y] = await runOp(op, ins);
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data, want.data, TOL.f32, `${op} x${count}`);
      });
    }
  }
  it('Max / Min on i32 with three inputs', async () => {
    const ins = shapes
      .slice(0, 3)
      .map((s) => ({ data: values(r, numel(s), 'i32', -50, 50), shape: s, dtype: 'i32' as const }));
    for (const op of ['Max', 'Min']) {
      const [y] = await runOp(op, ins);
      expectClose(y.data, broadcastRef(ins, (...vs) => fold[op](vs)).data, TOL.exact, op);
    }
  });
});

describe('Where', () => {
  const r = rng(6);
  it('broadcasts condition, X and Y', async () => {
    for (const [sc, sx, sy] of [
      [
        [2, 3, 4],
        [2, 3, 4],
        [2, 3, 4],
      ],
      [[3, 1], [1, 4], []],
      [
        [1, 2, 1, 3],
        [2, 4, 1],
        [4, 1],
      ],
    ]) {
      const c = { data: Array.from({ length: numel(sc) }, () => r.int(0, 1)), shape: sc, dtype: 'u32' as const };
      const x = { data: values(r, numel(sx), 'f32'), shape: sx };
      const y = { data: values(r, numel(sy), 'f32'), shape: sy };
      const want = broadcastRef([c, x, y], (cv, xv, yv) => (cv ? xv : yv));
      const [out] = await runOp('Where', [c, x, y]);
      expect(out.shape).toEqual(want.shape);
      expectClose(out.data, want.data, TOL.exact, `Where [${sc}] [${sx}] [${sy}]`);
    }
  });
  it('i32 values', async () => {
    const c = { data: [1, 0, 0, 1, 1, 0], shape: [2, 3], dtype: 'u32' as const };
    const [out] = await runOp('Where', [
      c,
      { data: [1, 2, 3], shape: [3], dtype: 'i32' },
      { data: [-7], shape: [1], dtype: 'i32' },
    ]);
    expect(Array.from(out.data)).toEqual([1, -7, -7, 1, 2, -7]);
  });
});

describe('f16 binary', () => {
  it('Add / Mul / Sum in f16 where the adapter has shader-f16', async () => {
    if (!(await gpu()).info.f16) return expect((await gpu()).info.f16).toBe(false);
    const r = rng(7);
    const half = (v: number[]) => v.map((x) => Math.round(x * 256) / 256); // exactly representable in f16
    const a = { data: half(values(r, 30, 'f32')), shape: [2, 3, 5] };
    const b = { data: half(values(r, 5, 'f32')), shape: [5] };
    await checkBinary('Add', a, b, 'f16');
    await checkBinary('Mul', a, b, 'f16');
    const [s] = await runOp('Sum', [
      { ...a, dtype: 'f16' },
      { ...b, dtype: 'f16' },
      { ...b, dtype: 'f16' },
    ]);
    expectClose(s.data, broadcastRef([a, b, b], (x, y, z) => x + y + z).data, TOL.f16, 'Sum f16');
  });
});

describe('binary errors', () => {
  const info = (shape: number[], dtype: DType = 'f32') => ({ shape, dtype });
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return [(e as { code: string }).code, (e as Error).message];
    }
    return ['none', ''];
  };
  it('shapes that do not broadcast throw BAD_SHAPE naming the op and shapes', () => {
    const [c, msg] = code(() => kernelFor('Add').infer([info([2, 3]), info([4, 3, 2])], {}, []));
    expect(c).toBe('BAD_SHAPE');
    expect(msg).toMatch(/Add: shapes \[2,3\], \[4,3,2\]/);
    expect(code(() => kernelFor('Sum').infer([info([2]), info([3]), info([2])], {}, []))[0]).toBe('BAD_SHAPE');
    expect(code(() => kernelFor('PRelu').infer([info([3]), info([2, 3])], {}, []))[0]).toBe('BAD_SHAPE');
  });
  it('bad attributes and dtypes', () => {
    expect(code(() => kernelFor('Mod').infer([info([2]), info([2])], { fmod: 0 }, []))).toEqual([
      'BAD_ATTRIBUTE',
      'Mod: fmod=0 is for integer inputs; f32 needs fmod=1',
    ]);
    expect(code(() => kernelFor('Mod').infer([info([2], 'i32'), info([2], 'i32')], { fmod: 2 }, []))[0]).toBe(
      'BAD_ATTRIBUTE',
    );
    expect(code(() => kernelFor('Add').infer([info([2]), info([2], 'i32')], {}, []))[0]).toBe('UNSUPPORTED_DTYPE');
    expect(code(() => kernelFor('Where').infer([info([2]), info([2]), info([2])], {}, []))[0]).toBe(
      'UNSUPPORTED_DTYPE',
    );
    expect(kernelFor('Less').infer([info([2, 1]), info([3])], {}, [])).toEqual([{ shape: [2, 3], dtype: 'u32' }]);
  });
});
