import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WgsegError } from '../../src/errors';
import type { Runtime } from '../../src/gpu/runtime';
import { numel, type DType, type GpuTensor } from '../../src/gpu/tensor';
import { decodeModel, decodeTensor, type OnnxAttr, type OnnxDType, type OnnxModel, type OnnxNode, type TensorData } from '../../src/import/onnx-proto';
import { runKernel } from '../../src/kernels/dispatch';
import { kernelFor, registry } from '../../src/kernels/registry';
import type { AttrValue, Attrs, HostValues } from '../../src/kernels/types';
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
const D3 = '3-D spatial case: wgseg kernels are 2-D (NCHW) only';
const D1 = '1-D spatial case: wgseg kernels are 2-D (NCHW) only';
const NOT_WGSEG = 'op outside the set wgseg implements';
export const KNOWN_GAPS: Record<string, { reason: string; disputed?: true }> = {
  test_affine_grid_3d: { reason: D3 },
  test_affine_grid_3d_align_corners: { reason: D3 },
  test_affine_grid_3d_expanded: { reason: D3 },
  test_affine_grid_3d_align_corners_expanded: { reason: D3 },
  test_averagepool_3d_default: { reason: D3 },
  test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_False: { reason: D3 },
  test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_True: { reason: D3 },
  test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_False: { reason: D3 },
  test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_True: { reason: D3 },
  test_averagepool_3d_dilations_small: { reason: D3 },
  test_maxpool_3d_default: { reason: D3 },
  test_maxpool_3d_dilations: { reason: D3 },
  test_maxpool_3d_dilations_use_ref_impl: { reason: D3 },
  test_maxpool_3d_dilations_use_ref_impl_large: { reason: D3 },
  test_convtranspose_1d: { reason: D1 },
  test_convtranspose_3d: { reason: D3 },
  test_gridsample_volumetric_bilinear_align_corners_0: { reason: D3 },
  test_gridsample_volumetric_bilinear_align_corners_1: { reason: D3 },
  test_gridsample_volumetric_nearest_align_corners_0: { reason: D3 },
  test_gridsample_volumetric_nearest_align_corners_1: { reason: D3 },
  test_convinteger_with_padding: { reason: 'ConvInteger (quantized): ' + NOT_WGSEG },
  test_convinteger_without_padding: { reason: 'ConvInteger (quantized): ' + NOT_WGSEG },
  test_matmulinteger: { reason: 'MatMulInteger (quantized): ' + NOT_WGSEG },
  test_einsum_batch_diagonal: { reason: 'Einsum: ' + NOT_WGSEG },
  test_einsum_batch_matmul: { reason: 'Einsum: ' + NOT_WGSEG },
  test_einsum_inner_prod: { reason: 'Einsum: ' + NOT_WGSEG },
  test_einsum_scalar: { reason: 'Einsum: ' + NOT_WGSEG },
  test_einsum_sum: { reason: 'Einsum: ' + NOT_WGSEG },
  test_einsum_transpose: { reason: 'Einsum: ' + NOT_WGSEG },
  test_resize_downsample_scales_linear_align_corners: { reason: 'expected values disputed (onnxruntime disagrees too)', disputed: true },
  test_resize_downsample_scales_cubic_align_corners: { reason: 'expected values disputed (onnxruntime disagrees too)', disputed: true },
};

/** Ops whose (non-expanded) cases are required unless listed above. */
export const REQUIRED_OPS = new Set([
  'Conv', 'ConvTranspose', 'GridSample', 'AffineGrid', 'Resize', 'MaxPool', 'AveragePool', 'GlobalMaxPool', 'GlobalAveragePool',
  'BatchNormalization', 'InstanceNormalization', 'Softmax', 'ArgMax', 'Concat', 'Pad', 'Transpose', 'Reshape', 'Gemm', 'MatMul',
  'Add', 'Sub', 'Mul', 'Div', 'Sum', 'Relu', 'Sigmoid', 'Tanh', 'Clip', 'LeakyRelu',
  // beyond the brief's list, kept required once their kernels landed and passed
  'DepthToSpace', 'SpaceToDepth', 'Upsample',
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

/** Table row first; `_expanded` graphs are required only when every op in them has a kernel. */
function classify(name: string, ops: string[]): Pick<OnnxCase, 'kind' | 'reason' | 'disputed'> {
  const gap = KNOWN_GAPS[name];
  if (gap) return { kind: 'gap', reason: gap.reason, disputed: !!gap.disputed };
  if (/_expanded(_ver\d+)?$/.test(name)) {
    const missing = ops.filter((o) => !registry.has(o));
    if (missing.length) return { kind: 'gap', reason: `expanded graph uses ops without a kernel: ${missing.join(', ')}`, disputed: false };
    return { kind: 'required', reason: '', disputed: false };
  }
  const other = ops.filter((o) => !REQUIRED_OPS.has(o));
  if (other.length) return { kind: 'unclassified', reason: `ops ${other.join(', ')} are neither required nor in KNOWN_GAPS`, disputed: false };
  return { kind: 'required', reason: '', disputed: false };
}

export function loadData(c: OnnxCase): { inputs: TensorData[]; outputs: TensorData[] } {
  const ds = join(c.dir, 'test_data_set_0');
  const files = readdirSync(ds);
  const read = (prefix: string) => files.filter((f) => f.startsWith(prefix)).sort((a, b) => parseInt(a.slice(prefix.length)) - parseInt(b.slice(prefix.length)))
    .map((f) => decodeTensor(readFileSync(join(ds, f))));
  return { inputs: read('input_'), outputs: read('output_') };
}

/** ONNX dtype -> the GPU dtype it runs as. */
export function gpuDtype(d: OnnxDType, where: string): DType {
  if (d === 'float' || d === 'double') return 'f32';
  if (d === 'float16') return 'f16';
  if (d === 'int8' || d === 'int16' || d === 'int32' || d === 'int64' || d === 'bool') return 'i32';
  if (d === 'uint8' || d === 'uint16' || d === 'uint32' || d === 'uint64') return 'u32';
  throw new WgsegError('UNSUPPORTED_DTYPE', `${where}: ONNX dtype ${d} has no GPU dtype`);
}

/** A GPU value read back, converted to the ONNX dtype (integers wrapped to their width). */
export function toOnnx(v: number, d: OnnxDType): number {
  switch (d) {
    case 'int8': return (v << 24) >> 24;
    case 'uint8': return v & 0xff;
    case 'int16': return (v << 16) >> 16;
    case 'uint16': return v & 0xffff;
    case 'int32': case 'int64': return v | 0;
    case 'uint32': case 'uint64': return v >>> 0;
    case 'bool': return v !== 0 ? 1 : 0;
    default: return v;
  }
}
const isFloat = (d: OnnxDType) => d === 'float' || d === 'double' || d === 'float16' || d === 'bfloat16';

/** A value in the graph: on the host (inputs, initializers, Constant) and/or on the GPU. */
interface Value { dtype: OnnxDType; dims: number[]; host?: ArrayLike<number>; gpu?: GpuTensor }

/** Host evaluation of ONNX Constant (value, value_float(s), value_int(s)). */
function constantValue(n: OnnxNode): Value {
  const a = n.attrs;
  if (a.value !== undefined) {
    const t = a.value as TensorData;
    return { dtype: t.dtype, dims: t.dims, host: t.data };
  }
  if (typeof a.value_float === 'number') return { dtype: 'float', dims: [], host: [a.value_float] };
  if (Array.isArray(a.value_floats)) return { dtype: 'float', dims: [a.value_floats.length], host: a.value_floats as number[] };
  if (typeof a.value_int === 'number') return { dtype: 'int64', dims: [], host: [a.value_int] };
  if (Array.isArray(a.value_ints)) return { dtype: 'int64', dims: [a.value_ints.length], host: a.value_ints as number[] };
  throw new WgsegError('UNSUPPORTED_DTYPE', `Constant: attribute ${Object.keys(a).join(',')} is not supported`);
}

/** Node attributes as the plain values kernels take (tensor attributes -> their numbers). */
function kernelAttrs(n: OnnxNode, opset: number): Attrs {
  const out: Attrs = { __opset: opset };
  for (const [k, v] of Object.entries(n.attrs) as [string, OnnxAttr][]) {
    if (typeof v === 'number' || typeof v === 'string') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string')) out[k] = v as AttrValue;
    else if (!Array.isArray(v) && 'data' in v) out[k] = Array.from(v.data);
    // graph / tensor-list attributes have no kernel-side form: left out
  }
  return out;
}

export interface CaseOutput { name: string; dtype: OnnxDType; dims: number[]; data: ArrayLike<number> }

/**
 * Run the graph node by node through the registry on `rt`; returns the graph outputs on the host.
 * Every buffer it allocated is released before it returns.
 */
export async function runGraph(rt: Runtime, model: OnnxModel, inputs: TensorData[]): Promise<CaseOutput[]> {
  const g = model.graph;
  const values = new Map<string, Value>();
  for (const t of g.initializers) values.set(t.name, { dtype: t.dtype, dims: t.dims, host: t.data });
  const feeds = g.inputs.filter((i) => !g.initializers.some((t) => t.name === i.name));
  if (feeds.length !== inputs.length) throw new WgsegError('BAD_INPUT', `graph has ${feeds.length} inputs, test data ${inputs.length}`);
  feeds.forEach((f, i) => values.set(f.name, { dtype: inputs[i].dtype, dims: inputs[i].dims, host: inputs[i].data }));
  const owned = new Set<GPUBuffer>();
  const upload = (v: Value, where: string): GpuTensor => {
    if (!v.gpu) {
      v.gpu = rt.upload(v.host!, v.dims, gpuDtype(v.dtype, where));
      owned.add(v.gpu.buffer);
    }
    return v.gpu;
  };
  const hostOf = async (v: Value) => (v.host ??= await rt.read(v.gpu!));
  try {
    for (const n of g.nodes) {
      if (n.domain !== '') throw new WgsegError('UNSUPPORTED_OP', `no kernel for op ${n.domain}.${n.opType}`);
      if (n.opType === 'Constant') {
        values.set(n.outputs[0], constantValue(n));
        continue;
      }
      const k = kernelFor(n.opType);
      const where = `${n.opType} (${n.name || n.outputs[0]})`;
      const ins: (Value | undefined)[] = n.inputs.map((name) => {
        if (name === '') return undefined;
        const v = values.get(name);
        if (!v) throw new WgsegError('BAD_INPUT', `${where}: input ${name} is not defined`);
        return v;
      });
      const host: HostValues = [];
      const gpuIns: (GpuTensor | undefined)[] = [];
      for (let i = 0; i < ins.length; i++) {
        const v = ins[i];
        if (!v) gpuIns.push(undefined);
        else if (k.hostInputs?.includes(i)) (host[i] = Array.from(await hostOf(v))), gpuIns.push(undefined);
        else gpuIns.push(upload(v, where));
      }
      const outs = runKernel(rt, k, gpuIns, kernelAttrs(n, model.opset), host);
      if (!k.view) outs.forEach((o) => owned.add(o.buffer));
      n.outputs.forEach((name, i) => {
        if (name === '') return;
        const o = outs[i];
        if (!o) throw new WgsegError('UNSUPPORTED_OP', `${where}: output ${i} (${name}) is not produced by the kernel`);
        values.set(name, { dtype: onnxDtypeOf(o.dtype, ins.find((v) => v)?.dtype), dims: o.shape, gpu: o });
      });
    }
    const result: CaseOutput[] = [];
    for (const o of g.outputs) {
      const v = values.get(o.name);
      if (!v) throw new WgsegError('BAD_INPUT', `graph output ${o.name} is not computed`);
      const data = await hostOf(v);
      result.push({ name: o.name, dtype: v.dtype, dims: v.dims, data });
    }
    return result;
  } finally {
    for (const b of owned) rt.pool.release(b);
    rt.submit();
  }
}

/** The ONNX dtype a GPU result stands for: the first input's when the category matches. */
function onnxDtypeOf(d: DType, firstInput: OnnxDType | undefined): OnnxDType {
  if (d === 'f32' || d === 'f16') return firstInput && isFloat(firstInput) ? firstInput : d === 'f16' ? 'float16' : 'float';
  return firstInput && !isFloat(firstInput) ? firstInput : d === 'i32' ? 'int64' : 'uint64';
}

/** null when `got` matches `want` (shape exact; floats within TOL.onnx; ints/bools exact). */
export function compareOutput(got: CaseOutput, want: TensorData): string | null {
  if (got.dims.join(',') !== want.dims.join(',')) return `${got.name}: shape [${got.dims}] want [${want.dims}]`;
  if (isFloat(want.dtype) !== isFloat(got.dtype)) return `${got.name}: got a ${got.dtype} tensor, want ${want.dtype}`;
  const n = numel(want.dims);
  if (got.data.length < n) return `${got.name}: ${got.data.length} values for ${n} elements`;
  const { abs, rel } = isFloat(want.dtype) ? TOL.onnx : TOL.exact;
  let bad = 0, first = -1;
  for (let i = 0; i < n; i++) {
    const g = isFloat(want.dtype) ? got.data[i] : toOnnx(got.data[i], want.dtype), w = want.data[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (!(Math.abs(g - w) <= abs + rel * Math.abs(w)) && g !== w) (bad++, first < 0 && (first = i));
  }
  return bad ? `${got.name}: ${bad}/${n} values off, first at ${first}: got ${got.data[first]} want ${want.data[first]} (tol abs ${abs} rel ${rel})` : null;
}
