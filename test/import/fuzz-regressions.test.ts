import { describe, expect, it } from 'vitest';
import type { WgsegErrorCode } from '../../src/core/errors';
import { writeSafetensors } from '../../src/import/safetensors';
import { exercise } from '../../tools/fuzz/exercise';
import { fieldSpots } from '../../tools/fuzz/mutate-tflite';
import { buildSeedModel, type Format, type SeedModel } from '../../tools/fuzz/seeds';
import { gpu } from '../helpers/gpu';
import { OnnxBuilder, encodeModel, tensor } from '../helpers/onnx-build';
import { buildTflite, f32, i32, type TOp, type TTensor } from './tflite-build';

/**
 * One case per failure class the fuzzer (npm run fuzz, tools/fuzz/) found, each fixed in the
 * importers or the graph layer, run the way the fuzzer runs a case (import, Session.create, one
 * run): each must end in the WgsegError given (before the fix: a TypeError, a RangeError, a stack
 * overflow or a host allocation sized by the file's claims), with a message naming the problem.
 */

interface Regression {
  name: string;
  format: Format;
  bytes: Uint8Array;
  code: WgsegErrorCode;
  contains: string[];
  model?: SeedModel;
}

/** x [1,2,4,4] -> op(x, consts...) -> y, with int64 constants as initializers. */
function onnxWith(build: (b: OnnxBuilder, x: string) => string): Uint8Array {
  const b = new OnnxBuilder({ opset: 17 });
  const x = b.input('x', [1, 2, 4, 4]);
  b.output(build(b, x));
  return b.bytes();
}

/** safetensors bytes from a raw header text and data */
function safetensors(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** conv (fused relu) -> resize bilinear -> y, as tools/fuzz/seeds.ts builds it */
const convResize = (): { tensors: TTensor[]; inputs: number[]; outputs: number[]; ops: TOp[] } => ({
  tensors: [
    { shape: [1, 5, 7, 2], name: 'x' },
    { shape: [4, 3, 3, 2], name: 'w', data: f32(new Float32Array(72).fill(0.1)) },
    { shape: [4], name: 'b', data: f32([0, 0, 0, 0]) },
    { shape: [1, 5, 7, 4], name: 'h' },
    { shape: [2], type: 2, name: 'size', data: i32([9, 13]) },
    { shape: [1, 9, 13, 4], name: 'up' },
  ],
  inputs: [0],
  outputs: [5],
  ops: [
    {
      op: 3,
      inputs: [0, 1, 2],
      outputs: [3],
      optionsType: 1,
      options: [
        [0, 'i8', 0],
        [1, 'i32', 1],
        [2, 'i32', 1],
        [3, 'i8', 1],
      ],
    },
    {
      op: 23,
      inputs: [3, 4],
      outputs: [5],
      optionsType: 15,
      options: [
        [2, 'bool', true],
        [3, 'bool', false],
      ],
    },
  ],
});

function regressions(): Regression[] {
  const R = (
    name: string,
    format: Format,
    bytes: Uint8Array,
    code: WgsegErrorCode,
    contains: string[],
    model?: SeedModel,
  ): Regression => ({ name, format, bytes, code, contains, model });
  const stnWeights = () => {
    const t: Record<string, { shape: number[]; data: number[] }> = {};
    for (const [n, shape] of buildSeedModel('stn').params)
      t[n] = { shape, data: new Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) };
    return t;
  };
  // a valid stn weights file whose first entry is replaced by `null` in the header text
  const nullEntry = (() => {
    const bytes = writeSafetensors(stnWeights());
    const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
    header[Object.keys(header)[0]] = null;
    return safetensors(JSON.stringify(header), bytes.subarray(8 + len));
  })();
  // TFLite: a field of the RESIZE_BILINEAR options table placed past the end of the file by its vtable (option fields are read lazily, while converting)
  const lateOffset = (() => {
    const out = buildTflite(convResize()).slice();
    const dv = new DataView(out.buffer);
    const at = fieldSpots(out).filter((s) => s.what === 'options offset')[1].at;
    const table = at + dv.getUint32(at, true),
      vtable = table - dv.getInt32(table, true);
    dv.setUint16(vtable + 4 + 2 * 2, 0x7ff0, true); // slot 2 (align_corners), past the end
    return out;
  })();
  // the same field at a negative offset (vtable entries are int16): before its table
  const negativeField = (() => {
    const out = lateOffset.slice();
    const dv = new DataView(out.buffer);
    const at = fieldSpots(buildTflite(convResize())).filter((s) => s.what === 'options offset')[1].at;
    const table = at + dv.getUint32(at, true),
      vtable = table - dv.getInt32(table, true);
    dv.setUint16(vtable + 4 + 2 * 2, 0xfff0, true); // -16
    return out;
  })();
  const typedHuge = (() => {
    const m = new OnnxBuilder({ opset: 17 });
    const x = m.input('x', [1, 2, 4, 4]);
    m.output(m.node('Add', [x, m.init('c', [1], [1])], {}, { output: 'y', name: 'add' }));
    const obj = m.model();
    obj.graph.initializer.push({ name: 'huge', dims: [1 << 29], dataType: 1, floatData: [] }); // 2 GiB claimed, no values stored
    return encodeModel(obj);
  })();
  const noS = (() => {
    const m = new OnnxBuilder({ opset: 17 });
    const x = m.input('x', [1, 2, 4, 4]);
    m.output(
      m.node(
        'Pad',
        [x, m.initInt64('pads', [0, 0, 1, 1, 0, 0, 1, 1])],
        { mode: 'constant' },
        { output: 'y', name: 'pad0' },
      ),
    );
    const obj = m.model();
    (obj.graph.node[0].attribute as Record<string, unknown>[])[0] = { name: 'mode', type: 3 }; // STRING with no `s`
    return encodeModel(obj);
  })();
  return [
    // safetensors: a header entry that is not an object (TypeError reading .dtype)
    R(
      'safetensors-null-entry',
      'safetensors',
      nullEntry,
      'MALFORMED_FILE',
      ['case.safetensors: tensor', 'entry is null, not an object'],
      'stn',
    ),
    // safetensors: JSON nested 200000 deep (JSON.parse took it; the error message's JSON.stringify overflowed the stack)
    R(
      'safetensors-deep-json',
      'safetensors',
      safetensors(`{"deep":${'['.repeat(200000)}${']'.repeat(200000)}}`),
      'MALFORMED_FILE',
      ['header JSON nests deeper than 16 levels'],
    ),
    // host folds sized by hostile constants: negative dims gave RangeError (new Array(-14)), huge ones a host allocation
    R(
      'constantofshape-negative',
      'onnx',
      onnxWith((b, x) =>
        b.node(
          'Add',
          [
            x,
            b.node(
              'ConstantOfShape',
              [b.initInt64('s', [-7, 2, 1, 1])],
              { value: tensor([0.5], [1]) },
              { name: 'cos' },
            ),
          ],
          {},
          { output: 'y' },
        ),
      ),
      'BAD_SHAPE',
      ['node cos (ConstantOfShape)', '[-7,2,1,1]', 'not a non-negative integer'],
    ),
    R(
      'constantofshape-huge',
      'onnx',
      onnxWith((b, x) =>
        b.node(
          'Add',
          [
            x,
            b.node(
              'ConstantOfShape',
              [b.initInt64('s', [1, 2, 65536, 4096])],
              { value: tensor([0.5], [1]) },
              { name: 'cos' },
            ),
          ],
          {},
          { output: 'y' },
        ),
      ),
      'TOO_LARGE',
      ['node cos (ConstantOfShape)', '[1,2,65536,4096] has 536870912 elements, over the 16777216'],
    ),
    R(
      'expand-negative-const',
      'onnx',
      onnxWith((b, x) =>
        b.node(
          'Add',
          [
            x,
            b.node(
              'Expand',
              [b.init('one', [1], [1, 1, 1, 1]), b.initInt64('e', [-1, 2, 4, 4])],
              {},
              { name: 'expand' },
            ),
          ],
          {},
          { output: 'y' },
        ),
      ),
      'BAD_SHAPE',
      ['node expand (Expand)', '[-1,2,4,4]', 'not a non-negative integer'],
    ),
    // a kernel's output with a negative dim used to pass planning (numel < 0 is "small")
    R(
      'expand-negative-kernel',
      'onnx',
      onnxWith((b, x) =>
        b.node(
          'Expand',
          [b.node('ReduceMean', [x], { axes: [0, 1, 2, 3], keepdims: 1 }), b.initInt64('e', [-5, 1, 1, 1])],
          {},
          { output: 'y', name: 'expand' },
        ),
      ),
      'BAD_SHAPE',
      ['node expand (Expand)', 'every dim must be a non-negative integer'],
    ),
    R(
      'pad-beyond-safe-integers',
      'onnx',
      onnxWith((b, x) =>
        b.node('Pad', [x, b.initInt64('pads', [0, 0, 0, 2 ** 53, 0, 0, 0, 0])], {}, { output: 'y', name: 'pad0' }),
      ),
      'BAD_SHAPE',
      ['node pad0 (Pad)', 'every dim must be a non-negative integer'],
    ),
    // folds with missing pieces: TypeError on ts[0] / an axis of undefined
    R(
      'sum-no-inputs',
      'onnx',
      onnxWith((b, x) => b.node('Add', [x, b.node('Sum', [], {}, { name: 'sum0' })], {}, { output: 'y' })),
      'BAD_SHAPE',
      ['node sum0 (Sum)', 'needs at least one input'],
    ),
    R(
      'concat-no-axis',
      'onnx',
      onnxWith((b, x) =>
        b.node(
          'Reshape',
          [x, b.node('Concat', [b.initInt64('a', [1, 2]), b.initInt64('c', [4, 4])], {}, { name: 'cat0' })],
          {},
          { output: 'y' },
        ),
      ),
      'BAD_SHAPE',
      ['node cat0 (Concat)', 'axis undefined out of range'],
    ),
    R(
      'transpose-bad-perm',
      'onnx',
      onnxWith((b, x) =>
        b.node(
          'Reshape',
          [x, b.node('Transpose', [b.initInt64('s', [1, 2, 16], [1, 3])], { perm: [0, 3] }, { name: 't0' })],
          {},
          { output: 'y' },
        ),
      ),
      'BAD_SHAPE',
      ['node t0 (Transpose)', 'perm [0,3] is not a permutation of the 2 axes'],
    ),
    // ONNX decoding: a STRING attribute without `s` (TypeError in TextDecoder), typed storage claiming 2 GiB with nothing stored
    R('onnx-string-attr-unset', 'onnx', noS, 'BAD_ATTRIBUTE', [
      'node pad0 (Pad)',
      'mode "" is not constant/reflect/edge/wrap',
    ]),
    R('onnx-typed-storage-huge-dims', 'onnx', typedHuge, 'MALFORMED_FILE', [
      'tensor "huge"',
      '0 values stored for 536870912 elements of float',
    ]),
    // TFLite: bad offsets in option tables are read while converting (escaped as a plain Error), negative dims, self-reading operators
    R('tflite-options-offset', 'tflite', lateOffset, 'MALFORMED_FILE', [
      'operator #1 (RESIZE_BILINEAR): corrupt TFLite flatbuffer',
      'outside the file',
    ]),
    R('tflite-options-negative-field', 'tflite', negativeField, 'MALFORMED_FILE', [
      'operator #1 (RESIZE_BILINEAR): corrupt TFLite flatbuffer',
      'field 2 of the table',
      'outside the file',
    ]),
    R(
      'tflite-negative-dim',
      'tflite',
      buildTflite({
        ...convResize(),
        tensors: convResize().tensors.map((t, i) => (i === 3 ? { ...t, shape: [1, -5, 7, 4] } : t)),
      }),
      'BAD_SHAPE',
      ['tensor "h" has shape [1,-5,7,4]: a dim is negative'],
    ),
    R(
      'tflite-reads-own-output',
      'tflite',
      buildTflite({ ...convResize(), ops: convResize().ops.map((o, i) => (i === 1 ? { ...o, inputs: [5, 4] } : o)) }),
      'MALFORMED_FILE',
      ['operator #1 (RESIZE_BILINEAR) reads its own output "up"'],
    ),
  ];
}

describe('fuzzer-found failure classes end in a WgsegError (run as the fuzzer runs a case)', () => {
  for (const c of regressions()) {
    it(`${c.format} ${c.name}: ${c.code}`, async () => {
      const o = await exercise(c.format, c.bytes, c.model, await gpu(), 0);
      expect([o.status, o.code], o.message).toEqual(['error', c.code]);
      expect(o.message!.startsWith(`case.${c.format}: `), o.message).toBe(true);
      for (const s of c.contains) expect(o.message).toContain(s);
    });
  }

  it('a fold whose result is over the fold cap is left to the kernel, not computed on the host: Expand of a constant to [1,2,300,300]', async () => {
    const { Session } = await import('../../src/session');
    const bytes = (() => {
      const b = new OnnxBuilder({ opset: 17 });
      const x = b.input('x', [1, 2, 300, 300]);
      b.output(
        b.node(
          'Add',
          [
            x,
            b.node(
              'Expand',
              [b.init('half', [0.5], [1, 1, 1, 1]), b.initInt64('e', [1, 2, 300, 300])],
              {},
              { name: 'expand' },
            ),
          ],
          {},
          { output: 'y', name: 'add' },
        ),
      );
      return b.bytes();
    })();
    const s = await Session.create(bytes, { device: await gpu(), source: 'expand.onnx' });
    try {
      expect(s.optimizedGraph!.nodes.map((n) => n.op)).toContain('Expand'); // on the GPU, not folded
      const x = Float32Array.from({ length: 2 * 300 * 300 }, (_, i) => (i % 7) - 3);
      const out = await s.run({ x: { data: x, dims: [1, 2, 300, 300] } });
      const y = await out.y.read();
      out.y.dispose();
      expect(y.length).toBe(x.length);
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - (x[i] + 0.5)));
      expect(worst).toBe(0);
    } finally {
      s.dispose();
    }
  });
});
