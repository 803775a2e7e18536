import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stnClassifier, unet, writeSafetensors, type Model } from '../../src/index';
import { writeNpy } from '../../src/internal';
import { buildTflite, f32, i32, type TOp, type TTensor } from '../../test/import/tflite-build';
import { OnnxBuilder, tensor } from '../../test/helpers/onnx-build';
import { SEED_NETS } from '../../test/helpers/networks';
import { rng } from '../../test/helpers/random';

/**
 * Valid files the fuzzer starts from, per format. Every seed loads and runs as it is (the worker
 * checks that before fuzzing), so a mutation is what makes a case fail.
 * - onnx: small nets built in code: conv + relu, a host-folded shape/index chain (Shape, Gather,
 *   ConstantOfShape, Expand, Tile, Pad, Resize sizes, Slice, ArgMax), the transformer-era ops
 *   (LayerNorm, GroupNorm, Split, Einsum, GELU/Mish written out, CumSum, TopK, MaxUnpool), and the seed networks of
 *   test/helpers/networks.ts at small sizes (U-Net, STN with a symbolic batch, SRN head);
 * - tflite: MediaPipe's selfie segmentation model (node_modules) and small files built with the
 *   flatbuffers Builder (described as data, so the mutator can edit the description);
 * - safetensors: the weights of two seed architectures (src/models), plus one file of every dtype;
 * - npy: float/int/bool arrays, v1 and v2 headers, big-endian, 0-d and empty arrays.
 */

export type Format = 'onnx' | 'tflite' | 'safetensors' | 'npy';
export const FORMATS: Format[] = ['onnx', 'tflite', 'safetensors', 'npy'];

export interface TfliteDesc {
  tensors: TTensor[];
  inputs: number[];
  outputs: number[];
  ops: TOp[];
  version?: number;
}

export interface Seed {
  format: Format;
  name: string;
  bytes: Uint8Array;
  /** tflite seeds built here: the description the bytes were built from */
  tflite?: TfliteDesc;
  /** safetensors seeds holding a seed architecture's weights: that architecture */
  model?: SeedModel;
}

/** The seed architectures whose weights the safetensors seeds hold (rebuilt fresh per case: load() fills the graph). */
export type SeedModel = 'stn' | 'unet';
export function buildSeedModel(m: SeedModel): Model {
  return m === 'stn'
    ? stnClassifier({ size: 28, classes: 4 })
    : unet({ channels: 1, classes: 2, width: 4, depth: 2, inputHeight: 16, inputWidth: 16 });
}

const SELFIE = join(
  import.meta.dirname,
  '..',
  '..',
  'node_modules',
  '@mediapipe',
  'selfie_segmentation',
  'selfie_segmentation.tflite',
);

function onnxSeeds(): Seed[] {
  const r = rng(11);
  const s = (name: string, bytes: Uint8Array): Seed => ({ format: 'onnx', name, bytes });
  // conv + relu (the base of test/helpers/malformed-models.ts)
  const a = new OnnxBuilder({ opset: 17 });
  const x = a.input('x', [1, 3, 8, 8]);
  const c = a.node(
    'Conv',
    [x, a.init('w', Float32Array.from(r.array(4 * 27)), [4, 3, 3, 3]), a.init('b', Float32Array.from(r.array(4)), [4])],
    { pads: [1, 1, 1, 1], kernel_shape: [3, 3] },
    { name: 'conv0' },
  );
  a.output(a.node('Relu', [c], {}, { output: 'y', name: 'relu0' }));
  // host-folded chains: every int64 constant here is a size, an index or a repeat count the mutator can make hostile
  const b = new OnnxBuilder({ opset: 17 });
  const xin = b.input('x', ['N', 2, 4, 4]);
  const shp = b.node('Shape', [xin], {}, { name: 'shape' });
  const hw = b.node('Gather', [shp, b.initInt64('hw_idx', [2, 3])], { axis: 0 }, { name: 'gather_hw' });
  const twice = b.node('Mul', [hw, b.initInt64('two', [2], [])], {}, { name: 'mul_hw' });
  const nc = b.node(
    'Slice',
    [shp, b.initInt64('s0', [0]), b.initInt64('s2', [2]), b.initInt64('ax0', [0])],
    {},
    { name: 'slice_nc' },
  );
  const sizes = b.node('Concat', [nc, twice], { axis: 0 }, { name: 'sizes' });
  const up = b.node(
    'Resize',
    [xin, '', '', sizes],
    { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    { name: 'resize' },
  );
  const padded = b.node(
    'Pad',
    [up, b.initInt64('pads', [0, 0, 1, 1, 0, 0, 1, 1])],
    { mode: 'constant' },
    { name: 'pad' },
  );
  const ones = b.node(
    'ConstantOfShape',
    [b.initInt64('cshape', [1, 2, 1, 1])],
    { value: tensor([0.5], [1]) },
    { name: 'cos' },
  );
  const big = b.node('Expand', [ones, b.initInt64('eshape', [1, 2, 10, 10])], {}, { name: 'expand' });
  const tiled = b.node(
    'Tile',
    [b.node('Add', [padded, big], {}, { name: 'add' }), b.initInt64('reps', [1, 1, 1, 2])],
    {},
    { name: 'tile' },
  );
  const clipped = b.node('Clip', [tiled, b.init('lo', [-0.5], []), b.init('hi', [0.75], [])], {}, { name: 'clip' });
  b.output(b.node('ArgMax', [clipped], { axis: 1, keepdims: 0 }, { output: 'labels', name: 'argmax' }), 'int64');
  b.output(
    b.node(
      'Softmax',
      [b.node('Reshape', [clipped, b.initInt64('flat', [0, -1])], {}, { name: 'reshape' })],
      { axis: -1 },
      { output: 'probs', name: 'softmax' },
    ),
  );
  // transformer-era ops (issue 15): LayerNorm, Split, Einsum attention, written-out GELU and Mish,
  // the parametric activations, CumSum, TopK, GroupNorm, MaxPool Indices -> MaxUnpool
  const t = new OnnxBuilder({ opset: 18 });
  const tx = t.input('x', [1, 6, 8]);
  const ln = t.node('LayerNormalization', [tx, t.init('ln_g', r.array(8), [8]), t.init('ln_b', r.array(8), [8])], {
    axis: -1,
  });
  const [q, k, v] = t
    .node('Split', [ln], { axis: 2, num_outputs: 3 }, { outputs: 3 })
    .map((p, i) => t.node('Pad', [p, t.initInt64(`pad${i}`, [0, 0, 0, 0, 0, i === 2 ? 1 : 0])]));
  const att = t.node('Softmax', [t.node('Einsum', [q, k], { equation: 'bnc,bmc->bnm' })], { axis: -1 });
  const ctx = t.node('Einsum', [att, v], { equation: 'bnm,bmc->bnc' });
  const erf = t.node('Erf', [t.node('Div', [ctx, t.init('sqrt2', [Math.SQRT2], [])])]);
  const gelu = t.node('Mul', [
    t.node('Mul', [ctx, t.node('Add', [erf, t.init('one', [1], [])])]),
    t.init('half', [0.5], []),
  ]);
  const mish = t.node('Mul', [gelu, t.node('Tanh', [t.node('Softplus', [gelu])])]);
  const acts = ['Softsign', 'Celu', 'Selu', 'ThresholdedRelu'].reduce((h, op) => t.node(op, [h]), mish);
  const cum = t.node('CumSum', [acts, t.initInt64('cum_axis', [1], [])], { exclusive: 1 });
  const [vals, idx] = t.node('TopK', [cum, t.initInt64('k', [2])], { axis: -1 }, { outputs: 2 });
  t.output(vals, 'float32');
  t.output(idx, 'int64');
  const map = t.node('Reshape', [ln, t.initInt64('map', [1, 6, 2, 4])]);
  const gn = t.node('GroupNormalization', [map, t.init('gn_s', r.array(3), [3]), t.init('gn_b', r.array(3), [3])], {
    num_groups: 3,
  });
  const [pooled, ind] = t.node('MaxPool', [gn], { kernel_shape: [2, 2], strides: [2, 2] }, { outputs: 2 });
  t.output(t.node('MaxUnpool', [pooled, ind], { kernel_shape: [2, 2], strides: [2, 2] }, { output: 'unpooled' }));
  return [
    s('conv-relu', a.bytes()),
    s('shape-chain', b.bytes()),
    s('transformer-ops', t.bytes()),
    s('unet', SEED_NETS.unet(2, 16).bytes),
    s('stn', SEED_NETS.stn().bytes),
    s('srn', SEED_NETS.srn(4, 16).bytes),
  ];
}

/** Small TFLite descriptions (tensor/op indices as in test/import/tflite.test.ts): depthwise + DEQUANTIZE, ADD/CONCAT/MEAN, RESIZE. */
function tfliteDescs(): [string, TfliteDesc][] {
  const r = rng(12);
  const q = [5, -7, 100, -128, 127, 3];
  const dw: TfliteDesc = {
    tensors: [
      { shape: [1, 6, 8, 3], name: 'x' },
      { shape: [1, 3, 3, 6], name: 'w', data: f32(r.array(54)) },
      {
        shape: [6],
        type: 9,
        name: 'bq',
        data: new Uint8Array(Int8Array.from(q).buffer),
        quant: { scale: [0.01, 0.02, 0.01, 0.005, 0.01, 0.1], zeroPoint: [0, 1, -2, 0, 3, 0], axis: 0 },
      },
      { shape: [6], name: 'b' },
      { shape: [1, 3, 4, 6], name: 'y' },
    ],
    inputs: [0],
    outputs: [4],
    ops: [
      { op: 6, inputs: [2], outputs: [3] },
      {
        op: 4,
        inputs: [0, 1, 3],
        outputs: [4],
        optionsType: 2,
        options: [
          [0, 'i8', 0],
          [1, 'i32', 2],
          [2, 'i32', 2],
          [3, 'i32', 2],
          [4, 'i8', 3],
        ],
      },
    ],
  };
  const cat: TfliteDesc = {
    tensors: [
      { shape: [2, 3, 4, 2], name: 'x' },
      { shape: [2], name: 'c', data: f32([0.5, -1.5]) },
      { shape: [2, 3, 4, 2], name: 'xc' },
      { shape: [2, 3, 4, 4], name: 'cat' },
      { shape: [2], type: 2, name: 'axes', data: i32([1, 2]) },
      { shape: [2, 4], name: 'mean' },
    ],
    inputs: [0],
    outputs: [3, 5],
    ops: [
      { op: 0, inputs: [0, 1], outputs: [2], optionsType: 11, options: [[0, 'i8', 0]] },
      {
        op: 2,
        inputs: [0, 2],
        outputs: [3],
        optionsType: 10,
        options: [
          [0, 'i32', -1],
          [1, 'i8', 0],
        ],
      },
      { op: 40, inputs: [3, 4], outputs: [5], optionsType: 27, options: [[0, 'bool', false]] },
    ],
  };
  const conv: TfliteDesc = {
    tensors: [
      { shape: [1, 5, 7, 2], name: 'x' },
      { shape: [4, 3, 3, 2], name: 'w', data: f32(r.array(72)) },
      { shape: [4], name: 'b', data: f32(r.array(4)) },
      { shape: [1, 5, 7, 4], name: 'h' },
      { shape: [2], type: 2, name: 'size', data: i32([9, 13]) },
      { shape: [1, 9, 13, 4], name: 'up' },
      { shape: [1, 5, 7, 4], name: 'p' },
    ],
    inputs: [0],
    outputs: [5, 6],
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
      {
        op: 17,
        inputs: [3],
        outputs: [6],
        optionsType: 5,
        options: [
          [0, 'i8', 0],
          [1, 'i32', 1],
          [2, 'i32', 1],
          [3, 'i32', 3],
          [4, 'i32', 3],
          [5, 'i8', 0],
        ],
      },
    ],
  };
  return [
    ['depthwise-dequantize', dw],
    ['add-concat-mean', cat],
    ['conv-resize-pool', conv],
  ];
}

function tfliteSeeds(): Seed[] {
  const selfie: Seed = { format: 'tflite', name: 'selfie', bytes: new Uint8Array(readFileSync(SELFIE)) };
  return [
    selfie,
    ...tfliteDescs().map(([name, d]): Seed => ({ format: 'tflite', name, bytes: buildTflite(d), tflite: d })),
  ];
}

function safetensorsSeeds(): Seed[] {
  const r = rng(13);
  const weights = (m: SeedModel): Seed => {
    const model = buildSeedModel(m);
    const tensors: Record<string, { shape: number[]; data: ArrayLike<number> }> = {};
    for (const [name, shape] of model.params)
      tensors[name] = {
        shape,
        data: r.array(
          shape.reduce((a, b) => a * b, 1),
          -0.3,
          0.3,
        ),
      };
    return { format: 'safetensors', name: `${m}-weights`, bytes: writeSafetensors(tensors), model: m };
  };
  return [weights('stn'), weights('unet'), { format: 'safetensors', name: 'all-dtypes', bytes: allDtypes() }];
}

/** One tensor of each dtype readSafetensors takes, plus __metadata__. */
function allDtypes(): Uint8Array {
  const specs: [string, number, number[]][] = [
    ['F64', 8, [2, 2]],
    ['F32', 4, [3]],
    ['F16', 2, [2, 3]],
    ['BF16', 2, [4]],
    ['I64', 8, [2]],
    ['I32', 4, [1, 3]],
    ['I16', 2, [2]],
    ['I8', 1, [5]],
    ['U8', 1, [2, 2]],
    ['BOOL', 1, [3]],
  ];
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'fuzz seed' } };
  let off = 0;
  for (const [dt, size, shape] of specs) {
    const n = shape.reduce((a, b) => a * b, 1) * size;
    header[`t_${dt.toLowerCase()}`] = { dtype: dt, shape, data_offsets: [off, off + n] };
    off += n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  for (let i = 8 + json.length; i < out.length; i++) out[i] = (i * 37) & 0x3f; // small, valid values for every dtype
  return out;
}

/** A .npy with a given header dict and raw data (for dtypes writeNpy does not write). */
export function npyFile(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, header.length, true);
  else v.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(data, total);
  return out;
}

function npySeeds(): Seed[] {
  const r = rng(14);
  const s = (name: string, bytes: Uint8Array): Seed => ({ format: 'npy', name, bytes });
  const be = new Uint8Array(16);
  new DataView(be.buffer).setFloat64(0, 1.5, false), new DataView(be.buffer).setFloat64(8, -2, false);
  return [
    s('f32-4d', writeNpy('float32', [1, 2, 3, 4], r.array(24))),
    s('i64-2d', writeNpy('int64', [3, 2], [0, 1, -2, 3, 4, -5])),
    s(
      'f16-v2',
      npyFile(
        "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }",
        new Uint8Array(Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001).buffer),
        2,
      ),
    ),
    s('u8-bool', npyFile("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", Uint8Array.of(0, 1, 1, 0))),
    s('f64-be', npyFile("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", be)),
    s(
      'i32-0d',
      npyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (), }", new Uint8Array(Int32Array.of(7).buffer)),
    ),
    s('f32-empty', writeNpy('float32', [2, 0, 3], [])),
  ];
}

/** Every seed of a format. */
export function seeds(format: Format): Seed[] {
  switch (format) {
    case 'onnx':
      return onnxSeeds();
    case 'tflite':
      return tfliteSeeds();
    case 'safetensors':
      return safetensorsSeeds();
    case 'npy':
      return npySeeds();
  }
}
