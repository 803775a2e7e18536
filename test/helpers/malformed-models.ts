import type { WgsegErrorCode } from '../../src/core/errors';
import { OnnxBuilder, encodeModel, graph, tensorProto, type ModelObject } from './onnx-build';
import { rng } from './random';

/**
 * Malformed or unsupported ONNX model files, each with the error it must give. `stage` says where
 * wgseg is expected to catch it:
 * - 'import': importOnnx (src/import/onnx.ts) throws it; test/import/onnx.test.ts asserts these;
 * - 'plan': the file imports, and the graph layer (unsupportedOps / shape inference / kernel
 *   infer) throws it when the session is planned for `inputs`.
 * Every message must contain each string in `contains` (besides the file name it was loaded from).
 * The CLI test feeds each through `wgseg run` / `wgseg inspect` with inputs of `inputs` (zeros).
 */
export interface MalformedModel {
  name: string;
  bytes: Uint8Array;
  code: WgsegErrorCode;
  contains: string[];
  stage: 'import' | 'plan';
  /** a feed that matches the declared graph inputs (where there are any) */
  inputs: { name: string; dims: number[] }[];
}

const X = { name: 'x', dims: [1, 3, 8, 8] };

/** x [1,3,8,8] -> Conv 3x3 (w [4,3,3,3], b) -> Relu -> y: the valid base most cases edit. */
function base(opts: { opset?: number; domains?: Record<string, number> } = {}) {
  const r = rng(3);
  const b = new OnnxBuilder({ opset: opts.opset ?? 17, ...(opts.domains ? { domains: opts.domains } : {}) });
  const x = b.input('x', [1, 3, 8, 8]);
  const w = b.init('w', Float32Array.from(r.array(4 * 3 * 9)), [4, 3, 3, 3]);
  const bias = b.init('b', Float32Array.from(r.array(4)), [4]);
  return { b, x, w, bias };
}
function convRelu(opts: { opset?: number } = {}): OnnxBuilder {
  const { b, x, w, bias } = base(opts);
  const c = b.node('Conv', [x, w, bias], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }, { name: 'conv0' });
  b.output(b.node('Relu', [c], {}, { output: 'y', name: 'relu0' }));
  return b;
}
/** The conv + relu model as a ModelProto object, edited by `edit`. */
function edited(edit: (m: ModelObject) => void, opset?: number): Uint8Array {
  const m = convRelu({ opset }).model();
  edit(m);
  return encodeModel(m);
}
/** One-node model around a single op. */
function single(
  op: string,
  inputs: (b: OnnxBuilder, x: string) => string[],
  attrs: Parameters<OnnxBuilder['node']>[2],
  opts: { domain?: string; dims?: number[] } = {},
): Uint8Array {
  const b = new OnnxBuilder({ opset: 17, ...(opts.domain ? { domains: { [opts.domain]: 1 } } : {}) });
  const x = b.input('x', opts.dims ?? X.dims);
  b.output(
    b.node(op, inputs(b, x), attrs, { output: 'y', name: 'bad_node', ...(opts.domain ? { domain: opts.domain } : {}) }),
  );
  return b.bytes();
}

export function malformedModels(): MalformedModel[] {
  const valid = convRelu().bytes();
  const I = (
    name: string,
    bytes: Uint8Array,
    code: WgsegErrorCode,
    contains: string[],
    inputs = [X],
  ): MalformedModel => ({ name, bytes, code, contains, stage: 'import', inputs });
  const P = (
    name: string,
    bytes: Uint8Array,
    code: WgsegErrorCode,
    contains: string[],
    inputs = [X],
  ): MalformedModel => ({ name, bytes, code, contains, stage: 'plan', inputs });
  const te = new TextEncoder();
  return [
    // ---- not an ONNX file at all
    I('empty-file', new Uint8Array(0), 'MALFORMED_FILE', ['empty file']),
    I('truncated', valid.slice(0, Math.floor(valid.length / 2)), 'MALFORMED_FILE', ['truncated']),
    I(
      'wrong-magic-png',
      Uint8Array.from([
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8,
        6, 0, 0, 0,
      ]),
      'MALFORMED_FILE',
      ['not an ONNX file'],
    ),
    I('text-file', te.encode('this is not an onnx model\n'), 'MALFORMED_FILE', ['not an ONNX file']),
    I('no-graph', encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }), 'MALFORMED_FILE', [
      'no graph',
    ]),
    I('empty-graph', new OnnxBuilder().bytes(), 'MALFORMED_FILE', ['empty']),
    // ---- versions and domains
    I('opset-7', convRelu({ opset: 7 }).bytes(), 'UNSUPPORTED_OP', ['opset 7']),
    I('opset-30', convRelu({ opset: 30 }).bytes(), 'UNSUPPORTED_OP', ['opset 30']),
    I(
      'opset-10-resize',
      (() => {
        const b = new OnnxBuilder({ opset: 10 });
        const x = b.input('x', X.dims);
        b.output(
          b.node(
            'Resize',
            [x, b.init('scales', [1, 1, 2, 2], [4])],
            { mode: 'nearest' },
            { output: 'y', name: 'resize10' },
          ),
        );
        return b.bytes();
      })(),
      'UNSUPPORTED_OP',
      ['resize10', 'Resize', 'opset 10', 're-export with opset >= 11'],
    ),
    I(
      'custom-domain-op',
      single(
        'FusedConv',
        (b, x) => [x, b.init('w', new Float32Array(108), [4, 3, 3, 3])],
        { activation: 'Relu' },
        { domain: 'com.microsoft' },
      ),
      'UNSUPPORTED_OP',
      ['bad_node', 'FusedConv', 'com.microsoft'],
    ),
    I(
      'if-subgraph',
      (() => {
        const b = new OnnxBuilder();
        const x = b.input('x', X.dims);
        const cond = b.init('cond', [1], [], 'bool');
        const branch = () => {
          const s = new OnnxBuilder({ name: 'branch' });
          s.output(s.node('Identity', [x], {}, { output: 'bx' }));
          return graph(s);
        };
        b.output(b.node('If', [cond], { then_branch: branch(), else_branch: branch() }, { output: 'y', name: 'if0' }));
        return b.bytes();
      })(),
      'UNSUPPORTED_OP',
      ['if0', 'If', 'subgraph'],
    ),
    // ---- tensors: dims, sizes, storage
    I(
      'negative-dims-initializer',
      edited((m) => {
        m.graph.initializer[0].dims = [4, -3, 3, 3];
      }),
      'BAD_SHAPE',
      ['"w"', '-3'],
    ),
    I(
      'huge-dims-initializer',
      edited((m) => {
        m.graph.initializer.push({ name: 'huge', dims: [65536, 65536, 4], dataType: 1 });
      }),
      'BAD_SHAPE',
      ['"huge"', '2 GiB'],
    ),
    I(
      'negative-input-dim',
      edited((m) => {
        m.graph.input[0] = inputInfo('x', [1, -3, 8, 8]);
      }),
      'BAD_SHAPE',
      ['"x"', '-3'],
    ),
    I(
      'huge-input-dims',
      edited((m) => {
        m.graph.input[0] = inputInfo('x', [1, 3, 100000, 100000]);
      }),
      'BAD_SHAPE',
      ['"x"', '2 GiB'],
    ),
    I(
      'external-data',
      edited((m) => {
        m.graph.initializer[0] = {
          name: 'w',
          dims: [4, 3, 3, 3],
          dataType: 1,
          dataLocation: 1,
          externalData: [
            { key: 'location', value: 'weights.bin' },
            { key: 'offset', value: '0' },
            { key: 'length', value: '432' },
          ],
        };
      }),
      'MALFORMED_FILE',
      // bytes: nowhere to look ("external data is not supported"); a path (CLI): the missing weights.bin beside it
      ['"w"', 'weights.bin'],
    ),
    I(
      'initializer-length-mismatch',
      edited((m) => {
        m.graph.initializer[0] = tensorProto('w', new Float32Array(10), [4, 3, 3, 3], 'float32');
      }),
      'MALFORMED_FILE',
      ['"w"', '40 bytes'],
    ),
    I(
      'initializer-typed-length-mismatch',
      edited((m) => {
        m.graph.initializer[1] = tensorProto('b', [1, 2, 3], [4], 'float32', 'typed');
      }),
      'MALFORMED_FILE',
      ['"b"', '3 values stored for 4'],
    ),
    I(
      'unknown-data-type',
      edited((m) => {
        m.graph.initializer[1] = { name: 'b', dims: [4], dataType: 99, rawData: new Uint8Array(16) };
      }),
      'MALFORMED_FILE',
      ['"b"', 'data_type 99'],
    ),
    I(
      'string-initializer',
      edited((m) => {
        m.graph.initializer[1] = tensorProto('b', [1, 2, 3, 4], [4], 'string');
      }),
      'UNSUPPORTED_DTYPE',
      ['"b"', 'string'],
    ),
    I(
      'string-input',
      edited((m) => {
        m.graph.input[0] = inputInfo('x', [1, 3, 8, 8], 8);
      }),
      'UNSUPPORTED_DTYPE',
      ['"x"', 'string'],
    ),
    I(
      'sparse-initializer',
      edited((m) => {
        m.graph.sparseInitializer = [
          {
            values: tensorProto('sw', [1], [1], 'float32'),
            indices: tensorProto('', [0], [1, 1], 'int64'),
            dims: [2, 2],
          },
        ];
      }),
      'UNSUPPORTED_DTYPE',
      ['"sw"', 'sparse'],
    ),
    // ---- graph structure
    I(
      'dangling-input',
      edited((m) => {
        (m.graph.node[1].input as string[])[0] = 'nowhere';
      }),
      'MALFORMED_FILE',
      ['relu0', '"nowhere"'],
    ),
    I(
      'cycle',
      (() => {
        const b = new OnnxBuilder();
        const x = b.input('x', X.dims);
        b.node('Add', [x, 'loop_b'], {}, { output: 'loop_a', name: 'add_a' });
        b.node('Relu', ['loop_a'], {}, { output: 'loop_b', name: 'relu_b' });
        b.output('loop_b');
        return b.bytes();
      })(),
      'MALFORMED_FILE',
      ['cycle'],
    ),
    I(
      'duplicate-producer',
      edited((m) => {
        m.graph.node.push({ opType: 'Sigmoid', name: 'sig_dup', input: ['x'], output: ['y'] });
      }),
      'MALFORMED_FILE',
      ['"y"', 'defined twice', 'sig_dup'],
    ),
    I(
      'graph-output-missing',
      edited((m) => {
        m.graph.output.push(inputInfo('ghost', [1]));
      }),
      'MALFORMED_FILE',
      ['"ghost"'],
    ),
    // ---- caught when the graph is planned (kernels / shape inference)
    P(
      'unknown-op',
      single('FrobnicateV2', (_b, x) => [x], {}),
      'UNSUPPORTED_OP',
      ['FrobnicateV2'],
    ),
    P(
      'attribute-wrong-type',
      single('MaxPool', (_b, x) => [x], { kernel_shape: '3,3' }),
      'BAD_ATTRIBUTE',
      ['kernel_shape'],
    ),
    P(
      'attribute-bad-value',
      single('Conv', (b, x) => [x, b.init('w', new Float32Array(108), [4, 3, 3, 3])], { auto_pad: 'BOGUS' }),
      'BAD_ATTRIBUTE',
      ['auto_pad', 'BOGUS'],
    ),
    P(
      'conv-weight-mismatch',
      single('Conv', (b, x) => [x, b.init('w', new Float32Array(4 * 5 * 9), [4, 5, 3, 3])], {}),
      'BAD_SHAPE',
      ['bad_node', '[4,5,3,3]'],
    ),
    // empty inputs import; a kernel that cannot make its output from one says so when planned
    P(
      'zero-size-input-conv',
      edited((m) => {
        m.graph.input[0] = inputInfo('x', [1, 3, 0, 8]);
      }),
      'BAD_SHAPE',
      ['conv0', 'height 0'],
      [{ name: 'x', dims: [1, 3, 0, 8] }],
    ),
    P(
      'zero-size-input-pool',
      single('GlobalAveragePool', (_b, x) => [x], {}, { dims: [1, 3, 0, 8] }),
      'BAD_SHAPE',
      ['bad_node', 'input x is empty [1,3,0,8]'],
      [{ name: 'x', dims: [1, 3, 0, 8] }],
    ),
    P(
      'reshape-mismatch',
      single('Reshape', (b, x) => [x, b.initInt64('shape', [5, 7])], {}),
      'BAD_SHAPE',
      ['bad_node', '[5,7]'],
    ),
  ];
}

function inputInfo(name: string, dims: number[], elemType = 1) {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}
