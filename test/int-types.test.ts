import { describe, expect, it } from 'vitest';
import { Session } from '../src/session';
import { gpu } from './helpers/gpu';
import { OnnxBuilder, f } from './helpers/onnx-build';
import { TOL, expectClose } from './helpers/tolerance';

/** One-node-chain models through import -> plan -> GPU, against f64 references written from the ONNX definitions. */

describe('Swish-24 alpha through Session', () => {
  it('y = x * sigmoid(alpha * x) for alpha 0.5 and default 1', async () => {
    const b = new OnnxBuilder({ opset: 24 });
    const x = b.input('x', [8]);
    b.output(b.node('Swish', [x], { alpha: f(0.5) }, { output: 'half' }));
    b.output(b.node('Swish', [x], {}, { output: 'one' }));
    const s = await Session.create(b.bytes(), { device: await gpu(), source: 'swish.onnx' });
    const data = Float32Array.from([-7, -3, -1.5, -0.5, 0, 0.75, 2, 6]);
    const out = await s.run({ x: { data, dims: [8] } });
    const ref = (a: number) => Array.from(data, (v) => v / (1 + Math.exp(-a * v)));
    expectClose(await out.half.read(), ref(0.5), TOL.f32, 'Swish alpha=0.5');
    expectClose(await out.one.read(), ref(1), TOL.f32, 'Swish alpha=1');
    s.dispose();
  });
});
