import type { Attrs } from '../core/attrs';
import {
  gpuType,
  isFloatType,
  onnxCode,
  type ConstData,
  type DType,
  type ElemType,
  type Precision,
} from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { HostTensor, HostValues, OpKernel, OpRecord, TensorInfo } from '../core/op';
import { castOp, kernelOf, registry } from '../kernels/registry';
import { foldNode } from './fold';
import { nodeWhere, type Dim, type Graph, type Node, type ValueDesc } from './ir';

/**
 * Shape binding, constant folding and shape inference in one walk over the nodes (in file order):
 * a node whose inputs are all host constants and whose op the host can evaluate folds into a
 * constant; every other node goes through its kernel's `infer`. The result is a graph whose values
 * all have numeric shapes and a GPU dtype, and whose nodes all have a kernel.
 */

export interface Resolved {
  graph: Graph;
  /** GPU storage type of every value that may live on the GPU (inputs, node outputs, constants) */
  gpu: Map<string, DType>;
  precision: Precision;
}

/** Largest constant a kernel-backed op is folded into (elements); ops without a kernel always fold. */
export const FOLD_LIMIT = 1 << 16;
const MAX_ELEMENTS = 2 ** 31;

const fmt = (s: readonly Dim[]) => `[${s.join(',')}]`;
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Where in the model a message points: "model.onnx: node n (Op): ". */
function rethrow(g: Graph, n: Node, e: unknown): never {
  if (e instanceof WgsegError) {
    const where = nodeWhere(g, n);
    throw new WgsegError(e.code, e.message.startsWith(g.source) ? e.message : `${where}: ${e.message}`);
  }
  throw e;
}

/**
 * Concrete input shapes: a given shape must match the graph's rank and numeric dims; symbolic
 * dims bind to the given sizes (one size per symbol across all inputs).
 */
export function bindInputs(g: Graph, given: Record<string, readonly number[]> = {}): Map<string, number[]> {
  const symbols = new Map<string, number>();
  const out = new Map<string, number[]>();
  for (const name of g.inputs) {
    const v = g.values.get(name);
    if (!v) throw new WgsegError('MALFORMED_FILE', `${g.source}: input ${name} is not described`);
    const got = given[name];
    if (!v.shape && !got)
      throw new WgsegError(
        'BAD_SHAPE',
        `${g.source}: input ${name} has no shape in the file; give its shape (inputShapes or the first run)`,
      );
    const want = v.shape ?? got!.map((_, i) => `${name}:${i}`);
    if (!got) {
      if (want.some((d) => typeof d !== 'number'))
        throw new WgsegError(
          'BAD_SHAPE',
          `${g.source}: input ${name} has symbolic dims ${fmt(want)}; give its shape (inputShapes or the first run)`,
        );
      out.set(name, want as number[]);
      continue;
    }
    const bad = () =>
      new WgsegError('BAD_SHAPE', `${g.source}: input ${name}: expected dims ${fmt(want)}, given ${fmt(got)}`);
    if (got.length !== want.length || got.some((d) => !Number.isInteger(d) || d < 0)) throw bad();
    want.forEach((d, i) => {
      if (typeof d === 'number') {
        if (d !== got[i]) throw bad();
      } else if (d !== '?' && d !== '') {
        const prior = symbols.get(d);
        if (prior !== undefined && prior !== got[i])
          throw new WgsegError(
            'BAD_SHAPE',
            `${g.source}: input ${name}: dim ${d} given as ${got[i]}, but bound to ${prior} by another input`,
          );
        symbols.set(d, got[i]);
      }
    });
    if (numel(got) > MAX_ELEMENTS)
      throw new WgsegError('BAD_SHAPE', `${g.source}: input ${name}: ${fmt(got)} has more than 2^31 elements`);
    out.set(name, [...got]);
  }
  return out;
}

/** Host values a kernel reads on the host (int64 as plain numbers); a GPU-computed one is an error. */
export function hostValues(g: Graph, n: Node, k: OpKernel): HostValues {
  const host: HostValues = [];
  for (const i of k.hostInputs ?? []) {
    const name = n.inputs[i];
    if (!name) continue;
    const v = g.values.get(name);
    if (!v?.data)
      throw new WgsegError(
        'UNSUPPORTED_OP',
        `${nodeWhere(g, n)}: input ${i} (${name}) is computed at run time, not supported (it must be a constant after folding)`,
      );
    host[i] = Array.from(v.data, Number);
  }
  return host;
}

/** The graph-level type of a kernel's output: the record's say (Cast's target), else the inputs'. */
function outputType(
  k: OpRecord,
  attrs: Attrs,
  d: DType,
  ins: (ValueDesc | undefined)[],
  prior: ElemType | undefined,
  index = 0,
): ElemType {
  const own = k.outputType?.(
    attrs,
    ins.map((v) => v?.type),
    index,
  );
  if (own) return own;
  if (d === 'u32') return 'bool';
  const float = d === 'f32' || d === 'f16';
  const same = (t: ElemType | undefined) => t !== undefined && t !== 'bool' && isFloatType(t) === float;
  if (same(prior)) return prior!;
  const first = ins.find((v) => v && same(v.type));
  return first ? first.type : float ? 'float32' : 'int64';
}

const NARROW = new Set<ElemType>(['int8', 'uint8', 'int16', 'uint16']);

/**
 * int8/uint8/int16/uint16 live in i32 on the GPU, so arithmetic on them (Add, Mul, Neg, ReduceSum,
 * MatMul...) leaves their range: a node whose output is one of those types writes a wide i32
 * value that a Cast to the type wraps into the real output (two's complement, as ONNX and
 * onnxruntime do; wrapping after the fact is exact because i32 arithmetic is the same modulo
 * 2^bits). Views and kernels whose record says `keepsRange` (Cast wraps by itself) cannot leave the range.
 */
function wrapNarrow(node: Node, k: OpKernel, values: Map<string, ValueDesc>, gpu: Map<string, DType>): Node[] {
  if (k.view || k.keepsRange) return [node];
  const wraps: Node[] = [];
  const outputs = node.outputs.map((name) => {
    const v = name ? values.get(name) : undefined;
    if (!v || !NARROW.has(v.type) || gpu.get(name) !== 'i32') return name;
    let wide = `${name}/wide`;
    while (values.has(wide)) wide += '_';
    values.set(wide, { name: wide, type: 'int32', shape: v.shape });
    gpu.set(wide, 'i32');
    wraps.push({
      op: castOp.op,
      name: `${node.name}/wrap-${v.type}`,
      inputs: [wide],
      outputs: [name],
      attrs: { to: onnxCode(v.type) },
    });
    return wide;
  });
  return wraps.length ? [{ ...node, outputs }, ...wraps] : [node];
}

/** Copy of the values table, so resolving never changes the importer's graph. */
function cloneValues(g: Graph): Map<string, ValueDesc> {
  return new Map([...g.values].map(([k, v]) => [k, { ...v, shape: v.shape && [...v.shape] }]));
}

/**
 * Graph inputs whose values the host must know at plan time: read at a kernel's host-input slot
 * (Clip min/max, AffineGrid size, Resize sizes...) directly or through foldable ops only.
 */
export function hostFedInputs(g: Graph): Set<string> {
  const need = new Set<string>();
  for (const n of g.nodes) {
    const r = registry.get(n.op);
    const idx = kernelOf(n.op) ? (r?.hostInputs ?? []) : r?.fold && !r.shapeOnly ? n.inputs.map((_, i) => i) : [];
    for (const i of idx) if (n.inputs[i]) need.add(n.inputs[i]);
  }
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    const r = registry.get(n.op);
    if (!r?.fold || r.shapeOnly || !n.outputs.some((o) => need.has(o))) continue;
    for (const x of n.inputs) if (x) need.add(x);
  }
  return new Set(g.inputs.filter((x) => need.has(x)));
}

/**
 * `pinned`: values for graph inputs in hostFedInputs; they become constants of this plan (the
 * session plans again when they change).
 */
export function resolve(
  g: Graph,
  given: Record<string, readonly number[]>,
  precision: Precision = 'f32',
  pinned: Map<string, ConstData> = new Map(),
): Resolved {
  const bound = bindInputs(g, given);
  const values = cloneValues(g);
  const gpu = new Map<string, DType>();
  const out: Graph = { ...g, nodes: [], values };
  for (const [name, shape] of bound) {
    const v = values.get(name)!;
    v.shape = shape;
    const data = pinned.get(name);
    if (data) v.data = data;
    gpu.set(name, gpuType(v.type, precision));
  }
  for (const v of values.values()) if (v.data && v.shape) gpu.set(v.name, gpuType(v.type, precision));
  // an optional output nothing reads (Dropout's mask) need not be produced
  const read = new Set([...g.outputs, ...g.nodes.flatMap((n) => n.inputs)]);
  for (const n of g.nodes) {
    const ins = n.inputs.map((name) => {
      if (!name) return undefined;
      const v = values.get(name);
      if (!v?.shape || (!v.data && !gpu.has(name)))
        throw new WgsegError(
          'MALFORMED_FILE',
          `${nodeWhere(g, n)}: input ${name} is not produced by any earlier node, input or initializer`,
        );
      return v;
    });
    const rec = registry.get(n.op);
    const k = kernelOf(n.op);
    // host-only ops, views and Identity fold at any size (a view's result shares its input's data);
    // a record whose host cost follows its output tries whatever its inputs' size
    const free = !k || k.view || rec?.foldCost === 'free';
    const small = free || rec?.foldCost === 'output' || ins.every((v) => !v?.data || v.data.length <= FOLD_LIMIT);
    if (rec?.fold && small && (ins.every((v) => !v || v.data) || rec.shapeOnly)) {
      try {
        const hostIns = ins.map(
          (v): HostTensor | undefined =>
            v && { type: v.type, shape: v.shape as number[], data: v.data ?? new Float32Array(0) },
        );
        // a kernel-backed op folds only small results: a bigger one is refused (TOO_LARGE) before it is computed
        const r = foldNode(n, hostIns, free ? undefined : FOLD_LIMIT);
        if (free || r.data.length <= FOLD_LIMIT) {
          const o = values.get(n.outputs[0]);
          values.set(n.outputs[0], { ...o, name: n.outputs[0], type: r.type, shape: r.shape, data: r.data });
          gpu.set(n.outputs[0], gpuType(r.type, precision));
          continue;
        }
      } catch (e) {
        // a result too big to compute on the host stays on the GPU when a kernel can make it
        if (!(k && e instanceof WgsegError && e.code === 'TOO_LARGE')) rethrow(g, n, e);
      }
    }
    if (!k) {
      const dynamic = n.inputs.find((name) => name && !values.get(name)?.data);
      if (rec?.fold)
        throw new WgsegError(
          'UNSUPPORTED_OP',
          `${nodeWhere(g, n)}: input ${dynamic} is computed at run time, not supported (${n.op} runs on the host only)`,
        );
      throw new WgsegError('UNSUPPORTED_OP', `${nodeWhere(g, n)}: op not supported`);
    }
    const attrs =
      k.planAttrs?.(
        n.attrs,
        ins.map((v) => v?.type),
        precision,
      ) ?? n.attrs;
    let node: Node = attrs === n.attrs ? n : { ...n, attrs };
    try {
      const host = hostValues(out, node, k);
      const infos = ins.map((v, i): TensorInfo | undefined =>
        v && !k.hostInputs?.includes(i) ? { shape: v.shape as number[], dtype: gpu.get(v.name)! } : undefined,
      );
      const outs = k.infer(infos, attrs, host);
      const empty = infos.findIndex((t) => t && numel(t.shape) === 0);
      if (empty >= 0 && !k.emptyInputOk && outs.some((o) => o && numel(o.shape) > 0)) {
        throw new WgsegError(
          'BAD_SHAPE',
          `input ${n.inputs[empty]} is empty ${fmt(infos[empty]!.shape)}; ${n.op} cannot make its output ${fmt(outs.find((o) => numel(o.shape) > 0)!.shape)} from an empty tensor`,
        );
      }
      n.outputs.forEach((name, i) => {
        if (!name) return;
        const o = outs[i];
        if (!o && !read.has(name)) {
          node = { ...node, outputs: node.outputs.map((x, j) => (j === i ? '' : x)) };
          return;
        }
        if (!o) throw new WgsegError('UNSUPPORTED_OP', `output ${i} (${name}) is not produced by the kernel`);
        if (o.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
          throw new WgsegError(
            'BAD_SHAPE',
            `output ${name} has shape ${fmt(o.shape)}: every dim must be a non-negative integer`,
          );
        if (numel(o.shape) > MAX_ELEMENTS)
          throw new WgsegError('BAD_SHAPE', `output ${name} ${fmt(o.shape)} has more than 2^31 elements`);
        const prior = values.get(name);
        values.set(name, { name, type: outputType(k, n.attrs, o.dtype, ins, prior?.type, i), shape: o.shape });
        gpu.set(name, o.dtype);
      });
    } catch (e) {
      rethrow(g, n, e);
    }
    out.nodes.push(...wrapNarrow(node, k, values, gpu));
  }
  for (const name of g.outputs) {
    if (!values.get(name)?.shape || (!values.get(name)!.data && !gpu.has(name)))
      throw new WgsegError('MALFORMED_FILE', `${g.source}: graph output ${name} is not produced by any node`);
  }
  return { graph: out, gpu, precision };
}
