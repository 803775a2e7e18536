import { ACTIVATION_KINDS, PARAMETERLESS } from '../kernels/activation';
import type { Attrs } from '../core/attrs';
import { BYTES, numel } from '../core/dtype';
import { registry } from '../kernels/registry';
import type { Graph, Node, ValueDesc } from './ir';
import type { Resolved } from './shapes';

/**
 * The fusion rules: pattern rewrites are about op names by nature, so they all live here (with the
 * graph builder, the only file of src/graph that names ops).
 *
 * Load-time rewrites on a resolved graph (shapes known, constants folded): written-out HardSwish,
 * GELU, Mish and LayerNorm
 * into one op, Pad into Conv, Conv + BatchNormalization and Conv + per-channel constant Mul/Add
 * folded into the conv's weights, Conv + Add (-> FusedConv input Z) and
 * Conv + activation (-> FusedConv), then dead-node removal. A producer is fused only when its
 * output has exactly one consumer and is not a graph output. The user's constants are never
 * changed: folded weights are new values. Layout is NCHW for the whole graph (the kernels' layout),
 * so no conversions are inserted.
 */

export interface OptimizeOptions {
  fuse?: boolean;
}

const FLOAT_MAX = 3.4028234663852886e38;

interface Ctx {
  g: Graph;
  consumers: Map<string, Node[]>;
  outputs: Set<string>;
  removed: Set<Node>;
  gpu: Resolved['gpu'];
}

const constant = (c: Ctx, name: string | undefined): ValueDesc | undefined =>
  name ? (c.g.values.get(name)?.data ? c.g.values.get(name) : undefined) : undefined;

/** The one node reading `value`, when fusing into it is safe. */
function soleConsumer(c: Ctx, value: string): Node | undefined {
  const cs = c.consumers.get(value) ?? [];
  if (cs.length !== 1 || c.outputs.has(value)) return undefined;
  return cs[0];
}

function consumersOf(g: Graph, removed: Set<Node>): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) {
    if (removed.has(n)) continue;
    for (const i of new Set(n.inputs)) if (i) m.set(i, [...(m.get(i) ?? []), n]);
  }
  return m;
}

let fresh = 0;
function addConstant(c: Ctx, base: string, like: ValueDesc, data: Float32Array): string {
  const name = `${base}::fused${fresh++}`;
  c.g.values.set(name, { name, type: like.type, shape: [...like.shape!], data });
  c.gpu.set(name, c.gpu.get(like.name)!);
  return name;
}

/** Pad (constant 0, spatial only, non-negative) feeding a Conv's X: its pads move into the conv. */
function padIntoConv(c: Ctx, conv: Node): boolean {
  const pad = c.g.nodes.find((n) => n.outputs[0] === conv.inputs[0] && n.op === 'Pad' && !c.removed.has(n));
  if (!pad || soleConsumer(c, pad.outputs[0]) !== conv) return false;
  if (((pad.attrs.mode as string | undefined) ?? 'constant') !== 'constant') return false;
  if ((conv.attrs.auto_pad ?? 'NOTSET') !== 'NOTSET') return false;
  const value = pad.inputs[2] ? constant(c, pad.inputs[2]) : undefined;
  if (pad.inputs[2] && (!value || value.data![0] !== 0)) return false;
  if (!pad.inputs[2] && ((pad.attrs.value as number | undefined) ?? 0) !== 0) return false;
  if (pad.inputs[3]) return false;
  const raw = pad.inputs[1] ? constant(c, pad.inputs[1])?.data : (pad.attrs.pads as number[] | undefined);
  if (raw?.length !== 8) return false;
  const p = Array.from(raw, Number);
  if (p.some((v) => v < 0) || p[0] || p[1] || p[4] || p[5]) return false;
  const cp = (conv.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
  conv.attrs = { ...conv.attrs, pads: [cp[0] + p[2], cp[1] + p[3], cp[2] + p[6], cp[3] + p[7]] };
  conv.inputs = [pad.inputs[0], ...conv.inputs.slice(1)];
  c.removed.add(pad);
  return true;
}

/** Conv -> BatchNormalization (inference, constant params, constant conv weights): new W, B. */
function bnIntoConv(c: Ctx, conv: Node): boolean {
  const bn = soleConsumer(c, conv.outputs[0]);
  if (bn?.op !== 'BatchNormalization' || bn.inputs[0] !== conv.outputs[0] || bn.attrs.training_mode) return false;
  if (bn.outputs.slice(1).some((o) => o)) return false;
  const w = constant(c, conv.inputs[1]),
    b = conv.inputs[2] ? constant(c, conv.inputs[2]) : undefined;
  const [scale, beta, mean, variance] = bn.inputs.slice(1, 5).map((i) => constant(c, i));
  if (!w || (conv.inputs[2] && !b) || !scale || !beta || !mean || !variance) return false;
  const eps = (bn.attrs.epsilon as number | undefined) ?? 1e-5;
  const M = w.shape![0] as number,
    per = w.data!.length / M;
  if ([scale, beta, mean, variance].some((t) => t.data!.length !== M)) return false;
  const nw = new Float32Array(w.data!.length),
    nb = new Float32Array(M);
  for (let m = 0; m < M; m++) {
    const s = Number(scale.data![m]) / Math.sqrt(Number(variance.data![m]) + eps);
    for (let i = 0; i < per; i++) nw[m * per + i] = Number(w.data![m * per + i]) * s;
    nb[m] = (Number(b?.data![m] ?? 0) - Number(mean.data![m])) * s + Number(beta.data![m]);
  }
  const bias = addConstant(c, `${conv.name}/B`, { ...beta, shape: [M] }, nb);
  conv.inputs = [conv.inputs[0], addConstant(c, `${conv.name}/W`, w, nw), bias, ...conv.inputs.slice(3)];
  conv.outputs = [bn.outputs[0]];
  c.removed.add(bn);
  return true;
}

/** A constant that broadcasts per output channel of an NCHW conv with M channels: a scalar, [M,1,1] or [1,M,1,1]; its M values. */
function perChannel(c: Ctx, name: string, M: number): number[] | undefined {
  const v = constant(c, name);
  if (!v?.shape) return undefined;
  const n = v.data!.length,
    dims = v.shape as number[];
  if (n === 1 && dims.length <= 4) return new Array<number>(M).fill(Number(v.data![0]));
  const channelShaped =
    (dims.length === 3 && dims[0] === M && dims[1] === 1 && dims[2] === 1) ||
    (dims.length === 4 && dims[0] === 1 && dims[1] === M && dims[2] === 1 && dims[3] === 1);
  return channelShaped ? Array.from(v.data!, Number) : undefined;
}

/**
 * Conv -> Mul / Add by a per-channel constant (a scalar or [M,1,1]; PP-LCNet's learnable affine
 * blocks): folded into new W and B, repeatedly.
 */
function affineIntoConv(c: Ctx, conv: Node): boolean {
  let changed = false;
  for (;;) {
    const op = soleConsumer(c, conv.outputs[0]);
    if ((op?.op !== 'Mul' && op?.op !== 'Add') || conv.inputs[3] || conv.attrs.activation) return changed;
    const y = conv.outputs[0],
      other = op.inputs[0] === y ? op.inputs[1] : op.inputs[0];
    const w = constant(c, conv.inputs[1]),
      b = conv.inputs[2] ? constant(c, conv.inputs[2]) : undefined;
    if (!w || (conv.inputs[2] && !b) || other === y) return changed;
    const M = w.shape![0] as number,
      per = w.data!.length / M;
    const k = perChannel(c, other, M);
    const vy = c.g.values.get(y)!,
      vo = c.g.values.get(op.outputs[0])!;
    if (!k || vo.shape!.join() !== vy.shape!.join()) return changed;
    const nb = Float32Array.from({ length: M }, (_, m) =>
      op.op === 'Mul' ? Number(b?.data![m] ?? 0) * k[m] : Number(b?.data![m] ?? 0) + k[m],
    );
    let wName = conv.inputs[1];
    if (op.op === 'Mul') {
      const nw = new Float32Array(w.data!.length);
      for (let m = 0; m < M; m++) for (let i = 0; i < per; i++) nw[m * per + i] = Number(w.data![m * per + i]) * k[m];
      wName = addConstant(c, `${conv.name}/W`, w, nw);
    }
    conv.inputs = [
      conv.inputs[0],
      wName,
      addConstant(c, `${conv.name}/B`, { ...w, shape: [M] }, nb),
      ...conv.inputs.slice(3),
    ];
    conv.outputs = [op.outputs[0]];
    c.removed.add(op);
    c.consumers = consumersOf(c.g, c.removed);
    changed = true;
  }
}

const scalarIs = (c: Ctx, name: string | undefined, want: number) => {
  const v = constant(c, name);
  return !!v && v.data!.length === 1 && Math.abs(Number(v.data![0]) - want) <= 1e-6 * Math.abs(want);
};

/**
 * HardSwish written out, as exporters do for older opsets (paddle2onnx at opset 9):
 * x -> Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6) or Mul(., 1/6)  =>  HardSwish(x)
 * (which then fuses into a conv like any activation).
 */
function hardSwishPatterns(c: Ctx): void {
  for (const add of c.g.nodes) {
    if (add.op !== 'Add' || c.removed.has(add)) continue;
    const x = scalarIs(c, add.inputs[1], 3) ? add.inputs[0] : scalarIs(c, add.inputs[0], 3) ? add.inputs[1] : undefined;
    if (!x || constant(c, x)) continue;
    const clip = soleConsumer(c, add.outputs[0]);
    if (clip?.op !== 'Clip' || clip.inputs[0] !== add.outputs[0]) continue;
    const bounds = activationOf(c, clip)?.activation_params;
    if (bounds?.[0] !== 0 || bounds[1] !== 6) continue;
    const mul = soleConsumer(c, clip.outputs[0]);
    if (mul?.op !== 'Mul' || ![mul.inputs[0], mul.inputs[1]].includes(x)) continue;
    const last = soleConsumer(c, mul.outputs[0]);
    const div = last?.op === 'Div' && last.inputs[0] === mul.outputs[0] && scalarIs(c, last.inputs[1], 6);
    const mul6 = last?.op === 'Mul' && (scalarIs(c, last.inputs[1], 1 / 6) || scalarIs(c, last.inputs[0], 1 / 6));
    if (!last || !(div || mul6)) continue;
    const shape = (n: string) => c.g.values.get(n)?.shape?.join();
    if (shape(last.outputs[0]) !== shape(x)) continue;
    last.op = 'HardSwish';
    last.inputs = [x];
    last.attrs = {};
    for (const n of [add, clip, mul]) c.removed.add(n);
    c.consumers = consumersOf(c.g, c.removed);
  }
}

// ---- transformer-era activations and LayerNorm written out (torch 1.13 exports) ---------------

/** The live node writing `value`. */
const producer = (c: Ctx, value: string): Node | undefined =>
  c.g.nodes.find((n) => !c.removed.has(n) && n.outputs[0] === value);
/** The operand of a binary node that is not `v` (undefined when both are `v` or `v` is not one). */
const otherOf = (n: Node, v: string): string | undefined =>
  n.inputs[0] === v && n.inputs[1] !== v
    ? n.inputs[1]
    : n.inputs[1] === v && n.inputs[0] !== v
      ? n.inputs[0]
      : undefined;
const sameShape = (c: Ctx, a: string, b: string) =>
  c.g.values.get(a)?.shape?.join() === c.g.values.get(b)?.shape?.join();
const isFloat = (c: Ctx, v: string) => c.gpu.get(v) === 'f32' || c.gpu.get(v) === 'f16';

/** `last` becomes `op` of `inputs`; `parts` go. */
function rewrite(c: Ctx, last: Node, op: string, inputs: string[], attrs: Attrs, parts: Node[]): void {
  last.op = op;
  last.inputs = inputs;
  last.attrs = { ...attrs, ...(last.attrs.__opset !== undefined ? { __opset: last.attrs.__opset } : {}) };
  for (const n of parts) if (n !== last) c.removed.add(n);
  c.consumers = consumersOf(c.g, c.removed);
}

/**
 * GELU written out: Div(x, sqrt 2) (or Mul by 1/sqrt 2) -> Erf -> Add 1 -> and a product with x and
 * 0.5 in any association: torch's Mul(x, .) -> Mul(., 0.5), or Mul(Mul(x, 0.5), .), or
 * Mul(x, Mul(., 0.5))  =>  Gelu(x).
 */
function geluPatterns(c: Ctx): void {
  for (const erf of c.g.nodes) {
    if (erf.op !== 'Erf' || c.removed.has(erf)) continue;
    const div = producer(c, erf.inputs[0]);
    if (!div || soleConsumer(c, div.outputs[0]) !== erf) continue;
    const scaled =
      (div.op === 'Div' && scalarIs(c, div.inputs[1], Math.SQRT2)) ||
      (div.op === 'Mul' && (scalarIs(c, div.inputs[1], Math.SQRT1_2) || scalarIs(c, div.inputs[0], Math.SQRT1_2)));
    const x = div.op === 'Mul' && constant(c, div.inputs[1]) === undefined ? div.inputs[1] : div.inputs[0];
    if (!scaled || constant(c, x) || !isFloat(c, x)) continue;
    const add = soleConsumer(c, erf.outputs[0]);
    const one = add?.op === 'Add' ? otherOf(add, erf.outputs[0]) : undefined;
    if (!add || !scalarIs(c, one, 1)) continue;
    const m1 = soleConsumer(c, add.outputs[0]);
    if (m1?.op !== 'Mul') continue;
    const o1 = otherOf(m1, add.outputs[0]);
    if (!o1) continue;
    let last: Node | undefined,
      parts: Node[] = [div, erf, add, m1];
    const half = o1 !== x ? producer(c, o1) : undefined;
    if (o1 === x || scalarIs(c, o1, 0.5)) {
      last = soleConsumer(c, m1.outputs[0]);
      const o2 = last?.op === 'Mul' ? otherOf(last, m1.outputs[0]) : undefined;
      if (!last || !(o1 === x ? scalarIs(c, o2, 0.5) : o2 === x)) continue;
      parts = [...parts, last];
    } else if (
      half?.op === 'Mul' &&
      soleConsumer(c, o1) === m1 &&
      otherOf(half, x) !== undefined &&
      scalarIs(c, otherOf(half, x), 0.5)
    ) {
      last = m1;
      parts = [...parts, half];
    } else continue;
    if (!sameShape(c, last.outputs[0], x)) continue;
    rewrite(c, last, 'Gelu', [x], {}, parts);
  }
}

/** Mish written out: Mul(x, Tanh(Softplus(x)))  =>  Mish(x). */
function mishPatterns(c: Ctx): void {
  for (const sp of c.g.nodes) {
    if (sp.op !== 'Softplus' || c.removed.has(sp)) continue;
    const x = sp.inputs[0];
    const tanh = soleConsumer(c, sp.outputs[0]);
    if (tanh?.op !== 'Tanh' || !isFloat(c, x)) continue;
    const mul = soleConsumer(c, tanh.outputs[0]);
    if (mul?.op !== 'Mul' || otherOf(mul, tanh.outputs[0]) !== x || !sameShape(c, mul.outputs[0], x)) continue;
    rewrite(c, mul, 'Mish', [x], {}, [sp, tanh, mul]);
  }
}

/**
 * Swish written out: Mul(x, Sigmoid(x)) in either order, as torch exports nn.SiLU, or with the
 * sigmoid's input scaled first, Mul(x, Sigmoid(Mul(x, alpha))), as paddle2onnx exports swish
 * (PP-OCRv4 rec)  =>  Swish(x, alpha); at alpha 1 (SiLU) it then rides in the epilogue of a conv
 * before it (the conv's two consumers kept it apart).
 */
function swishPatterns(c: Ctx): void {
  for (const sig of c.g.nodes) {
    if (sig.op !== 'Sigmoid' || c.removed.has(sig)) continue;
    const mul = soleConsumer(c, sig.outputs[0]);
    const x = mul?.op === 'Mul' ? otherOf(mul, sig.outputs[0]) : undefined;
    if (!mul || !x || !isFloat(c, x) || !sameShape(c, mul.outputs[0], x)) continue;
    if (sig.inputs[0] === x) {
      rewrite(c, mul, 'Swish', [x], {}, [sig, mul]);
      continue;
    }
    const pre = producer(c, sig.inputs[0]);
    const k = pre?.op === 'Mul' && otherOf(pre, x) !== undefined ? constant(c, otherOf(pre, x)) : undefined;
    if (!pre || !k || k.data!.length !== 1 || soleConsumer(c, pre.outputs[0]) !== sig) continue;
    rewrite(c, mul, 'Swish', [x], { alpha: Number(k.data![0]) }, [pre, sig, mul]);
  }
}

/** ReduceMean's axes (attribute, or a constant input from opset 18) when it keeps dims; else undefined. */
function meanAxes(c: Ctx, n: Node, rank: number): number[] | undefined {
  if (n.op !== 'ReduceMean' || ((n.attrs.keepdims as number | undefined) ?? 1) !== 1) return undefined;
  const raw = n.inputs[1] ? constant(c, n.inputs[1])?.data : (n.attrs.axes as number[] | undefined);
  if (!raw?.length) return undefined;
  return Array.from(raw, (a) => (Number(a) < 0 ? Number(a) + rank : Number(a))).sort((a, b) => a - b);
}

/** A constant Mul/Add operand that broadcasts over the normalised dims `norm` only: its values laid out as `norm`. */
function overNorm(c: Ctx, name: string | undefined, norm: number[]): number[] | undefined {
  const v = constant(c, name);
  if (!v?.shape) return undefined;
  const data = Array.from(v.data!, Number),
    size = norm.reduce((p, d) => p * d, 1);
  if (data.length === 1) return new Array<number>(size).fill(data[0]);
  const dims = (v.shape as number[]).slice((v.shape as number[]).findIndex((d) => d !== 1));
  if (dims.length > norm.length || dims.join() !== norm.slice(norm.length - dims.length).join()) return undefined;
  return Array.from({ length: size }, (_, j) => data[j % data.length]);
}

/**
 * LayerNorm written out (torch before opset 17, and hand-written blocks): ReduceMean(x) -> Sub(x, mean)
 * -> Pow 2 -> ReduceMean -> Add eps -> Sqrt -> Div(Sub, .) [-> Mul(., w)] [-> Add(., b)], both means over
 * the same trailing axes  =>  LayerNormalization(x, w or 1, b) over those axes.
 */
function layerNormPatterns(c: Ctx): void {
  for (const r1 of c.g.nodes) {
    if (r1.op !== 'ReduceMean' || c.removed.has(r1)) continue;
    const x = r1.inputs[0];
    const shape = c.g.values.get(x)?.shape as number[] | undefined;
    if (!shape || !isFloat(c, x) || constant(c, x)) continue;
    const rank = shape.length;
    const axes = meanAxes(c, r1, rank);
    if (!axes || axes.some((a, i) => a !== rank - axes.length + i)) continue;
    const sub = soleConsumer(c, r1.outputs[0]);
    if (sub?.op !== 'Sub' || sub.inputs[0] !== x || sub.inputs[1] !== r1.outputs[0]) continue;
    const d = sub.outputs[0];
    const uses = c.consumers.get(d) ?? [];
    if (uses.length !== 2 || c.outputs.has(d)) continue;
    const pow = uses.find((n) => n.op === 'Pow' && n.inputs[0] === d && scalarIs(c, n.inputs[1], 2));
    const div = uses.find((n) => n.op === 'Div' && n.inputs[0] === d);
    if (!pow || !div) continue;
    const r2 = soleConsumer(c, pow.outputs[0]);
    if (!r2 || meanAxes(c, r2, rank)?.join() !== axes.join()) continue;
    const addEps = soleConsumer(c, r2.outputs[0]);
    const epsName = addEps?.op === 'Add' ? otherOf(addEps, r2.outputs[0]) : undefined;
    const eps = constant(c, epsName);
    if (!addEps || eps?.data?.length !== 1) continue;
    const sqrt = soleConsumer(c, addEps.outputs[0]);
    if (sqrt?.op !== 'Sqrt' || soleConsumer(c, sqrt.outputs[0]) !== div || div.inputs[1] !== sqrt.outputs[0]) continue;
    const norm = shape.slice(rank - axes.length);
    const parts = [r1, sub, pow, r2, addEps, sqrt, div];
    let last = div,
      w: number[] | undefined,
      b: number[] | undefined;
    const mul = soleConsumer(c, div.outputs[0]);
    if (mul?.op === 'Mul') w = overNorm(c, otherOf(mul, div.outputs[0]), norm);
    if (w) (last = mul!), parts.push(mul!);
    const add = soleConsumer(c, last.outputs[0]);
    if (add?.op === 'Add') b = overNorm(c, otherOf(add, last.outputs[0]), norm);
    if (b) (last = add!), parts.push(add!);
    if (!sameShape(c, last.outputs[0], x)) continue;
    const like = { ...c.g.values.get(x)!, shape: norm };
    const size = norm.reduce((p, v) => p * v, 1);
    const scale = addConstant(c, `${last.name}/scale`, like, Float32Array.from(w ?? new Array(size).fill(1)));
    const inputs = [x, scale, ...(b ? [addConstant(c, `${last.name}/bias`, like, Float32Array.from(b))] : [])];
    rewrite(c, last, 'LayerNormalization', inputs, { axis: rank - axes.length, epsilon: Number(eps.data[0]) }, parts);
  }
}

/** Conv -> Add(other, same shape, computed on the GPU): the other operand becomes Z. */
function addIntoConv(c: Ctx, conv: Node, at: Map<Node, number>): boolean {
  const add = soleConsumer(c, conv.outputs[0]);
  if (add?.op !== 'Add' || conv.inputs[3] || conv.attrs.activation) return false;
  const y = conv.outputs[0],
    other = add.inputs[0] === y ? add.inputs[1] : add.inputs[0];
  if (other === y || constant(c, other)) return false;
  const vy = c.g.values.get(y)!,
    vo = c.g.values.get(other)!,
    va = c.g.values.get(add.outputs[0])!;
  if (
    vo.shape!.join() !== vy.shape!.join() ||
    va.shape!.join() !== vy.shape!.join() ||
    c.gpu.get(other) !== c.gpu.get(y)
  )
    return false;
  conv.op = 'FusedConv';
  conv.inputs = [conv.inputs[0], conv.inputs[1], conv.inputs[2] ?? '', other];
  conv.outputs = [add.outputs[0]];
  at.set(conv, at.get(add)!);
  c.removed.add(add);
  return true;
}

/** Activation params as the FusedConv kernel takes them, or undefined when it cannot be fused. */
function activationOf(c: Ctx, n: Node): { activation: string; activation_params?: number[] } | undefined {
  if (!ACTIVATION_KINDS.includes(n.op)) return undefined;
  const a = n.attrs;
  switch (n.op) {
    case 'Clip': {
      const bound = (i: number, attr: string, dflt: number) => {
        if (!n.inputs[i]) return (a[attr] as number | undefined) ?? dflt;
        const v = constant(c, n.inputs[i]);
        return v && v.data!.length === 1 ? Number(v.data![0]) : undefined;
      };
      const lo = bound(1, 'min', -FLOAT_MAX),
        hi = bound(2, 'max', FLOAT_MAX);
      return lo === undefined || hi === undefined ? undefined : { activation: 'Clip', activation_params: [lo, hi] };
    }
    case 'LeakyRelu':
      return { activation: 'LeakyRelu', activation_params: [(a.alpha as number | undefined) ?? 0.01] };
    case 'HardSigmoid':
      return {
        activation: 'HardSigmoid',
        activation_params: [(a.alpha as number | undefined) ?? 0.2, (a.beta as number | undefined) ?? 0.5],
      };
    case 'Swish':
      // the fused kind is SiLU (alpha 1; paddle2onnx writes 1.0 as a float32)
      return Math.abs(((a.alpha as number | undefined) ?? 1) - 1) <= 1e-6 ? { activation: 'Swish' } : undefined;
    case 'Gelu':
      // the tanh approximation rides in act_a (and so takes no post_affine)
      return a.approximate === 'tanh' ? { activation: 'Gelu', activation_params: [1, 0] } : { activation: 'Gelu' };
    default:
      return { activation: n.op };
  }
}

function activationIntoConv(c: Ctx, conv: Node, at: Map<Node, number>): boolean {
  const act = soleConsumer(c, conv.outputs[0]);
  if (!act || conv.attrs.activation || act.inputs[0] !== conv.outputs[0]) return false;
  const params = activationOf(c, act);
  if (!params) return false;
  conv.op = 'FusedConv';
  conv.attrs = { ...conv.attrs, ...params } as Attrs;
  conv.outputs = [act.outputs[0]];
  at.set(conv, at.get(act)!);
  c.removed.add(act);
  return true;
}

/**
 * FusedConv with a parameterless activation (or none) -> Mul / Add by scalar constants, repeatedly:
 * y = a * act(conv) + b in the conv's epilogue (`post_affine`). PP-LCNet's learnable affine blocks
 * after HardSwish (PP-OCRv4 det: 24 Mul + 24 Add dispatches fewer).
 */
function postAffineIntoConv(c: Ctx, conv: Node, at: Map<Node, number>): boolean {
  // a plain Conv's affine folds into its weights (affineIntoConv); here: after an activation or Z
  if (conv.op !== 'FusedConv' || conv.attrs.activation_params) return false;
  if (!PARAMETERLESS.has((conv.attrs.activation as string | undefined) ?? '')) return false;
  let [a, b] = (conv.attrs.post_affine as number[] | undefined) ?? [1, 0];
  let changed = false;
  for (;;) {
    const op = soleConsumer(c, conv.outputs[0]);
    if (op?.op !== 'Mul' && op?.op !== 'Add') break;
    const y = conv.outputs[0],
      other = op.inputs[0] === y ? op.inputs[1] : op.inputs[0];
    const k = constant(c, other);
    const vy = c.g.values.get(y)!,
      vo = c.g.values.get(op.outputs[0])!;
    if (other === y || !k || k.data!.length !== 1 || vo.shape!.join() !== vy.shape!.join()) break;
    const v = Number(k.data![0]);
    if (op.op === 'Mul') [a, b] = [a * v, b * v];
    else b += v;
    conv.outputs = [op.outputs[0]];
    at.set(conv, at.get(op)!);
    c.removed.add(op);
    c.consumers = consumersOf(c.g, c.removed);
    changed = true;
  }
  if (changed) conv.attrs = { ...conv.attrs, post_affine: [a, b] } as Attrs;
  return changed;
}

/** The value's producer among the live nodes. */
const producerOf = (c: Ctx, value: string | undefined): Node | undefined =>
  value ? c.g.nodes.find((n) => n.outputs[0] === value && !c.removed.has(n)) : undefined;

/** A constant's values when it is one (int64 included, as numbers). */
const constValues = (c: Ctx, name: string | undefined): number[] | undefined => {
  const v = constant(c, name);
  return v ? Array.from(v.data!, Number) : undefined;
};

const EIGHT_BIT = new Set(['uint8', 'int8']);

/**
 * QDQ around a Conv, as onnxruntime's static quantizer (QDQ format) writes it:
 *   DequantizeLinear(x_q) , DequantizeLinear(constant 8-bit W, per tensor or per output channel on
 *   axis 0) [, DequantizeLinear(constant int32 B, scale x_scale * w_scale, zero point 0)]
 *   -> Conv [-> Relu] -> QuantizeLinear (per tensor, 8-bit)   =>   QLinearConv
 * the integer path onnxruntime itself runs for this pattern: int32 accumulation and one
 * requantization, weights 8-bit on the GPU. A Relu becomes the clamp at y's zero point. The float
 * path (dequantized values through the f32 conv, then QuantizeLinear) is what the pattern means in
 * ONNX too, but its f32 sum differs from the exact integer sum by rounding, which moves an output
 * across a quantization step now and then (+-1 in y); the integer path is exact up to the f32
 * requantization that onnxruntime also does. Anything else (scales computed at run time, other
 * ops, 16-bit types) stays as written: DequantizeLinear -> float op -> QuantizeLinear.
 */
function qdqConvPatterns(c: Ctx, precision: Resolved['precision']): void {
  const rec = registry.get('QLinearConv');
  for (const q of c.g.nodes) {
    if (q.op !== 'QuantizeLinear' || c.removed.has(q) || q.attrs.block_size) continue;
    const ys = constValues(c, q.inputs[1]),
      yz = q.inputs[2] ? constValues(c, q.inputs[2]) : [0];
    const yt = q.inputs[2] ? c.g.values.get(q.inputs[2])!.type : 'uint8';
    if (ys?.length !== 1 || yz?.length !== 1 || !EIGHT_BIT.has(yt)) continue;
    let conv = producerOf(c, q.inputs[0]);
    let relu: Node | undefined;
    if (conv?.op === 'Relu' && soleConsumer(c, conv.outputs[0]) === q) {
      relu = conv;
      conv = producerOf(c, relu.inputs[0]);
    }
    if (conv?.op !== 'Conv' || soleConsumer(c, conv.outputs[0]) !== (relu ?? q)) continue;
    if (c.g.values.get(conv.inputs[0])?.shape?.length !== 4) continue;
    const [dx, dw] = [producerOf(c, conv.inputs[0]), producerOf(c, conv.inputs[1])];
    if (dx?.op !== 'DequantizeLinear' || dw?.op !== 'DequantizeLinear' || dx.attrs.block_size || dw.attrs.block_size)
      continue;
    const xs = constValues(c, dx.inputs[1]),
      xz = dx.inputs[2] ? constValues(c, dx.inputs[2]) : [0];
    const w = constant(c, dw.inputs[0]),
      ws = constValues(c, dw.inputs[1]),
      wz = dw.inputs[2] ? constValues(c, dw.inputs[2]) : [0];
    const xt = c.g.values.get(dx.inputs[0])!.type;
    const M = w?.shape?.[0] as number;
    if (xs?.length !== 1 || xz?.length !== 1 || !EIGHT_BIT.has(xt) || !w || !EIGHT_BIT.has(w.type)) continue;
    if (!ws || !wz || (ws.length !== 1 && (ws.length !== M || (dw.attrs.axis ?? 1) !== 0))) continue;
    let bias: string | undefined;
    if (conv.inputs[2]) {
      const db = producerOf(c, conv.inputs[2]);
      const b = db?.op === 'DequantizeLinear' ? constant(c, db.inputs[0]) : undefined;
      const bs = constValues(c, db?.inputs[1]);
      const bz = db?.inputs[2] ? constValues(c, db.inputs[2]) : [0];
      const want = (m: number) => Math.fround(xs[0] * ws[ws.length === 1 ? 0 : m]);
      if (b?.type !== 'int32' || !bs || bz?.some((z) => z !== 0)) continue;
      if (bs.some((s, m) => s !== want(bs.length === 1 ? 0 : m))) continue;
      if (bs.length === 1 && ws.length > 1 && ws.some((s) => s !== ws[0])) continue;
      bias = db!.inputs[0];
    }
    const zeroOf = (name: string | undefined, type: ValueDesc['type'], base: string) => {
      if (name) return name;
      const z = `${base}::zero${fresh++}`;
      c.g.values.set(z, { name: z, type, shape: [], data: new Float64Array(1) });
      c.gpu.set(z, 'i32');
      return z;
    };
    const types = [xt, 'float32', xt, w.type, 'float32', w.type, 'float32', yt, 'int32'] as ValueDesc['type'][];
    const attrs = rec?.planAttrs?.(conv.attrs, types, precision) ?? conv.attrs;
    if (relu) attrs.q_lo = Math.max(attrs.q_lo as number, yz[0]);
    q.op = 'QLinearConv';
    q.name = conv.name;
    q.attrs = attrs;
    q.inputs = [
      dx.inputs[0],
      dx.inputs[1],
      zeroOf(dx.inputs[2], xt, dx.name),
      dw.inputs[0],
      dw.inputs[1],
      zeroOf(dw.inputs[2], w.type, dw.name),
      q.inputs[1],
      zeroOf(q.inputs[2], yt, q.name),
      ...(bias ? [bias] : []),
    ];
    c.removed.add(conv);
    if (relu) c.removed.add(relu);
    c.consumers = consumersOf(c.g, c.removed);
  }
}

/** Nodes no graph output depends on are dropped. */
export function removeDead(g: Graph): Graph {
  const needed = new Set(g.outputs);
  const keep: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => o && needed.has(o))) continue;
    keep.push(n);
    for (const x of n.inputs) if (x) needed.add(x);
  }
  return { ...g, nodes: keep.reverse() };
}

export function optimize(r: Resolved, opts: OptimizeOptions = {}): Resolved {
  const values = new Map(r.graph.values);
  // nodes are copied: the rewrites below change inputs/outputs/attrs in place
  const g: Graph = {
    ...r.graph,
    values,
    nodes: r.graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] })),
  };
  const gpu = new Map(r.gpu);
  if (opts.fuse !== false) {
    const c: Ctx = { g, consumers: new Map(), outputs: new Set(g.outputs), removed: new Set(), gpu };
    const at = new Map(g.nodes.map((n, i) => [n, i] as const));
    c.consumers = consumersOf(g, c.removed);
    qdqConvPatterns(c, r.precision);
    hardSwishPatterns(c);
    geluPatterns(c);
    mishPatterns(c);
    swishPatterns(c);
    layerNormPatterns(c);
    for (const n of g.nodes) {
      if (n.op !== 'Conv' || c.removed.has(n)) continue;
      const is2d =
        values.get(n.inputs[0])?.shape?.length === 4 &&
        (gpu.get(n.inputs[0]) === 'f32' || gpu.get(n.inputs[0]) === 'f16');
      if (!is2d) continue;
      c.consumers = consumersOf(g, c.removed);
      padIntoConv(c, n);
      c.consumers = consumersOf(g, c.removed);
      bnIntoConv(c, n);
      c.consumers = consumersOf(g, c.removed);
      affineIntoConv(c, n);
      c.consumers = consumersOf(g, c.removed);
      addIntoConv(c, n, at);
      c.consumers = consumersOf(g, c.removed);
      activationIntoConv(c, n, at);
      c.consumers = consumersOf(g, c.removed);
      postAffineIntoConv(c, n, at);
    }
    // a fused node runs where its last part ran: every input it reads exists by then
    g.nodes = g.nodes.filter((n) => !c.removed.has(n)).sort((a, b) => at.get(a)! - at.get(b)!);
  }
  return { ...r, graph: removeDead(g), gpu };
}

/**
 * A constant weight bigger than one GPU buffer may hold (`maxBytes`: the adapter's
 * maxStorageBufferBindingSize, 128 MiB on lavapipe; VGG's fc6 is 392 MiB, RegNetY-128GF's widest
 * 1x1 conv 218 MB) is cut along its output channels into parts that fit: one Gemm/MatMul/Conv per
 * part on the same input, the outputs concatenated (last axis; channels for a conv). Exact: each
 * output is the same dot product. A bias per output channel is cut alike. Grouped convs, a conv with
 * a residual input (FusedConv Z) and Gemm with transA stay whole (checkLimits names what still does
 * not fit).
 */
export function splitWideWeights(r: Resolved, maxBytes: number): Resolved {
  const { graph: g, gpu } = r;
  const conv = (n: Node) => n.op === 'Conv' || n.op === 'FusedConv';
  const wide = (n: Node) => {
    const w = g.values.get(n.inputs[1]);
    if (!w?.data || !w.shape || !gpu.has(w.name)) return false;
    const ok =
      n.op === 'MatMul' || (n.op === 'Gemm' && !n.attrs.transA)
        ? w.shape.length === 2
        : conv(n) && w.shape.length === 4 && ((n.attrs.group as number | undefined) ?? 1) === 1 && !n.inputs[3];
    return ok && numel(w.shape as number[]) * BYTES[gpu.get(w.name)!] > maxBytes;
  };
  if (!g.nodes.some(wide)) return r;
  const values = new Map(g.values);
  const gpuOut = new Map(gpu);
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    const w = values.get(n.inputs[1]);
    const y = values.get(n.outputs[0]);
    if (!wide(n) || !w?.data || !y?.shape) {
      nodes.push(n);
      continue;
    }
    const wShape = w.shape as number[];
    // byRow: output channels are W's rows (Gemm transB=1 [N,K], Conv [M,C,kh,kw]); else its columns ([K,N])
    const byRow = conv(n) || (n.op === 'Gemm' && !!n.attrs.transB);
    const N = byRow ? wShape[0] : wShape[1],
      K = numel(wShape) / N;
    const per = Math.ceil(N / Math.ceil((numel(wShape) * BYTES[gpu.get(w.name)!]) / maxBytes));
    const yShape = y.shape as number[];
    const axis = conv(n) ? 1 : yShape.length - 1;
    const biasAt = conv(n) || n.op === 'Gemm' ? 2 : -1;
    const bias = biasAt > 0 && n.inputs[biasAt] ? values.get(n.inputs[biasAt]) : undefined;
    const bShape = bias?.shape as number[] | undefined;
    const cutBias = !!bias?.data && !!bShape && numel(bShape) === N && bShape[bShape.length - 1] === N;
    if (bias && !cutBias && !(bShape && numel(bShape) === 1)) {
      nodes.push(n); // a bias of another shape ([M, N], computed): left whole
      continue;
    }
    const pieces: string[] = [];
    for (let p = 0, lo = 0; lo < N; p++, lo += per) {
      const hi = Math.min(N, lo + per),
        width = hi - lo;
      const src = w.data as Float32Array;
      const data = new (src.constructor as new (n: number) => Float32Array)(width * K);
      if (byRow) data.set(src.subarray(lo * K, hi * K));
      else for (let k = 0; k < K; k++) data.set(src.subarray(k * N + lo, k * N + hi), k * width);
      const wName = `${w.name}::part${p}`;
      values.set(wName, { name: wName, type: w.type, shape: byRow ? [width, ...wShape.slice(1)] : [K, width], data });
      gpuOut.set(wName, gpu.get(w.name)!);
      const inputs = [n.inputs[0], wName, ...n.inputs.slice(2)];
      if (cutBias) {
        const bName = `${bias!.name}::part${p}`;
        const bData = (bias!.data as Float32Array).slice(lo, hi);
        values.set(bName, { name: bName, type: bias!.type, shape: [...bShape!.slice(0, -1), width], data: bData });
        gpuOut.set(bName, gpu.get(bias!.name)!);
        inputs[biasAt] = bName;
      }
      const out = `${n.outputs[0]}::part${p}`;
      values.set(out, { name: out, type: y.type, shape: yShape.map((d, i) => (i === axis ? width : d)) });
      gpuOut.set(out, gpu.get(y.name)!);
      nodes.push({ ...n, name: `${n.name}::part${p}`, inputs, outputs: [out] });
      pieces.push(out);
    }
    nodes.push({ op: 'Concat', name: `${n.name}::concat`, inputs: pieces, outputs: [n.outputs[0]], attrs: { axis } });
  }
  return { ...r, graph: { ...g, nodes, values }, gpu: gpuOut };
}
