import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { gpuMemory } from '../../src/gpu/memory';
import { checkLimits, planMemory } from '../../src/graph/plan';
import { resolve } from '../../src/graph/shapes';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder } from '../helpers/onnx-build';
import { GraphBuilder } from './build';

/**
 * GPU buffer limits are checked on the plan, before any buffer exists: one buffer against the
 * adapter's maxStorageBufferBindingSize (or SessionOptions.maxBufferBytes when lower), all of a
 * plan's buffers against maxTotalBytes. The error names the node, shape, type and bytes.
 */

const err = async (p: Promise<unknown>): Promise<WgsegError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WgsegError);
    return e as WgsegError;
  }
  throw new Error('no error');
};

/** x [1,3,H,W] -> Conv 3x3 to `cout` channels -> c */
function conv(h: number, w: number, cout = 16): Uint8Array {
  const b = new OnnxBuilder({ opset: 17 });
  const x = b.input('x', [1, 3, h, w]);
  b.output(
    b.node(
      'Conv',
      [x, b.init('w', new Float32Array(cout * 27), [cout, 3, 3, 3])],
      { pads: [1, 1, 1, 1], kernel_shape: [3, 3] },
      { name: 'conv0', output: 'c' },
    ),
  );
  return b.bytes();
}

describe('GPU buffer limits (checked before allocating)', () => {
  it('checkLimits names the value in an oversized slot, a constant, and the total (no GPU)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 64, 64]);
    b.output(b.node('Relu', [b.node('Sigmoid', [x])]));
    const r = resolve(b.g, {});
    const p = planMemory(r.graph, r.gpu);
    const lim = {
      maxBufferBytes: 1 << 20,
      bufferLimit: 'test limit',
      maxTotalBytes: 1 << 30,
      totalLimit: 'test total',
    };
    expect(() => checkLimits(r.graph, r.gpu, p, lim)).not.toThrow();
    const small = { ...lim, maxBufferBytes: 32768 };
    expect(() => checkLimits(r.graph, r.gpu, p, small)).toThrow(
      /input x \[1,4,64,64\] f32 needs 65536 bytes .*over the limit of 32768 bytes per buffer .*test limit/,
    );
    expect(() => checkLimits(r.graph, r.gpu, p, { ...lim, maxTotalBytes: 100000 })).toThrow(
      /the plan needs 262144 bytes .* over the limit of 100000 bytes .*test total/,
    );
    // a weight over the limit is named with the node that reads it (here nothing else is over)
    const c = new GraphBuilder();
    const cx = c.input('x', [1, 300, 1, 1]);
    c.output(
      c.node('Conv', [cx, c.const('w6', [16, 300, 1, 1], new Array(16 * 300).fill(0.01), 'float32')], {
        kernel_shape: [1, 1],
      }),
    );
    const rc = resolve(c.g, {});
    expect(() => checkLimits(rc.graph, rc.gpu, planMemory(rc.graph, rc.gpu), { ...lim, maxBufferBytes: 8192 })).toThrow(
      /constant w6 \[16,300,1,1\] f32 \(read by node conv_0 \(Conv\): input 1\) needs 19200 bytes/,
    );
  });

  it("a conv output over the adapter's maxStorageBufferBindingSize: TOO_LARGE at create, nothing allocated", async () => {
    const rt = await gpu();
    const bind = rt.device.limits.maxStorageBufferBindingSize;
    // 16 channels x h x w f32 just over the binding limit
    const side = Math.ceil(Math.sqrt(bind / 64 + 1));
    const before = gpuMemory();
    const e = await err(Session.create(conv(side, side), { device: rt, source: 'big.onnx' }));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toMatch(
      new RegExp(
        `^big\\.onnx: node conv0 \\(Conv\\): output c \\[1,16,${side},${side}\\] f32 needs ${64 * side * side} bytes .*over the limit of ${bind} bytes per buffer .*maxStorageBufferBindingSize`,
      ),
    );
    expect(gpuMemory()).toEqual(before);
  });

  it('SessionOptions.maxBufferBytes and maxTotalBytes lower the limits; a run with a bigger symbolic size is refused the same way', async () => {
    const rt = await gpu();
    let e = await err(Session.create(conv(32, 32), { device: rt, source: 'c.onnx', maxBufferBytes: 32 * 1024 }));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toMatch(
      /^c\.onnx: node conv0 \(Conv\): output c \[1,16,32,32\] f32 needs 65536 bytes .*SessionOptions\.maxBufferBytes/,
    );
    e = await err(Session.create(conv(32, 32), { device: rt, source: 'c.onnx', maxTotalBytes: 100_000 }));
    expect(e.message).toMatch(
      /^c\.onnx: the plan needs \d+ bytes .*over the limit of 100000 bytes .*SessionOptions\.maxTotalBytes/,
    );
    expect((await err(Session.create(conv(8, 8), { device: rt, maxBufferBytes: -1 }))).message).toBe(
      'maxBufferBytes must be a positive number of bytes, got -1',
    );

    const b = new OnnxBuilder({ opset: 17 });
    b.output(b.node('Relu', [b.input('x', [1, 'C', 'H', 'W'])], {}, { output: 'y', name: 'relu0' }));
    const s = await Session.create(b.bytes(), { device: rt, source: 'sym.onnx', maxBufferBytes: 1 << 20 });
    try {
      const ok = await s.run({ x: { data: new Float32Array(4 * 16 * 16), dims: [1, 4, 16, 16] } });
      expect(ok.y.shape).toEqual([1, 4, 16, 16]);
      ok.y.dispose();
      const before = gpuMemory();
      const big = await err(s.run({ x: { data: new Float32Array(4 * 256 * 256), dims: [1, 4, 256, 257] } }));
      // the data length check (BAD_INPUT) comes first; with matching data the plan is refused
      expect(big.code).toBe('BAD_INPUT');
      const e2 = await err(s.run({ x: { data: new Float32Array(4 * 256 * 257), dims: [1, 4, 256, 257] } }));
      expect(e2.code).toBe('TOO_LARGE');
      expect(e2.message).toMatch(/^sym\.onnx: input x \[1,4,256,257\] f32 needs 1052672 bytes/);
      expect(gpuMemory().bytes).toBeLessThanOrEqual(before.bytes);
    } finally {
      s.dispose();
    }
  });
});
