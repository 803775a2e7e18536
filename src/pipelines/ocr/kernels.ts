import type { Runtime } from '../../gpu/runtime';
import type { GpuTensor } from '../../core/op';
import { linearGrid } from '../../kernels/dispatch';
import type { GpuImage } from './source';

/** The OCR pipeline's own dispatches (shaders/ocr/); each records into the runtime's encoder. */

/** Largest number of bilinear taps per axis an output pixel averages when shrinking. */
export const MAX_TAPS = 8;
const taps = (ratio: number) => Math.min(MAX_TAPS, Math.max(1, Math.ceil(ratio - 1e-6)));

/** RGBA image -> det input [1,3,h,w]: planar B,G,R in [0,1] * scale + bias, area-filtered resize. */
export function detInput(rt: Runtime, img: GpuImage, w: number, h: number, scale = 1, bias = 0): GpuTensor {
  const out = rt.alloc([1, 3, h, w]);
  rt.dispatch({
    name: `ocr.detInput ${img.width}x${img.height}->${w}x${h}`,
    shader: 'ocr/det-input.wgsl',
    uniforms: {
      src_w: img.width,
      src_h: img.height,
      pitch: img.pitch,
      out_w: w,
      out_h: h,
      taps_x: taps(img.width / w),
      taps_y: taps(img.height / h),
      scale,
      bias,
    },
    buffers: { src: img.buffer, dst: out.buffer },
    workgroups: [Math.ceil(w / 8), Math.ceil(h / 8)],
  });
  return out;
}

/** Probability map (f32, n values) -> n bytes packed in u32 words: bit 7 = p > thresh, bits 0-6 = round(127 p). */
export function binarize(rt: Runtime, prob: GpuTensor, n: number, thresh: number): GpuTensor {
  const words = Math.ceil(n / 4);
  const out = rt.alloc([words], 'u32');
  rt.dispatch({
    name: `ocr.binarize ${n}`,
    shader: 'ocr/binarize.wgsl',
    overrides: { WG: 256 },
    uniforms: { n, thresh },
    buffers: { prob: prob.buffer, bytes: out.buffer },
    workgroups: linearGrid(words, 256),
  });
  return out;
}

/** One line to rectify: `h` maps a dest pixel (u, v, 1) to a source point (row-major 3x3); `width` <= the batch width. */
export interface LineWarp {
  h: number[];
  width: number;
  /** source pixels per dest pixel (the area filter's tap count comes from it) */
  shrink: number;
}

/** Source quads -> [lines, 3, height, width] straight line images, B,G,R * scale + bias, `pad` past each line's width. */
export function rectify(
  rt: Runtime,
  img: GpuImage,
  lines: LineWarp[],
  width: number,
  height: number,
  norm: { scale: number; bias: number; pad: number },
): GpuTensor {
  const params = new Float32Array(lines.length * 12);
  lines.forEach((l, i) => {
    const h = l.h,
      t = taps(l.shrink);
    params.set([h[0], h[1], h[2], l.width, h[3], h[4], h[5], t, h[6], h[7], h[8], 0], i * 12);
  });
  const p = rt.upload(params, [params.length]);
  const out = rt.alloc([lines.length, 3, height, width]);
  rt.dispatch({
    name: `ocr.rectify ${lines.length}x${height}x${width}`,
    shader: 'ocr/rectify.wgsl',
    uniforms: {
      src_w: img.width,
      src_h: img.height,
      pitch: img.pitch,
      out_w: width,
      out_h: height,
      lines: lines.length,
      ...norm,
    },
    buffers: { src: img.buffer, lines: p.buffer, dst: out.buffer },
    workgroups: [Math.ceil(width / 8), Math.ceil(height / 8), lines.length],
  });
  rt.release(p);
  return out;
}

/** [rows, classes] probabilities -> [rows, 2] u32: argmax index and bitcast max probability. */
export function ctcArgmax(rt: Runtime, probs: GpuTensor, rows: number, classes: number): GpuTensor {
  const out = rt.alloc([rows, 2], 'u32');
  rt.dispatch({
    name: `ocr.ctcArgmax ${rows}x${classes}`,
    shader: 'ocr/ctc-argmax.wgsl',
    overrides: { WG: 64 },
    uniforms: { rows, classes },
    buffers: { probs: probs.buffer, out: out.buffer },
    workgroups: linearGrid(rows, 1),
  });
  return out;
}
