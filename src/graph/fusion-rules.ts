import { ACTIVATION_KINDS, PARAMETERLESS } from '../kernels/activation';
import type { Attrs } from '../core/attrs';
import type { Graph, Node, ValueDesc } from './ir';
import type { Resolved } from './shapes';

/**
 * The fusion rules: pattern rewrites are about op names by nature, so they all live here (with the
 * graph builder, the only file of src/graph that names ops).
 *
 * Load-time rewrites on a resolved graph (shapes known, constants folded): written-out HardSwish
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
    hardSwishPatterns(c);
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
