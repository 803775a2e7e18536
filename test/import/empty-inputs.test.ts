import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';

/** One op on a graph input with a zero-size dim; the value is what ONNX defines for it, by hand. */
type Case = {
  op: string;
  dims: number[];
  build: (b: OnnxBuilder, x: string) => string;
  want: { shape: number[]; data: number[] } | RegExp;
};
const cases: Case[] = [
  { op: 'Relu', dims: [2, 0, 3], build: (b, x) => b.node('Relu', [x]) as string, want: { shape: [2, 0, 3], data: [] } },
  {
    op: 'Transpose',
    dims: [2, 0, 3],
    build: (b, x) => b.node('Transpose', [x], { perm: [2, 1, 0] }) as string,
    want: { shape: [3, 0, 2], data: [] },
  },
  {
    op: 'Concat',
    dims: [2, 0, 3],
    build: (b, x) => b.node('Concat', [x, b.init('c', [1, 2, 3, 4, 5, 6], [2, 1, 3])], { axis: 1 }) as string,
    want: { shape: [2, 1, 3], data: [1, 2, 3, 4, 5, 6] },
  },
  {
    op: 'Pad',
    dims: [2, 0, 3],
    build: (b, x) => b.node('Pad', [x, b.initInt64('p', [0, 1, 0, 0, 0, 0]), b.init('v', [2.5], [])]) as string,
    want: { shape: [2, 1, 3], data: [2.5, 2.5, 2.5, 2.5, 2.5, 2.5] },
  },
  {
    op: 'MatMul',
    dims: [2, 0],
    build: (b, x) => b.node('MatMul', [x, b.init('m', [], [0, 3])]) as string,
    want: { shape: [2, 3], data: [0, 0, 0, 0, 0, 0] },
  },
  {
    op: 'Gemm',
    dims: [2, 0],
    build: (b, x) => b.node('Gemm', [x, b.init('m', [], [0, 3]), b.init('c', [1, 2, 3], [3])]) as string,
    want: { shape: [2, 3], data: [1, 2, 3, 1, 2, 3] },
  },
  {
    op: 'ReduceSum',
    dims: [2, 0, 3],
    build: (b, x) => b.node('ReduceSum', [x, b.initInt64('ax', [1])], { keepdims: 0 }) as string,
    want: { shape: [2, 3], data: [0, 0, 0, 0, 0, 0] },
  },
  {
    op: 'ReduceMax',
    dims: [2, 0],
    build: (b, x) => b.node('ReduceMax', [x], { axes: [1], keepdims: 1 }) as string,
    want: { shape: [2, 1], data: [-Infinity, -Infinity] },
  },
  {
    op: 'GlobalAveragePool',
    dims: [1, 3, 0, 8],
    build: (b, x) => b.node('GlobalAveragePool', [x], {}, { name: 'gap' }) as string,
    want: /^e\.onnx: node gap \(GlobalAveragePool\): input x is empty \[1,3,0,8\]; GlobalAveragePool cannot make its output \[1,3,1,1\] from an empty tensor$/,
  },
  {
    op: 'Resize',
    dims: [1, 1, 0, 4],
    build: (b, x) => b.node('Resize', [x, '', '', b.initInt64('sz', [1, 1, 4, 4])], {}, { name: 'rs' }) as string,
    want: /^e\.onnx: node rs \(Resize\): input x is empty \[1,1,0,4\]/,
  },
  {
    op: 'MaxPool',
    dims: [1, 1, 0, 4],
    build: (b, x) => b.node('MaxPool', [x], { kernel_shape: [1, 1], pads: [1, 0, 1, 0] }, { name: 'mp' }) as string,
    want: /^e\.onnx: node mp \(MaxPool\): input x is empty/,
  },
];

describe('graph inputs with a zero-size dim import, and run or are refused by name', () => {
  for (const c of cases) {
    it(`${c.op} on [${c.dims}]`, async () => {
      const rt = await gpu();
      const b = new OnnxBuilder({ opset: 18 });
      b.output(c.build(b, b.input('x', c.dims)));
      let got: { shape: number[]; data: number[] } | WgsegError;
      try {
        const s = await Session.create(b.bytes(), { device: rt, source: 'e.onnx' });
        try {
          const out = Object.values(await s.run({ x: { data: new Float32Array(0), dims: c.dims } }))[0];
          got = { shape: out.shape, data: Array.from(await out.read()) };
          out.dispose();
        } finally {
          s.dispose();
        }
      } catch (e) {
        if (!(e instanceof WgsegError)) throw e;
        got = e;
      }
      if (c.want instanceof RegExp) {
        expect(got).toBeInstanceOf(WgsegError);
        expect((got as WgsegError).code).toBe('BAD_SHAPE');
        expect((got as WgsegError).message).toMatch(c.want);
      } else expect(got).toEqual(c.want);
    });
  }
});
