// f64 references for the layout ops, written from the ONNX operator definitions with explicit
// coordinates (no strides shared with the kernels).
import { fromHalf, toHalf } from '../../src/core/dtype';

export interface Ref {
  data: ArrayLike<number>;
  shape: number[];
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export function coordsOf(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) (c[d] = i % shape[d]), (i = Math.floor(i / shape[d]));
  return c;
}
export function indexOf(c: readonly number[], shape: readonly number[]): number {
  return c.reduce((acc, v, d) => acc * shape[d] + v, 0);
}

/** Build an output of `shape` from a function of its coordinates. */
export function build(shape: number[], f: (c: number[]) => number): Ref {
  return { shape, data: Float64Array.from({ length: numel(shape) }, (_, i) => f(coordsOf(i, shape))) };
}
const at = (x: Ref, c: number[]) => x.data[indexOf(c, x.shape)];

export function transposeRef(x: Ref, perm: number[]): Ref {
  return build(
    perm.map((p) => x.shape[p]),
    (c) => {
      const src = new Array<number>(c.length);
      perm.forEach((p, d) => (src[p] = c[d]));
      return at(x, src);
    },
  );
}

/** Slice by walking each axis as Python's range(start, end, step) after ONNX's clamping rules. */
export function sliceRef(x: Ref, starts: number[], ends: number[], axes?: number[], steps?: number[]): Ref {
  const r = x.shape.length;
  const picks = x.shape.map((n) => Array.from({ length: n }, (_, i) => i));
  starts.forEach((s0, k) => {
    const a = axes ? (axes[k] + r) % r : k,
      n = x.shape[a],
      step = steps?.[k] ?? 1;
    let s = s0 < 0 ? s0 + n : s0,
      e = ends[k] < 0 ? ends[k] + n : ends[k];
    if (step > 0) (s = Math.max(0, Math.min(n, s))), (e = Math.max(0, Math.min(n, e)));
    else (s = Math.max(0, Math.min(n - 1, s))), (e = Math.max(-1, Math.min(n - 1, e)));
    const idx: number[] = [];
    for (let i = s; step > 0 ? i < e : i > e; i += step) idx.push(i);
    picks[a] = idx;
  });
  return build(
    picks.map((p) => p.length),
    (c) =>
      at(
        x,
        c.map((v, d) => picks[d][v]),
      ),
  );
}

/** Pad as onnxruntime does: negative pads first crop the input, then numpy.pad semantics. */
export function padRef(x: Ref, pads: number[], mode: string, value = 0): Ref {
  const r = x.shape.length;
  const crop = sliceRef(
    x,
    pads.slice(0, r).map((p) => Math.max(0, -p)),
    pads.slice(r).map((p, d) => x.shape[d] - Math.max(0, -p)),
  );
  const before = pads.slice(0, r).map((p) => Math.max(0, p)),
    after = pads.slice(r).map((p) => Math.max(0, p));
  const shape = crop.shape.map((n, d) => n + before[d] + after[d]);
  return build(shape, (c) => {
    const src: number[] = [];
    for (let d = 0; d < r; d++) {
      const n = crop.shape[d];
      let v = c[d] - before[d];
      if (v >= 0 && v < n) {
        src.push(v);
        continue;
      }
      if (mode === 'constant') return value;
      if (mode === 'edge') v = Math.max(0, Math.min(n - 1, v));
      else if (mode === 'wrap') v = ((v % n) + n) % n;
      else if (n === 1) v = 0;
      else while (v < 0 || v >= n) v = v < 0 ? -v : 2 * (n - 1) - v; // reflect, bouncing off the ends
      src.push(v);
    }
    return at(crop, src);
  });
}

export function concatRef(xs: Ref[], axis: number): Ref {
  const a = (axis + xs[0].shape.length) % xs[0].shape.length;
  const shape = [...xs[0].shape];
  shape[a] = xs.reduce((s, t) => s + t.shape[a], 0);
  return build(shape, (c) => {
    let k = c[a];
    for (const t of xs) {
      if (k < t.shape[a])
        return at(
          t,
          c.map((v, d) => (d === a ? k : v)),
        );
      k -= t.shape[a];
    }
    throw new Error('unreachable');
  });
}

export function expandRef(x: Ref, shape: number[]): Ref {
  const rank = Math.max(x.shape.length, shape.length);
  const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const xs = pad(x.shape),
    ts = pad(shape);
  return build(
    xs.map((d, i) => (d === 1 ? ts[i] : d)),
    (c) =>
      at(
        { data: x.data, shape: xs },
        c.map((v, i) => (xs[i] === 1 ? 0 : v)),
      ),
  );
}

export function tileRef(x: Ref, reps: number[]): Ref {
  return build(
    x.shape.map((d, i) => d * reps[i]),
    (c) =>
      at(
        x,
        c.map((v, i) => v % x.shape[i]),
      ),
  );
}

export function gatherRef(x: Ref, indices: Ref, axis: number): Ref {
  const a = (axis + x.shape.length) % x.shape.length,
    q = indices.shape.length;
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return build(shape, (c) => {
    let k = at(indices, c.slice(a, a + q));
    if (k < 0) k += x.shape[a];
    return at(x, [...c.slice(0, a), k, ...c.slice(a + q)]);
  });
}

/** DepthToSpace from the ONNX formulas: DCR takes depth blocks first, CRD channels first. */
export function depthToSpaceRef(x: Ref, b: number, mode: 'DCR' | 'CRD'): Ref {
  const [n, c, h, w] = x.shape,
    k = c / (b * b);
  return build([n, k, h * b, w * b], ([ni, ci, y, z]) => {
    const i = y % b,
      j = z % b;
    const ch = mode === 'DCR' ? (i * b + j) * k + ci : ci * b * b + i * b + j;
    return at(x, [ni, ch, Math.floor(y / b), Math.floor(z / b)]);
  });
}

export function spaceToDepthRef(x: Ref, b: number): Ref {
  const [n, c, h, w] = x.shape;
  return build([n, c * b * b, h / b, w / b], ([ni, ch, y, z]) => {
    const ci = ch % c,
      blk = Math.floor(ch / c);
    return at(x, [ni, ci, y * b + Math.floor(blk / b), z * b + (blk % b)]);
  });
}

/** One value cast as C/onnxruntime would: floats truncate to ints, ints wrap between i32/u32. */
export function castRef(v: number, from: string, to: string, toBool = false): number {
  if (toBool) return v !== 0 ? 1 : 0;
  if (to === 'f32') return Math.fround(v);
  if (to === 'f16') return fromHalf(toHalf(v));
  const t = from === 'f32' || from === 'f16' ? Math.trunc(v) : v;
  return to === 'i32' ? t | 0 : t >>> 0;
}
