import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { expectNetClose, ortRun } from '../helpers/ort';
import { rng } from '../helpers/random';

/**
 * Load-time rewrites of the transformer-era subgraphs as torch 1.13 writes them out: GELU
 * (Div sqrt2 -> Erf -> Add 1 -> Mul x -> Mul 0.5, and the Mul(x, 0.5) ordering of hand-written
 * blocks), Mish (Mul(x, Tanh(Softplus(x)))) and LayerNorm before opset 17 (ReduceMean -> Sub -> Pow
 * -> ReduceMean -> Add eps -> Sqrt -> Div -> Mul w -> Add b); and ConvNeXt's channels-first
 * permute around a last-axis LayerNormalization. Every graph is checked against onnxruntime.
 */

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function check(bytes: Uint8Array, dims: number[], wantOps: string[], seed: number) {
  const input = Float32Array.from(rng(seed).array(numel(dims), -3, 3));
  const ref = await ortRun(bytes, { x: { data: input, dims } });
  const s = await Session.create(bytes, { device: await gpu() });
  try {
    const ops = s.optimizedGraph!.nodes.map((n) => n.op);
    expect(ops).toEqual(wantOps);
    const out = await s.run({ x: { data: input, dims } });
    for (const [name, t] of Object.entries(out)) {
      expectNetClose(await t.read(), ref[name].data, `${name} (${ops.join(', ')})`);
      t.dispose();
    }
    return s.optimizedGraph!;
  } finally {
    s.dispose();
  }
}

describe('transformer-era pattern fusion', () => {
  for (const order of ['torch', 'half-first', 'mul-sqrt1_2'] as const) {
    it(`GELU written out (${order}) -> Gelu`, async () => {
      const r = rng(3);
      const b = new OnnxBuilder({ opset: 17 });
      const x = b.input('x', [2, 5, 6]);
      const h = b.node('MatMul', [x, b.init('w', r.array(36, -0.5, 0.5), [6, 6])]);
      const u =
        order === 'mul-sqrt1_2'
          ? b.node('Mul', [h, b.init('isq2', [Math.SQRT1_2], [])])
          : b.node('Div', [h, b.init('sq2', [1.4142135381698608], [])]);
      const e = b.node('Add', [b.node('Erf', [u]), b.init('one', [1], [])]);
      const y =
        order === 'half-first'
          ? b.node('Mul', [b.node('Mul', [h, b.init('half', [0.5], [])]), e])
          : b.node('Mul', [b.node('Mul', [h, e]), b.init('half', [0.5], [])]);
      b.output(b.node('Relu', [y], {}, { output: 'y' }));
      await check(b.bytes(), [2, 5, 6], ['MatMul', 'Gelu', 'Relu'], 1);
    });
  }

  it('Mish written out -> Mish', async () => {
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('x', [1, 3, 5, 5]);
    const c = b.node('Conv', [x, b.init('w', rng(4).array(4 * 27, -0.5, 0.5), [4, 3, 3, 3])], { pads: [1, 1, 1, 1] });
    b.output(b.node('Mul', [c, b.node('Tanh', [b.node('Softplus', [c])])], {}, { output: 'y' }));
    const g = await check(b.bytes(), [1, 3, 5, 5], ['FusedConv'], 2);
    expect(g.nodes[0].attrs.activation).toBe('Mish'); // then into the conv's epilogue
  });

  it('SiLU written out (Mul(x, Sigmoid(x)), both orders) -> Swish, into the conv before it; alone after a MatMul', async () => {
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('x', [1, 3, 6, 6]);
    const c = b.node('Conv', [x, b.init('w', rng(6).array(4 * 27, -0.5, 0.5), [4, 3, 3, 3])], { pads: [1, 1, 1, 1] });
    const s1 = b.node('Mul', [b.node('Sigmoid', [c]), c]);
    const h = b.node('MatMul', [s1, b.init('m', rng(7).array(36, -0.5, 0.5), [6, 6])]);
    b.output(b.node('Mul', [h, b.node('Sigmoid', [h])], {}, { output: 'y' }));
    const g = await check(b.bytes(), [1, 3, 6, 6], ['FusedConv', 'MatMul', 'Swish'], 8);
    expect(g.nodes[0].attrs.activation).toBe('Swish');
  });

  it("paddle2onnx's swish (Mul(x, Sigmoid(Mul(x, alpha)))) -> Swish(alpha): into the conv at alpha 1, alone at 1.5", async () => {
    const b = new OnnxBuilder({ opset: 11 });
    const x = b.input('x', [1, 3, 6, 6]);
    const c = b.node('Conv', [x, b.init('w', rng(9).array(4 * 27, -0.5, 0.5), [4, 3, 3, 3])], { pads: [1, 1, 1, 1] });
    const swish = (v: string, alpha: number, name: string) =>
      b.node('Mul', [v, b.node('Sigmoid', [b.node('Mul', [v, b.init(name, [alpha], [])])])]);
    b.output(b.node('Identity', [swish(swish(c, 1, 'one'), 1.5, 'a15')], {}, { output: 'y' }));
    const g = await check(b.bytes(), [1, 3, 6, 6], ['FusedConv', 'Swish', 'Identity'], 10);
    expect(g.nodes[0].attrs.activation).toBe('Swish');
    expect(g.nodes[1].attrs.alpha).toBeCloseTo(1.5);
  });

  // opset 16 (axes attribute) over the last axis; opset 18 (axes input) over the last two, no Mul/Add
  for (const [opset, dims, axes, affine] of [
    [16, [2, 7, 8], [-1], true],
    [18, [2, 3, 4, 5], [2, 3], false],
  ] as const) {
    it(`LayerNorm written out, opset ${opset}, axes [${axes}] -> LayerNormalization`, async () => {
      const r = rng(opset);
      const b = new OnnxBuilder({ opset });
      const x = b.input('x', [...dims]);
      const mean = (v: string, name: string) =>
        opset >= 18
          ? b.node('ReduceMean', [v, b.initInt64(name, [...axes])])
          : b.node('ReduceMean', [v], { axes: [...axes] });
      const d = b.node('Sub', [x, mean(x, 'ax1')]);
      const v = mean(b.node('Pow', [d, b.init('two', [2], [])]), 'ax2');
      let y = b.node('Div', [d, b.node('Sqrt', [b.node('Add', [v, b.init('eps', [1e-5], [])])])]);
      const norm = dims.slice(dims.length - axes.length);
      if (affine) {
        y = b.node('Mul', [y, b.init('w', r.array(numel(norm), 0.5, 1.5), norm)]);
        y = b.node('Add', [y, b.init('bias', r.array(numel(norm)), norm)]);
      }
      b.output(b.node('Identity', [y], {}, { output: 'y' }));
      const g = await check(b.bytes(), [...dims], ['LayerNormalization', 'Identity'], 3);
      expect(g.nodes[0].attrs.axis).toBe(dims.length - axes.length);
    });
  }

  for (const approximate of ['none', 'tanh']) {
    it(`Conv -> Gelu (opset 20, ${approximate}) -> Mul 2: one FusedConv with post_affine (none) or act_a (tanh)`, async () => {
      const b = new OnnxBuilder({ opset: 20 });
      const x = b.input('x', [1, 4, 6, 5]);
      const c = b.node('Conv', [x, b.init('w', rng(6).array(6 * 36, -0.5, 0.5), [6, 4, 3, 3])], { pads: [1, 1, 1, 1] });
      const gl = b.node('Gelu', [c], { approximate });
      b.output(b.node('Mul', [gl, b.init('two', [2], [])], {}, { output: 'y' }));
      const g = await check(b.bytes(), [1, 4, 6, 5], approximate === 'none' ? ['FusedConv'] : ['FusedConv', 'Mul'], 7);
      expect(g.nodes[0].attrs).toMatchObject(
        approximate === 'none'
          ? { activation: 'Gelu', post_affine: [2, 0] }
          : { activation: 'Gelu', activation_params: [1, 0] },
      );
    });
  }

  it('ConvNeXt block: depthwise conv -> Transpose -> LayerNormalization(-1) -> MatMul, GELU -> Transpose', async () => {
    const r = rng(9);
    const b = new OnnxBuilder({ opset: 17 });
    const C = 6;
    const x = b.input('x', [1, C, 7, 5]);
    const dw = b.node(
      'Conv',
      [x, b.init('dw', r.array(C * 9, -0.5, 0.5), [C, 1, 3, 3]), b.init('db', r.array(C), [C])],
      {
        pads: [1, 1, 1, 1],
        group: C,
      },
    );
    const t = b.node('Transpose', [dw], { perm: [0, 2, 3, 1] });
    const ln = b.node(
      'LayerNormalization',
      [t, b.init('g', r.array(C, 0.5, 1.5), [C]), b.init('be', r.array(C), [C])],
      {
        axis: -1,
        epsilon: 1e-6,
      },
    );
    const h = b.node('MatMul', [ln, b.init('w1', r.array(C * 2 * C, -0.5, 0.5), [C, 2 * C])]);
    const u = b.node('Div', [h, b.init('sq2', [Math.SQRT2], [])]);
    const gelu = b.node('Mul', [
      b.node('Mul', [h, b.node('Add', [b.node('Erf', [u]), b.init('one', [1], [])])]),
      b.init('half', [0.5], []),
    ]);
    const p = b.node('MatMul', [gelu, b.init('w2', r.array(2 * C * C, -0.5, 0.5), [2 * C, C])]);
    const back = b.node('Transpose', [p], { perm: [0, 3, 1, 2] });
    b.output(b.node('Add', [back, x], {}, { output: 'y' }));
    await check(
      b.bytes(),
      [1, C, 7, 5],
      ['Conv', 'Transpose', 'LayerNormalization', 'MatMul', 'Gelu', 'MatMul', 'Transpose', 'Add'],
      4,
    );
  });

  it('leaves look-alikes alone: Add 2 after Erf, a LayerNorm whose centred value is read again', async () => {
    const b = new OnnxBuilder({ opset: 16 });
    const x = b.input('x', [2, 6]);
    const u = b.node('Div', [x, b.init('sq2', [Math.SQRT2], [])]);
    const e = b.node('Add', [b.node('Erf', [u]), b.init('two', [2], [])]);
    b.output(b.node('Mul', [b.node('Mul', [x, e]), b.init('half', [0.5], [])], {}, { output: 'g' }));
    const d = b.node('Sub', [x, b.node('ReduceMean', [x], { axes: [-1] })]);
    const v = b.node('ReduceMean', [b.node('Pow', [d, b.init('p2', [2], [])])], { axes: [-1] });
    b.output(b.node('Div', [d, b.node('Sqrt', [b.node('Add', [v, b.init('eps', [1e-5], [])])])], {}, { output: 'n' }));
    b.output(b.node('Neg', [d], {}, { output: 'd' }));
    // a sigmoid read twice, and Mul(x, Sigmoid(y)) of another value (a squeeze-excitation gate): no Swish
    const sg = b.node('Sigmoid', [x]);
    b.output(b.node('Mul', [x, sg], {}, { output: 's1' }));
    b.output(b.node('Neg', [sg], {}, { output: 's2' }));
    b.output(b.node('Mul', [x, b.node('Sigmoid', [d])], {}, { output: 's3' }));
    const g = await check(
      b.bytes(),
      [2, 6],
      [
        'Div',
        'Erf',
        'Add',
        'Mul',
        'Mul',
        'ReduceMean',
        'Sub',
        'Pow',
        'ReduceMean',
        'Add',
        'Sqrt',
        'Div',
        'Neg',
        'Sigmoid',
        'Mul',
        'Neg',
        'Sigmoid',
        'Mul',
      ],
      5,
    );
    expect(g.nodes.some((n) => ['Gelu', 'LayerNormalization', 'Swish'].includes(n.op))).toBe(false);
  });
});
