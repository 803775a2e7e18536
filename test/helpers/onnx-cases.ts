import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WgsegError } from '../../src/core/errors';
import type { Runtime } from '../../src/gpu/runtime';
import { numel } from '../../src/core/dtype';
import type { ElemType } from '../../src/core/dtype';
import {
  decodeModel,
  decodeTensor,
  type OnnxDType,
  type OnnxModel,
  type TensorData,
} from '../../src/import/onnx-proto';
import { canFold } from '../../src/graph/fold';
import { registry } from '../../src/kernels/registry';
import { Session } from '../../src/session';
import { TOL } from './tolerance';

/** The ONNX backend node-test data, beside the repo (../shared), never copied into it. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ONNX_TESTS_DIR = resolve(REPO_ROOT, '../shared/onnx-node-tests');

/**
 * Every known gap, with its reason: the one table. These cases still run and must either throw a
 * WgsegError saying they are unsupported, or pass (then the test prints that the row can go).
 * `disputed` rows may also mismatch: their expected values are themselves in question (they stay
 * listed even while they pass, so a kernel that sides with onnxruntime there is not a failure).
 */
const D3 = '3-D spatial case: wgseg kernels are 2-D (NCHW; pools also 1-D and 3-D, ConvTranspose also 1-D) only';
export const KNOWN_GAPS: Record<string, { reason: string; disputed?: true }> = {
  test_affine_grid_3d: { reason: D3 },
  test_affine_grid_3d_align_corners: { reason: D3 },
  test_convtranspose_3d: { reason: D3 },
  test_gridsample_volumetric_bilinear_align_corners_0: { reason: D3 },
  test_gridsample_volumetric_bilinear_align_corners_1: { reason: D3 },
  test_gridsample_volumetric_nearest_align_corners_0: { reason: D3 },
  test_gridsample_volumetric_nearest_align_corners_1: { reason: D3 },
  test_resize_downsample_scales_linear_align_corners: {
    reason: 'expected values disputed (onnxruntime disagrees too)',
    disputed: true,
  },
  test_resize_downsample_scales_cubic_align_corners: {
    reason: 'expected values disputed (onnxruntime disagrees too)',
    disputed: true,
  },
};

/** Ops whose (non-expanded) cases are required unless listed above. */
export const REQUIRED_OPS = new Set([
  'Conv',
  'ConvTranspose',
  'GridSample',
  'AffineGrid',
  'Resize',
  'MaxPool',
  'AveragePool',
  'GlobalMaxPool',
  'GlobalAveragePool',
  'BatchNormalization',
  'InstanceNormalization',
  'Softmax',
  'ArgMax',
  'Concat',
  'Pad',
  'Transpose',
  'Reshape',
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Sum',
  'Relu',
  'Sigmoid',
  'Tanh',
  'Clip',
  'LeakyRelu',
  // beyond the brief's list, kept required once their kernels landed and passed
  'DepthToSpace',
  'SpaceToDepth',
  'Upsample',
  // the integer conv and matmul (issue 15)
  'ConvInteger',
  'MatMulInteger',
  // transformer-era structure ops (issue 15)
  'Einsum',
]);

export interface OnnxCase {
  name: string;
  dir: string;
  model: OnnxModel;
  /** distinct op types of the graph, Constant excluded (it is evaluated on the host) */
  ops: string[];
  kind: 'required' | 'gap' | 'unclassified';
  reason: string;
  disputed: boolean;
}

export function listCases(dir = ONNX_TESTS_DIR): OnnxCase[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'model.onnx')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const model = decodeModel(readFileSync(join(dir, name, 'model.onnx')));
      const ops = [...new Set(model.graph.nodes.map((n) => n.opType))].filter((o) => o !== 'Constant');
      return { name, dir: join(dir, name), model, ops, ...classify(name, ops) };
    });
}

/** Table row first; `_expanded` graphs are required only when every op in them has a kernel or a host fold. */
function classify(name: string, ops: string[]): Pick<OnnxCase, 'kind' | 'reason' | 'disputed'> {
  const gap = KNOWN_GAPS[name];
  if (gap) return { kind: 'gap', reason: gap.reason, disputed: !!gap.disputed };
  if (/_expanded(_ver\d+)?$/.test(name)) {
    const missing = ops.filter((o) => !registry.has(o) && !canFold(o));
    if (missing.length)
      return {
        kind: 'gap',
        reason: `expanded graph uses ops wgseg neither runs nor folds on the host: ${missing.join(', ')}`,
        disputed: false,
      };
    return { kind: 'required', reason: '', disputed: false };
  }
  const other = ops.filter((o) => !REQUIRED_OPS.has(o));
  if (other.length)
    return {
      kind: 'unclassified',
      reason: `ops ${other.join(', ')} are neither required nor in KNOWN_GAPS`,
      disputed: false,
    };
  return { kind: 'required', reason: '', disputed: false };
}

export function loadData(c: OnnxCase): { inputs: TensorData[]; outputs: TensorData[] } {
  const ds = join(c.dir, 'test_data_set_0');
  const files = readdirSync(ds);
  const read = (prefix: string) =>
    files
      .filter((f) => f.startsWith(prefix))
      .sort((a, b) => parseInt(a.slice(prefix.length), 10) - parseInt(b.slice(prefix.length), 10))
      .map((f) => decodeTensor(readFileSync(join(ds, f))));
  return { inputs: read('input_'), outputs: read('output_') };
}

/** A GPU value read back, converted to the ONNX dtype (integers wrapped to their width). */
export function toOnnx(v: number, d: OnnxDType): number {
  switch (d) {
    case 'int8':
      return (v << 24) >> 24;
    case 'uint8':
      return v & 0xff;
    case 'int16':
      return (v << 16) >> 16;
    case 'uint16':
      return v & 0xffff;
    case 'int32':
    case 'int64':
      return v | 0;
    case 'uint32':
    case 'uint64':
      return v >>> 0;
    case 'bool':
      return v !== 0 ? 1 : 0;
    default:
      return v;
  }
}
const isFloat = (d: OnnxDType) => d === 'float' || d === 'double' || d === 'float16' || d === 'bfloat16';

export interface CaseOutput {
  name: string;
  dtype: OnnxDType;
  dims: number[];
  data: ArrayLike<number>;
}

const ONNX_OF: Record<ElemType, OnnxDType> = {
  float32: 'float',
  float16: 'float16',
  float64: 'double',
  int64: 'int64',
  uint64: 'uint64',
  int32: 'int32',
  uint32: 'uint32',
  int16: 'int16',
  uint16: 'uint16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

/**
 * Run a model through the public path (import -> fold/fuse -> plan -> executor, one submit) on
 * `rt`; returns the graph outputs on the host. `model` is a case (its model.onnx is read) or ONNX
 * bytes. The session and its output tensors are released before it returns.
 */
export async function runGraph(rt: Runtime, model: OnnxCase | Uint8Array, inputs: TensorData[]): Promise<CaseOutput[]> {
  const bytes = model instanceof Uint8Array ? model : readFileSync(join(model.dir, 'model.onnx'));
  const source = model instanceof Uint8Array ? 'model.onnx' : `${model.name}/model.onnx`;
  const session = await Session.create(bytes, { device: rt, source });
  try {
    const names = session.inputs.map((i) => i.name);
    if (names.length !== inputs.length)
      throw new WgsegError('BAD_INPUT', `graph has ${names.length} inputs, test data ${inputs.length}`);
    const feeds = Object.fromEntries(names.map((n, i) => [n, { data: inputs[i].data, dims: inputs[i].dims }]));
    const out = await session.run(feeds);
    const result: CaseOutput[] = [];
    for (const o of session.outputs) {
      const t = out[o.name];
      result.push({ name: o.name, dtype: ONNX_OF[t.type], dims: t.shape, data: await t.read() });
      t.dispose();
    }
    return result;
  } finally {
    session.dispose();
  }
}

/** null when `got` matches `want` (shape exact; floats within TOL.onnx; ints/bools exact). */
export function compareOutput(got: CaseOutput, want: TensorData): string | null {
  if (got.dims.join(',') !== want.dims.join(',')) return `${got.name}: shape [${got.dims}] want [${want.dims}]`;
  if (isFloat(want.dtype) !== isFloat(got.dtype)) return `${got.name}: got a ${got.dtype} tensor, want ${want.dtype}`;
  const n = numel(want.dims);
  if (got.data.length < n) return `${got.name}: ${got.data.length} values for ${n} elements`;
  const { abs, rel } = isFloat(want.dtype) ? TOL.onnx : TOL.exact;
  let bad = 0,
    first = -1;
  for (let i = 0; i < n; i++) {
    const g = isFloat(want.dtype) ? got.data[i] : toOnnx(got.data[i], want.dtype),
      w = want.data[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (!(Math.abs(g - w) <= abs + rel * Math.abs(w)) && g !== w) bad++, first < 0 && (first = i);
  }
  return bad
    ? `${got.name}: ${bad}/${n} values off, first at ${first}: got ${got.data[first]} want ${want.data[first]} (tol abs ${abs} rel ${rel})`
    : null;
}
