import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { expectNetClose, ortRun } from '../helpers/ort';
import { rng } from '../helpers/random';

/**
 * Load-time rewrites for exporter patterns (PP-OCRv4 via paddle2onnx): per-channel constant Mul/Add
 * after a conv folded into its weights, HardSwish written out as Add 3 -> Clip(0,6) -> Mul ->
 * Div 6 (or Mul 1/6) made one op and fused into the conv, and scalar Mul/Add after that activation
 * fused as the conv's post_affine. Checked against onnxruntime.
 */

const DIMS = [1, 4, 10, 10];

function model(opset: number, variant: 'div' | 'mul', extraUse: boolean) {
  const r = rng(opset + (variant === 'div' ? 0 : 50) + (extraUse ? 7 : 0));
  const b = new OnnxBuilder({ opset });
  const x = b.input('x', DIMS);
  const c1 = b.node(
    'Conv',
    [x, b.init('w1', r.array(6 * 4 * 9, -0.5, 0.5), [6, 4, 3, 3]), b.init('b1', r.array(6), [6])],
    { pads: [1, 1, 1, 1] },
  );
  const s1 = b.node('Mul', [b.init('s1', [1.7], []), c1]); // scalar first, as paddle2onnx writes it
  const a1 = b.node('Add', [s1, b.init('a1', r.array(6), [6, 1, 1])]); // per channel
  const p3 = b.node('Add', [a1, b.init('three', [3], [])]);
  const clip =
    opset < 11
      ? b.node('Clip', [p3], { min: 0, max: 6 })
      : b.node('Clip', [p3, b.init('lo', [0], []), b.init('hi', [6], [])]);
  const m = b.node('Mul', [a1, clip]);
  const hs =
    variant === 'div' ? b.node('Div', [m, b.init('six', [6], [])]) : b.node('Mul', [m, b.init('sixth', [1 / 6], [])]);
  const s2 = b.node('Mul', [b.init('s2', [0.3], []), hs]); // after the activation: the conv's post_affine
  const t2 = b.node('Add', [s2, b.init('t2', [-0.25], [])]);
  const c2 = b.node('Conv', [t2, b.init('w2', r.array(2 * 6, -0.5, 0.5), [2, 6, 1, 1])], {});
  b.output(c2);
  if (extraUse) b.output(b.node('Relu', [a1])); // the affine output is also read elsewhere: nothing may fuse past it
  return { bytes: b.bytes(), input: Float32Array.from(r.array(DIMS.reduce((p, v) => p * v, 1))) };
}

describe('exporter-pattern fusion', () => {
  for (const [opset, variant, extra] of [
    [9, 'div', false],
    [17, 'mul', false],
    [17, 'div', true],
  ] as const)
    it(`opset ${opset}, HardSwish with ${variant === 'div' ? 'Div 6' : 'Mul 1/6'}${extra ? ', affine output read twice' : ''}: fused and equal to onnxruntime`, async () => {
      const { bytes, input } = model(opset, variant, extra);
      const ref = await ortRun(bytes, { x: { data: input, dims: DIMS } });
      const s = await Session.create(bytes, { device: await gpu() });
      try {
        const ops = s.optimizedGraph!.nodes.map((n) => n.op + (n.attrs.activation ? `+${n.attrs.activation}` : ''));
        if (extra)
          expect(ops).toEqual(['Conv', 'HardSwish', 'Mul', 'Add', 'Conv', 'Relu']); // Mul and Add folded into the conv's weights; the activation and what follows it not
        else {
          // the scalar Mul and Add after the activation ride in the conv's epilogue: y = 0.3 * hardswish(.) - 0.25
          expect(ops).toEqual(['FusedConv+HardSwish', 'Conv']);
          expect(s.optimizedGraph!.nodes[0].attrs.post_affine).toEqual([expect.closeTo(0.3, 6), -0.25]);
        }
        const out = await s.run({ x: { data: input, dims: DIMS } });
        for (const [name, t] of Object.entries(out)) {
          expectNetClose(await t.read(), ref[name].data, `${name} (${ops.join(', ')})`);
          t.dispose();
        }
      } finally {
        s.dispose();
      }
    });

  it('leaves look-alikes alone: Add 2.5, Clip(0, 5), a non-constant Mul operand', async () => {
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('x', DIMS),
      y = b.input('y', DIMS);
    const p = b.node('Add', [x, b.init('c', [2.5], [])]);
    const clip = b.node('Clip', [p, b.init('lo', [0], []), b.init('hi', [6], [])]);
    b.output(b.node('Div', [b.node('Mul', [x, clip]), b.init('six', [6], [])]));
    const q = b.node('Add', [x, b.init('three', [3], [])]);
    const clip2 = b.node('Clip', [q, b.init('lo2', [0], []), b.init('hi2', [5], [])]);
    b.output(b.node('Div', [b.node('Mul', [x, clip2]), b.init('six2', [6], [])]));
    const conv = b.node(
      'Conv',
      [
        x,
        b.init(
          'w',
          Array.from({ length: 16 }, (_, i) => i / 16),
          [4, 4, 1, 1],
        ),
      ],
      {},
    );
    b.output(b.node('Mul', [conv, y]));
    const s = await Session.create(b.bytes(), { device: await gpu() });
    try {
      const ops = s.optimizedGraph!.nodes.map((n) => n.op);
      expect(ops.filter((o) => o === 'HardSwish')).toEqual([]);
      expect(ops.filter((o) => o === 'Clip').length).toBe(2);
      expect(ops).toContain('Conv');
    } finally {
      s.dispose();
    }
  });
});
