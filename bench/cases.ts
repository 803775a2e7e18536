// The kernel benchmark cases and their runner, shared by `npm run bench` (Node) and demos/kernels.
// Times are GPU timestamps (summed over the op's dispatches) where the adapter has timestamp-query,
// otherwise wall time of submit + onSubmittedWorkDone; the median of RUNS runs after a warm-up.
import {
  kernelFor,
  numel,
  runKernel,
  type Attrs,
  type GpuTensor,
  type HostValues,
  type Runtime,
} from '../src/internal';

export interface Case {
  name: string;
  op: string;
  shapes: (number[] | undefined)[];
  attrs?: Attrs;
  host?: HostValues;
  /** useful floating-point operations, or bytes moved for memory-bound kernels */
  flops?: number;
  bytes?: number;
  grid?: boolean;
}

const conv = (n: number, c: number, h: number, w: number, m: number, k: number, o: Attrs = {}): Case => {
  const g = (o.group as number) ?? 1;
  const d = ((o.dilations as number[]) ?? [1, 1])[0];
  const p = ((o.pads as number[]) ?? [0, 0, 0, 0])[0];
  const oh = h + 2 * p - d * (k - 1),
    ow = w + 2 * p - d * (k - 1);
  return {
    name: '',
    op: 'Conv',
    shapes: [[n, c, h, w], [m, c / g, k, k], [m]],
    attrs: { kernel_shape: [k, k], ...o },
    flops: 2 * n * m * oh * ow * (c / g) * k * k,
  };
};
const convT = (c: number, h: number, m: number, k: number, s: number, p: number): Case => ({
  name: '',
  op: 'ConvTranspose',
  shapes: [[1, c, h, h], [c, m, k, k], [m]],
  attrs: { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p] },
  flops: 2 * c * h * h * m * k * k,
});

export const cases: Case[] = [
  { ...conv(1, 64, 128, 128, 64, 3, { pads: [1, 1, 1, 1] }), name: 'conv 3x3 64->64 1x64x128x128' },
  {
    ...conv(1, 512, 32, 32, 512, 3, { pads: [6, 6, 6, 6], dilations: [6, 6] }),
    name: 'atrous conv 3x3 d=6 512->512 1x512x32x32',
  },
  { ...conv(1, 96, 112, 112, 96, 3, { pads: [1, 1, 1, 1], group: 96 }), name: 'depthwise 3x3 1x96x112x112' },
  { ...convT(21, 64, 21, 4, 2, 1), name: 'conv_transpose k4 s2 21->21 1x21x64x64' },
  { ...convT(21, 32, 21, 16, 8, 4), name: 'conv_transpose k16 s8 21->21 1x21x32x32' },
  {
    name: 'grid_sample bilinear 1x64x128x128',
    op: 'GridSample',
    shapes: [
      [1, 64, 128, 128],
      [1, 128, 128, 2],
    ],
    grid: true,
    attrs: { mode: 'bilinear', padding_mode: 'zeros', align_corners: 0 },
    bytes: 4 * (64 * 128 * 128 * 2 + 128 * 128 * 2),
  },
  {
    name: 'resize x8 bilinear 1x21x64x64',
    op: 'Resize',
    shapes: [[1, 21, 64, 64], undefined, [4]],
    host: [undefined, undefined, [1, 1, 8, 8]],
    attrs: { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
    bytes: 4 * (21 * 64 * 64 + 21 * 512 * 512),
  },
  {
    name: 'matmul 1024x1024x1024 (roofline)',
    op: 'MatMul',
    shapes: [
      [1024, 1024],
      [1024, 1024],
    ],
    flops: 2 * 1024 ** 3,
  },
];

export const RUNS = 7;

export interface Row {
  kernel: string;
  op: string;
  medianMs: number;
  /** GFLOP/s for compute-bound cases, GB/s for memory-bound ones */
  rate: number;
  unit: 'GFLOP/s' | 'GB/s';
  adapter: string;
}

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function benchCase(rt: Runtime, c: Case, runs = RUNS): Promise<Row> {
  const k = kernelFor(c.op);
  const inputs: (GpuTensor | undefined)[] = c.shapes.map((s, i) => {
    if (!s || k.hostInputs?.includes(i)) return undefined;
    const data = Float32Array.from({ length: numel(s) }, () => (c.grid && i === 1 ? 2.4 : 1) * (Math.random() - 0.5));
    return rt.upload(data, s);
  });
  const once = () => rt.release(...runKernel(rt, k, inputs, c.attrs ?? {}, c.host ?? []));
  try {
    once();
    await rt.sync(); // compile + warm-up
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (rt.info.timestamps) {
        const t = await rt.profile(once);
        times.push(t.reduce((a, e) => a + e.ms, 0));
      } else {
        const t0 = performance.now();
        once();
        await rt.sync();
        times.push(performance.now() - t0);
      }
    }
    const ms = median(times);
    const unit = c.flops ? 'GFLOP/s' : 'GB/s';
    return {
      kernel: c.name,
      op: c.op,
      medianMs: +ms.toFixed(3),
      rate: +((c.flops ?? c.bytes!) / ms / 1e6).toFixed(2),
      unit,
      adapter: rt.info.adapter,
    };
  } finally {
    rt.release(...inputs.filter((t): t is GpuTensor => !!t));
  }
}
