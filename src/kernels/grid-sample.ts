import { WgsegError } from '../core/errors';
import { intAttr, strAttr } from '../core/attrs';
import { linearGrid } from './dispatch';
import type { Attrs } from '../core/attrs';
import type { GpuTensor, HostValues, KernelContext, OpKernel, TensorInfo } from '../core/op';
import { withVariants } from './variants';

const MODES: Record<string, number> = { nearest: 0, linear: 1, bilinear: 1, cubic: 2, bicubic: 2 };
const PADS: Record<string, number> = { zeros: 0, border: 1, reflection: 2 };
const WG = 64;
/** what linearGrid can fold into a 2-D grid of at most 65535 x 65535 workgroups */
const MAX_GRID = 65535 * 65535;

function floatDtype(op: string, what: string, t: TensorInfo): void {
  if (t.dtype !== 'f32' && t.dtype !== 'f16')
    throw new WgsegError('UNSUPPORTED_DTYPE', `${op}: ${what} must be f32 or f16, got ${t.dtype}`);
}

function flag(attrs: Attrs, name: string, op: string): number {
  const v = intAttr(attrs, name, 0, op);
  if (v !== 0 && v !== 1) throw new WgsegError('BAD_ATTRIBUTE', `${op}: ${name} must be 0 or 1, got ${v}`);
  return v;
}

function gridSampleAttrs(attrs: Attrs) {
  const op = 'GridSample';
  const modeName = strAttr(attrs, 'mode', 'linear', op);
  const padName = strAttr(attrs, 'padding_mode', 'zeros', op);
  const mode = MODES[modeName],
    pad = PADS[padName];
  if (mode === undefined)
    throw new WgsegError('BAD_ATTRIBUTE', `${op}: mode "${modeName}" is not one of ${Object.keys(MODES).join(', ')}`);
  if (pad === undefined)
    throw new WgsegError('BAD_ATTRIBUTE', `${op}: padding_mode "${padName}" is not one of zeros, border, reflection`);
  return { mode, pad, align: flag(attrs, 'align_corners', op) };
}

const outHw = (y: { shape: number[] }) => y.shape[2] * y.shape[3];

/** Both kernels: `per` output pixels per invocation (1: grid-sample.wgsl, 4: grid-sample-x4.wgsl). */
function encodeGridSample(
  per: 1 | 4,
  rt: KernelContext,
  [x, grid]: (GpuTensor | undefined)[],
  y: GpuTensor,
  attrs: Attrs,
) {
  const { mode, pad, align } = gridSampleAttrs(attrs);
  const [n, c, h, w] = x!.shape;
  const pixels = n * outHw(y);
  rt.dispatch({
    name: `GridSample[${x!.shape}->${y.shape}]${per === 4 ? ' x4' : ''}`,
    shader: per === 4 ? 'grid-sample/grid-sample-x4.wgsl' : 'grid-sample/grid-sample.wgsl',
    defines: { T: x!.dtype, G: grid!.dtype },
    overrides: { WG, MODE: mode, TAPS: [1, 2, 4][mode], PAD: pad, ALIGN: align },
    uniforms: { pixels, c, in_h: h, in_w: w, out_hw: outHw(y) },
    buffers: { x: x!.buffer, grid: grid!.buffer, y: y.buffer },
    workgroups: linearGrid(pixels / per, WG),
  });
}

/**
 * GridSample, ONNX 16/20 (== torch.nn.functional.grid_sample), 4-D tensors only. Variants: 'pixel'
 * (today's kernel, one output pixel per invocation) and 'pixel-x4' (four pixels along x per
 * invocation, vec4 grid loads and stores; needs Ho*Wo % 4 == 0). Every mode and padding mode in both.
 */
const gridSample: OpKernel = withVariants({
  op: 'GridSample',
  infer([x, grid], attrs) {
    const op = 'GridSample';
    if (!x || !grid) throw new WgsegError('BAD_INPUT', `${op}: needs inputs X and grid`);
    if (x.shape.length === 5)
      throw new WgsegError(
        'BAD_SHAPE',
        `${op}: volumetric (5-D) input [${x.shape}] is not supported; only 4-D [N,C,H,W]`,
      );
    if (x.shape.length !== 4) throw new WgsegError('BAD_SHAPE', `${op}: X must be 4-D [N,C,H,W], got [${x.shape}]`);
    const [n, c] = x.shape;
    const g = grid.shape;
    if (g.length !== 4 || g[0] !== n || g[3] !== 2)
      throw new WgsegError('BAD_SHAPE', `${op}: grid must be [${n},Ho,Wo,2] for X [${x.shape}], got [${g}]`);
    floatDtype(op, 'X', x);
    floatDtype(op, 'grid', grid);
    gridSampleAttrs(attrs);
    return [{ shape: [n, c, g[1], g[2]], dtype: x.dtype }];
  },
  variants: [
    {
      name: 'pixel',
      applies: ([x, grid]) => Math.ceil((x!.shape[0] * grid!.shape[1] * grid!.shape[2]) / WG) <= MAX_GRID,
      encode: (rt, inputs, [y], attrs) => encodeGridSample(1, rt, inputs, y, attrs),
    },
    {
      name: 'pixel-x4',
      applies([x, grid]) {
        const hw = grid!.shape[1] * grid!.shape[2];
        return hw % 4 === 0 && Math.ceil((x!.shape[0] * hw) / 4 / WG) <= MAX_GRID;
      },
      encode: (rt, inputs, [y], attrs) => encodeGridSample(4, rt, inputs, y, attrs),
    },
  ],
});

function affineSize(op: string, theta: TensorInfo, host: HostValues): number[] {
  const size = host[1];
  if (!size) throw new WgsegError('BAD_INPUT', `${op}: input size must be known on the host`);
  if (size.length === 5)
    throw new WgsegError(
      'BAD_SHAPE',
      `${op}: 3-D (size [${size}], theta [N,3,4]) is not supported; only 2-D size [N,C,H,W]`,
    );
  if (size.length !== 4 || size.some((d) => !Number.isInteger(d) || d <= 0))
    throw new WgsegError('BAD_SHAPE', `${op}: size must be 4 positive ints [N,C,H,W], got [${size}]`);
  const t = theta.shape;
  if (t.length !== 3 || t[0] !== size[0] || t[1] !== 2 || t[2] !== 3)
    throw new WgsegError('BAD_SHAPE', `${op}: theta must be [${size[0]},2,3] for size [${size}], got [${t}]`);
  return size;
}

/** AffineGrid, ONNX 20 (== torch affine_grid), 2-D: theta [N,2,3], size [N,C,H,W] -> [N,H,W,2]. */
const affineGrid: OpKernel = {
  op: 'AffineGrid',
  hostInputs: [1],
  infer([theta], attrs, host) {
    const op = 'AffineGrid';
    if (!theta) throw new WgsegError('BAD_INPUT', `${op}: missing theta`);
    floatDtype(op, 'theta', theta);
    flag(attrs, 'align_corners', op);
    const [n, , h, w] = affineSize(op, theta, host);
    return [{ shape: [n, h, w, 2], dtype: theta.dtype }];
  },
  encode(rt, [theta], [grid], attrs) {
    const [n, h, w] = grid.shape;
    const points = n * h * w;
    rt.dispatch({
      name: `AffineGrid[${grid.shape}]`,
      shader: 'grid-sample/affine-grid.wgsl',
      defines: { T: theta!.dtype },
      overrides: { WG },
      uniforms: { points, h, w, align: flag(attrs, 'align_corners', 'AffineGrid') },
      buffers: { theta: theta!.buffer, grid: grid.buffer },
      workgroups: linearGrid(points, WG),
    });
  },
};

export const gridSampleKernels: OpKernel[] = [gridSample, affineGrid];
