// f64 references for 2-D MaxPool / AveragePool (NCHW), from the ONNX operator definitions.
// Average with count_include_pad divides by the taps inside the padded input (PyTorch, onnxruntime):
// window positions past the end padding that ceil_mode adds are not counted.

export interface PoolOpts {
  kernel: [number, number];
  strides?: [number, number];
  dilations?: [number, number];
  pads?: [number, number, number, number];
  autoPad?: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  ceil?: boolean;
  countIncludePad?: boolean;
  columnMajor?: boolean;
}

/** Output sizes and effective pads [top, left, bottom, right] of one 2-D pool. */
export function poolShape(h: number, w: number, o: PoolOpts): { oh: number; ow: number; pads: number[] } {
  const s = o.strides ?? [1, 1],
    d = o.dilations ?? [1, 1];
  const pads = [...(o.pads ?? [0, 0, 0, 0])];
  const size = [h, w];
  const out = [0, 0];
  for (const i of [0, 1]) {
    const span = d[i] * (o.kernel[i] - 1) + 1;
    if (o.autoPad === 'SAME_UPPER' || o.autoPad === 'SAME_LOWER') {
      out[i] = Math.ceil(size[i] / s[i]);
      const total = Math.max(0, (out[i] - 1) * s[i] + span - size[i]);
      const lo = o.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      pads[i] = lo;
      pads[i + 2] = total - lo;
      continue;
    }
    if (o.autoPad === 'VALID') pads[i] = pads[i + 2] = 0;
    const q = (size[i] + pads[i] + pads[i + 2] - span) / s[i];
    out[i] = (o.ceil ? Math.ceil(q) : Math.floor(q)) + 1;
    if (o.ceil && (out[i] - 1) * s[i] >= size[i] + pads[i]) out[i] -= 1;
  }
  return { oh: out[0], ow: out[1], pads };
}

export function poolRef(kind: 'max' | 'avg', x: ArrayLike<number>, shape: number[], o: PoolOpts) {
  const [n, c, h, w] = shape;
  const { oh, ow, pads } = poolShape(h, w, o);
  const s = o.strides ?? [1, 1],
    d = o.dilations ?? [1, 1];
  const y: number[] = [],
    idx: number[] = [];
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = -Infinity,
          bestAt = -1,
          sum = 0,
          inside = 0,
          padded = 0;
        for (let a = 0; a < o.kernel[0]; a++) {
          for (let b = 0; b < o.kernel[1]; b++) {
            const r = i * s[0] - pads[0] + a * d[0],
              q = j * s[1] - pads[1] + b * d[1];
            if (r >= -pads[0] && r < h + pads[2] && q >= -pads[1] && q < w + pads[3]) padded++;
            if (r < 0 || r >= h || q < 0 || q >= w) continue;
            const v = x[p * h * w + r * w + q];
            inside++;
            sum += v;
            if (bestAt < 0 || v > best) (best = v), (bestAt = p * h * w + (o.columnMajor ? q * h + r : r * w + q));
          }
        }
        y.push(kind === 'max' ? best : sum / (o.countIncludePad ? padded : inside));
        idx.push(bestAt);
      }
    }
  }
  return { y, idx, shape: [n, c, oh, ow] };
}

/** The ONNX attributes of `o` (MaxPool / AveragePool), count_include_pad when `count`. */
export function poolAttrs(o: PoolOpts, count = false) {
  const a: Record<string, number | number[] | string> = { kernel_shape: o.kernel };
  if (o.strides) a.strides = o.strides;
  if (o.dilations) a.dilations = o.dilations;
  if (o.pads) a.pads = o.pads;
  if (o.autoPad) a.auto_pad = o.autoPad;
  if (o.ceil) a.ceil_mode = 1;
  if (o.columnMajor) a.storage_order = 1;
  if (count) a.count_include_pad = 1;
  return a;
}

/**
 * 3-D MaxPool / AveragePool over [N, C, D, H, W] with explicit pads [front, top, left, back, bottom,
 * right] (no auto_pad, no ceil): every output position visits its window directly. Max also gives
 * the flat index (over the whole tensor) of the first maximum.
 */
export function pool3dRef(
  x: ArrayLike<number>,
  shape: number[],
  kind: 'max' | 'avg',
  k: number[],
  s: number[] = [1, 1, 1],
  d: number[] = [1, 1, 1],
  pads: number[] = [0, 0, 0, 0, 0, 0],
  countIncludePad = false,
): { y: number[]; indices: number[]; shape: number[] } {
  const [N, C, ...size] = shape;
  const out = [0, 1, 2].map((i) => Math.floor((size[i] + pads[i] + pads[i + 3] - d[i] * (k[i] - 1) - 1) / s[i]) + 1);
  const y: number[] = [],
    indices: number[] = [];
  for (let p = 0; p < N * C; p++)
    for (let a = 0; a < out[0]; a++)
      for (let b = 0; b < out[1]; b++)
        for (let c = 0; c < out[2]; c++) {
          let best = -Infinity,
            at = -1,
            sum = 0,
            count = 0,
            padded = 0;
          for (let i = 0; i < k[0]; i++)
            for (let j = 0; j < k[1]; j++)
              for (let l = 0; l < k[2]; l++) {
                const z = [a * s[0] - pads[0] + i * d[0], b * s[1] - pads[1] + j * d[1], c * s[2] - pads[2] + l * d[2]];
                if (z.every((v, q) => v >= -pads[q] && v < size[q] + pads[q + 3])) padded++;
                if (z.some((v, q) => v < 0 || v >= size[q])) continue;
                const idx = p * size[0] * size[1] * size[2] + (z[0] * size[1] + z[1]) * size[2] + z[2];
                sum += x[idx];
                count++;
                if (x[idx] > best) (best = x[idx]), (at = idx);
              }
          y.push(kind === 'max' ? best : sum / (countIncludePad ? padded : count));
          indices.push(at);
        }
  return { y, indices, shape: [N, C, ...out] };
}
