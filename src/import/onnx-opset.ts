/**
 * Which ONNX opsets wgseg reads, and which ops it reads at the old ones. The kernels implement the
 * opset 11+ definitions (Softmax/LogSoftmax switch on `__opset` at 13); opsets 22-25 changed only
 * element types and added ops (Swish among them), so they read the same. Opsets 9 and 10 are taken
 * op by op: an op is listed below when its definition in force at opset 9/10 means what the
 * kernels do, either because it is the same as at 11 (apart from negative axes, which 11 allowed
 * and the kernels accept) or because the kernels read the old form too (Slice/Pad/Clip
 * attributes, Upsample's scales input). Anything else at opset 9/10 (Resize 10's scales-only
 * form, ops added at 11+) is rejected with a request to re-export.
 */

export const MIN_OPSET = 11;
export const MAX_OPSET = 25;
/** Oldest opset taken at all (op by op, see OLD_OPSET_OPS). */
export const OLDEST_OPSET = 9;

/** op -> the oldest opset at which wgseg reads its definition right (only consulted below 11). */
const OLD_OPSET_OPS: Record<string, number> = Object.fromEntries(
  [
    // elementwise and activations: unchanged in meaning since opset 6-9 (later versions add types)
    ...[
      'Abs',
      'Neg',
      'Sqrt',
      'Exp',
      'Log',
      'Reciprocal',
      'Floor',
      'Ceil',
      'Relu',
      'Sigmoid',
      'Tanh',
      'LeakyRelu',
      'Elu',
      'HardSigmoid',
      'PRelu',
    ],
    ...[
      'Add',
      'Sub',
      'Mul',
      'Div',
      'Pow',
      'Sum',
      'Mean',
      'Max',
      'Min',
      'Equal',
      'Less',
      'Greater',
      'Not',
      'And',
      'Or',
      'Where',
    ],
    // Clip-6 min/max and Pad-2 pads/value attributes: the kernels read those when the inputs are absent
    ...['Clip', 'Pad'],
    // layout and shape ops (Slice-1 attributes and Slice-10 inputs both read; Squeeze/Unsqueeze/Reduce axes attributes too)
    ...[
      'Constant',
      'Identity',
      'Cast',
      'Shape',
      'Size',
      'Reshape',
      'Flatten',
      'Transpose',
      'Squeeze',
      'Unsqueeze',
      'Concat',
      'Gather',
      'Expand',
      'Tile',
      'ConstantOfShape',
      'Slice',
    ],
    ...['DepthToSpace', 'SpaceToDepth'],
    // Upsample-9/10: scales as input 1 (the kernel also reads Upsample-7's attribute)
    'Upsample',
    // conv, pool, norm: MaxPool-8/AveragePool-7 lack ceil_mode/dilations, whose defaults are the old behaviour
    ...[
      'Conv',
      'ConvTranspose',
      'MaxPool',
      'AveragePool',
      'GlobalAveragePool',
      'GlobalMaxPool',
      'BatchNormalization',
      'InstanceNormalization',
    ],
    // Softmax-1/LogSoftmax-1 flatten from `axis` as Softmax-11 does (the kernel switches on __opset at 13)
    ...['Softmax', 'LogSoftmax', 'ArgMax', 'ArgMin', 'MatMul', 'Gemm'],
    ...[
      'ReduceSum',
      'ReduceMean',
      'ReduceMax',
      'ReduceMin',
      'ReduceProd',
      'ReduceL1',
      'ReduceL2',
      'ReduceLogSum',
      'ReduceLogSumExp',
      'ReduceSumSquare',
    ],
  ]
    .map((op): [string, number] => [op, OLDEST_OPSET])
    .concat([['Mod', 10]])
    // activations and structure ops of issue 15 whose opset 9/10 definitions the kernels read (Split-2's
    // split attribute, MaxUnpool-9's output_shape input, TopK-10's K input with largest/sorted at their defaults)
    .concat(['Erf', 'Softplus', 'Softsign', 'Selu', 'Split', 'MaxUnpool'].map((op): [string, number] => [op, 9]))
    .concat([
      ['ThresholdedRelu', 10],
      ['TopK', 10],
    ])
    // the quantization ops came at opset 10 with the per-tensor definition that later opsets extend
    .concat(
      ['QuantizeLinear', 'DequantizeLinear', 'ConvInteger', 'MatMulInteger', 'QLinearConv', 'QLinearMatMul'].map(
        (op): [string, number] => [op, 10],
      ),
    ),
);

/** Why the whole model's opset is refused, or null. */
export function opsetError(opset: number): string | null {
  if (opset >= OLDEST_OPSET && opset <= MAX_OPSET) return null;
  return `opset ${opset} is not supported (wgseg reads ONNX opset ${MIN_OPSET} to ${MAX_OPSET}, and ${OLDEST_OPSET}-${MIN_OPSET - 1} for ops whose definition there matches; re-export with opset 17)`;
}

/** Why `op` cannot be read at `opset` (a model opset already accepted by opsetError), or null. */
export function opAtOpsetError(
  op: string,
  opset: number,
  _attrs: Record<string, unknown>,
): { code: 'UNSUPPORTED_OP' | 'BAD_ATTRIBUTE'; msg: string } | null {
  if (opset < MIN_OPSET) {
    const since = OLD_OPSET_OPS[op];
    if (since === undefined || opset < since) {
      const why = op === 'Resize' ? ' (Resize-10 has no roi input and no coordinate_transformation_mode)' : '';
      return {
        code: 'UNSUPPORTED_OP',
        msg: `op ${op} at opset ${opset}: wgseg reads ${op} as defined at opset ${MIN_OPSET} and later${why}; re-export with opset >= ${MIN_OPSET}`,
      };
    }
  }
  return null;
}
