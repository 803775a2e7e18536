import { describe, it } from 'vitest';
import { runOp } from './helpers/gpu';
import { rng } from './helpers/random';
import { TOL, expectClose } from './helpers/tolerance';
import { unaryRef } from './reference/elementwise';

describe('unary elementwise', () => {
  const r = rng(1);
  const params: Record<string, [Record<string, number>, number, number]> = {
    LeakyRelu: [{ alpha: 0.1 }, 0.1, 0],
    HardSigmoid: [{ alpha: 0.3, beta: 0.4 }, 0.3, 0.4],
    Elu: [{ alpha: 0.7 }, 0.7, 0],
  };
  for (const op of Object.keys(unaryRef)) {
    it(op, async () => {
      const shape = [2, 3, r.int(1, 9), r.int(1, 9)];
      const n = shape.reduce((a, b) => a * b);
      const positive = ['Sqrt', 'Log', 'Reciprocal'].includes(op);
      const x = Float32Array.from(r.array(n, positive ? 0.1 : -8, 8));
      const [attrs, a, b] = params[op] ?? [{}, 0, 0];
      const clip = op === 'Clip' ? [{ data: [-0.5], shape: [] }, { data: [2], shape: [] }] : [];
      const [lo, hi] = op === 'Clip' ? [-0.5, 2] : [a, b];
      const [y] = await runOp(op, [{ data: x, shape }, ...clip], attrs);
      expectClose(y.data, Array.from(x, (v) => unaryRef[op](v, lo, hi)), TOL.f32, op);
    });
  }
});
