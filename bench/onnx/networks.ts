import { ONNX_DTYPE, OnnxBuilder, encodeModel, tensor, type AttrInput, type BuildType } from './build';
import { rng, type Rng } from './random';

/**
 * The seed networks of issue 3 as ONNX bytes, small enough for a software GPU, laid out the way
 * PyTorch's exporter (opset 17) writes them: Constant nodes for indices, Shape -> Gather ->
 * Unsqueeze -> Concat -> Cast chains for Resize sizes, BatchNormalization after convs (eval mode),
 * Slice crops, Reshape with a -1. Weights are He-initialised from a seeded rng.
 */

export interface SeedNet {
  name: string;
  bytes: Uint8Array;
  /** the same model with every node output also a graph output (for summing intermediate sizes in ORT) */
  probeBytes: Uint8Array;
  feeds: Record<string, { data: Float32Array; dims: number[] }>;
  outputs: { name: string; type: BuildType }[];
}

interface ConvOpts {
  k?: number;
  stride?: number;
  dil?: number;
  pad?: number;
  group?: number;
  bias?: boolean;
}

/** A thin layer over OnnxBuilder that remembers each value's element type and draws weights. */
class Net {
  readonly b: OnnxBuilder;
  readonly r: Rng;
  private types = new Map<string, BuildType>();
  private feeds: SeedNet['feeds'] = {};
  private n = 0;

  constructor(
    readonly name: string,
    seed: number,
    opset = 17,
  ) {
    this.b = new OnnxBuilder({ opset, name });
    this.r = rng(seed);
  }

  /** a float input fed with uniform data; batch > 1 declares dim 0 symbolic ('batch'), as `dynamic_axes` exports it */
  input(name: string, dims: number[], batch = 1): string {
    const fed = [batch, ...dims.slice(1)];
    this.feeds[name] = {
      data: Float32Array.from(
        this.r.array(
          fed.reduce((a, c) => a * c, 1),
          -1,
          1,
        ),
      ),
      dims: fed,
    };
    return this.b.input(name, batch > 1 ? ['batch', ...dims.slice(1)] : dims);
  }
  /** name of a fresh initializer */
  private id(p: string) {
    return `${this.name}.${p}${this.n++}`;
  }
  param(data: ArrayLike<number>, dims: number[]): string {
    return this.b.init(this.id('w'), data, dims);
  }
  uniform(dims: number[], lo: number, hi: number): string {
    return this.param(
      this.r.array(
        dims.reduce((a, c) => a * c, 1),
        lo,
        hi,
      ),
      dims,
    );
  }
  /** He (Kaiming) uniform: variance 2 / fanIn */
  he(dims: number[], fanIn: number): string {
    const a = Math.sqrt(6 / fanIn);
    return this.uniform(dims, -a, a);
  }
  ints(data: number[], dims?: number[]): string {
    return this.b.initInt64(this.id('i'), data, dims);
  }
  /** a Constant node, as the exporter writes small index tensors */
  constInt(data: number[], dims: number[] = [data.length]): string {
    return this.op('Constant', [], { value: tensor(data, dims, 'int64') }, 'int64');
  }
  op(op: string, inputs: string[], attrs: Record<string, AttrInput> = {}, type: BuildType = 'float32'): string {
    const y = this.b.node(op, inputs, attrs);
    this.types.set(y, type);
    return y;
  }

  conv(x: string, cin: number, cout: number, o: ConvOpts = {}): string {
    const k = o.k ?? 3,
      dil = o.dil ?? 1,
      group = o.group ?? 1,
      s = o.stride ?? 1;
    const p = o.pad ?? (dil * (k - 1)) / 2;
    const w = this.he([cout, cin / group, k, k], (cin / group) * k * k);
    const ins = o.bias === false ? [x, w] : [x, w, this.uniform([cout], -0.1, 0.1)];
    return this.op('Conv', ins, {
      dilations: [dil, dil],
      group,
      kernel_shape: [k, k],
      pads: [p, p, p, p],
      strides: [s, s],
    });
  }
  bn(x: string, c: number): string {
    const u = (lo: number, hi: number) => this.uniform([c], lo, hi);
    return this.op('BatchNormalization', [x, u(0.5, 1.5), u(-0.2, 0.2), u(-0.2, 0.2), u(0.5, 1.5)], {
      epsilon: 1e-5,
      momentum: 0.9,
    });
  }
  relu(x: string): string {
    return this.op('Relu', [x]);
  }
  cbr(x: string, cin: number, cout: number, o: ConvOpts = {}): string {
    return this.relu(this.bn(this.conv(x, cin, cout, { ...o, bias: false }), cout));
  }
  maxpool(x: string, k = 2, s = 2): string {
    return this.op('MaxPool', [x], { ceil_mode: 0, kernel_shape: [k, k], pads: [0, 0, 0, 0], strides: [s, s] });
  }
  /** ConvTranspose; `bilinear` starts from FCN's bilinear upsampling filter (per channel) plus noise */
  convT(
    x: string,
    cin: number,
    cout: number,
    k: number,
    s: number,
    o: { bias?: boolean; bilinear?: boolean; pad?: number } = {},
  ): string {
    const data = this.r.array(cin * cout * k * k, -1, 1).map((v) => v * Math.sqrt(3 / ((cin * k * k) / (s * s))));
    if (o.bilinear) {
      const f = Math.ceil(k / 2),
        c = (2 * f - 1 - (f % 2)) / (2 * f);
      for (let i = 0; i < cin * cout * k * k; i++) data[i] *= 0.05;
      for (let ch = 0; ch < Math.min(cin, cout); ch++)
        for (let y = 0; y < k; y++)
          for (let xx = 0; xx < k; xx++)
            data[((ch * cout + ch) * k + y) * k + xx] += (1 - Math.abs(y / f - c)) * (1 - Math.abs(xx / f - c));
    }
    const w = this.param(data, [cin, cout, k, k]);
    const ins = o.bias ? [x, w, this.uniform([cout], -0.1, 0.1)] : [x, w];
    const p = o.pad ?? 0;
    return this.op('ConvTranspose', ins, {
      dilations: [1, 1],
      group: 1,
      kernel_shape: [k, k],
      pads: [p, p, p, p],
      strides: [s, s],
    });
  }
  /** x[:, :, off:off+h, off:off+w] as the exporter writes it (Slice with constant starts/ends/axes/steps) */
  crop(x: string, off: number, h: number, w: number): string {
    return this.op('Slice', [
      x,
      this.constInt([off, off]),
      this.constInt([off + h, off + w]),
      this.constInt([2, 3]),
      this.constInt([1, 1]),
    ]);
  }
  /** F.interpolate(x, size=like.shape[-2:], mode='bilinear', align_corners=False) via Shape -> Gather -> Unsqueeze -> Concat -> Cast */
  resizeLike(x: string, like: string, emptyScales = false): string {
    const shp = this.op('Shape', [like], {}, 'int64');
    const dim = (a: number) =>
      this.op(
        'Unsqueeze',
        [this.op('Gather', [shp, this.constInt([a], [])], { axis: 0 }, 'int64'), this.constInt([0])],
        {},
        'int64',
      );
    const hw = this.op(
      'Cast',
      [this.op('Concat', [dim(2), dim(3)], { axis: 0 }, 'int64')],
      { to: ONNX_DTYPE.int64 },
      'int64',
    );
    const nc = this.op(
      'Slice',
      [this.op('Shape', [x], {}, 'int64'), this.constInt([0]), this.constInt([2]), this.constInt([0])],
      {},
      'int64',
    );
    const sizes = this.op('Concat', [nc, hw], { axis: 0 }, 'int64');
    const scales = emptyScales ? this.param([], [0]) : '';
    return this.op('Resize', [x, '', scales, sizes], {
      coordinate_transformation_mode: 'pytorch_half_pixel',
      cubic_coeff_a: -0.75,
      mode: 'linear',
      nearest_mode: 'floor',
    });
  }

  finish(outputs: { name: string; type?: BuildType }[]): SeedNet {
    const outs = outputs.map((o) => ({ name: o.name, type: o.type ?? this.types.get(o.name) ?? 'float32' }));
    for (const o of outs) this.b.output(o.name, o.type);
    const bytes = this.b.bytes();
    const probe = this.b.model();
    const g = probe.graph;
    for (const [name, type] of this.types)
      if (!outs.some((o) => o.name === name))
        g.output.push({ name, type: { tensorType: { elemType: ONNX_DTYPE[type] } } });
    return { name: this.name, bytes, probeBytes: encodeModel(probe), feeds: this.feeds, outputs: outs };
  }
}

/** FCN-8s: VGG-ish backbone, fc6/fc7 as convs, 1x1 score layers, deconv x2, x2, x8 with Slice crops and skip sums. */
export function fcn8s(classes = 5, size = 64, batch = 1): SeedNet {
  const n = new Net('fcn8s', 81);
  const x = n.input('input', [1, 3, size, size], batch);
  const stage = (h: string, cin: number, cout: number) =>
    n.maxpool(n.relu(n.conv(n.relu(n.conv(h, cin, cout)), cout, cout)));
  const pool1 = stage(x, 3, 8),
    pool2 = stage(pool1, 8, 16),
    pool3 = stage(pool2, 16, 16);
  const pool4 = stage(pool3, 16, 32),
    pool5 = stage(pool4, 32, 32);
  const fc7 = n.relu(n.conv(n.relu(n.conv(pool5, 32, 64, { k: 3 })), 64, 64, { k: 1 }));
  const s = size / 32; // pool5 side
  const up2 = n.convT(n.conv(fc7, 64, classes, { k: 1 }), classes, classes, 4, 2, { bilinear: true }); // 2s+2
  const fuse4 = n.op('Add', [n.crop(up2, 1, 2 * s, 2 * s), n.conv(pool4, 32, classes, { k: 1 })]);
  const up4 = n.convT(fuse4, classes, classes, 4, 2, { bilinear: true }); // 4s+2
  const fuse3 = n.op('Add', [n.crop(up4, 1, 4 * s, 4 * s), n.conv(pool3, 16, classes, { k: 1 })]);
  const up8 = n.convT(fuse3, classes, classes, 16, 8, { bilinear: true }); // 32s+8
  // the last crop's ends come from the input's shape, as `h[:, :, 4:4 + x.size(2), 4:4 + x.size(3)]` exports
  const shp = n.op('Shape', [x], {}, 'int64');
  const end = (a: number) =>
    n.op(
      'Unsqueeze',
      [
        n.op(
          'Add',
          [n.op('Gather', [shp, n.constInt([a], [])], { axis: 0 }, 'int64'), n.constInt([4], [])],
          {},
          'int64',
        ),
        n.constInt([0]),
      ],
      {},
      'int64',
    );
  const ends = n.op('Concat', [end(2), end(3)], { axis: 0 }, 'int64');
  const out = n.op('Slice', [up8, n.constInt([4, 4]), ends, n.constInt([2, 3]), n.constInt([1, 1])]);
  return n.finish([{ name: out }]);
}

/**
 * FCN-8s on VGG16 (conv1_1..conv5_3, fc6 as a 7x7 conv, fc7 1x1) with every width times `scale`
 * (1 = the real network, 0.25 = a quarter width). Padded so no crops are needed (conv pad 1, fc6 pad
 * 3, transposed convs k4 s2 p1, k4 s2 p1, k16 s8 p4, bilinear-initialised), as most PyTorch
 * re-implementations lay it out; the input side must be a multiple of 32.
 */
export function fcn8sVgg16(scale = 0.25, size = 224, classes = 21): SeedNet {
  const n = new Net(`fcn8s_vgg16_x${scale}`, 86);
  const x = n.input('input', [1, 3, size, size]);
  const w = (c: number) => Math.round(c * scale);
  const blocks: [number, number][] = [
    [64, 2],
    [128, 2],
    [256, 3],
    [512, 3],
    [512, 3],
  ];
  const pools: string[] = [];
  let h = x,
    cin = 3;
  for (const [c, reps] of blocks) {
    for (let r = 0; r < reps; r++) (h = n.relu(n.conv(h, cin, w(c)))), (cin = w(c));
    pools.push((h = n.maxpool(h)));
  }
  const fc6 = n.relu(n.conv(h, cin, w(4096), { k: 7 }));
  const fc7 = n.relu(n.conv(fc6, w(4096), w(4096), { k: 1 }));
  const up2 = n.convT(n.conv(fc7, w(4096), classes, { k: 1 }), classes, classes, 4, 2, { bilinear: true, pad: 1 });
  const fuse4 = n.op('Add', [up2, n.conv(pools[3], w(512), classes, { k: 1 })]);
  const up4 = n.convT(fuse4, classes, classes, 4, 2, { bilinear: true, pad: 1 });
  const fuse3 = n.op('Add', [up4, n.conv(pools[2], w(256), classes, { k: 1 })]);
  return n.finish([{ name: n.convT(fuse3, classes, classes, 16, 8, { bilinear: true, pad: 4 }) }]);
}

/** DeepLab v3: strided + dilated backbone (BN after every conv), ASPP with image pooling, bilinear x8, ArgMax. */
export function deeplab(classes = 6, size = 64, batch = 1): SeedNet {
  const n = new Net('deeplab', 82);
  const x = n.input('input', [1, 3, size, size], batch);
  let h = n.cbr(x, 3, 16, { stride: 2 });
  h = n.cbr(h, 16, 32, { stride: 2 });
  h = n.cbr(h, 32, 32, { stride: 2 });
  h = n.cbr(h, 32, 32, { dil: 2 });
  const branches = [n.cbr(h, 32, 16, { k: 1 }), ...[6, 12, 18].map((d) => n.cbr(h, 32, 16, { dil: d }))];
  const pooled = n.relu(n.bn(n.conv(n.op('GlobalAveragePool', [h]), 32, 16, { k: 1, bias: false }), 16));
  branches.push(n.resizeLike(pooled, h));
  let y = n.cbr(n.op('Concat', branches, { axis: 1 }), 80, 32, { k: 1 });
  y = n.cbr(y, 32, 32);
  const logits = n.resizeLike(n.conv(y, 32, classes, { k: 1 }), x, true);
  const labels = n.op('ArgMax', [logits], { axis: 1, keepdims: 0, select_last_index: 0 }, 'int64');
  return n.finish([{ name: logits }, { name: labels }]);
}

/** U-Net: two down levels, ConvTranspose 2x2 s2 up, Concat skips, BN + ReLU. */
export function unet(classes = 2, size = 32, batch = 1): SeedNet {
  const n = new Net('unet', 83);
  const x = n.input('input', [1, 3, size, size], batch);
  const block = (h: string, cin: number, cout: number) => n.cbr(n.cbr(h, cin, cout), cout, cout);
  const e1 = block(x, 3, 8),
    e2 = block(n.maxpool(e1), 8, 16),
    mid = block(n.maxpool(e2), 16, 32);
  const d2 = block(n.op('Concat', [n.convT(mid, 32, 16, 2, 2, { bias: true }), e2], { axis: 1 }), 32, 16);
  const d1 = block(n.op('Concat', [n.convT(d2, 16, 8, 2, 2, { bias: true }), e1], { axis: 1 }), 16, 8);
  return n.finish([{ name: n.conv(d1, 8, classes, { k: 1 }) }]);
}

/**
 * STN: localisation net -> theta [N,2,3]; the affine grid either as MatMul of a constant base grid
 * [H*W,3] with theta^T then Reshape (what a torch export can express), or the AffineGrid op (opset 20).
 */
export function stn(variant: 'matmul' | 'affine-grid' = 'matmul', size = 32, batch = 1): SeedNet {
  const opset = variant === 'matmul' ? 17 : 20;
  const n = new Net(variant === 'matmul' ? 'stn' : 'stn_affinegrid', 84, opset);
  const x = n.input('input', [1, 1, size, size], variant === 'matmul' ? batch : 1);
  let h = n.relu(n.maxpool(n.conv(x, 1, 8, { k: 7, pad: 0 })));
  h = n.relu(n.maxpool(n.conv(h, 8, 10, { k: 5, pad: 0 })));
  const side = Math.floor((Math.floor((size - 6) / 2) - 4) / 2),
    feat = 10 * side * side;
  h = n.op('Reshape', [h, n.constInt([-1, feat])], { allowzero: 0 });
  h = n.relu(n.op('Gemm', [h, n.he([32, feat], feat), n.uniform([32], -0.1, 0.1)], { alpha: 1, beta: 1, transB: 1 }));
  // fc_loc[2] starts near the identity transform, as in the PyTorch STN tutorial
  const bias = n.param([1.1, 0.15, -0.1, -0.2, 0.9, 0.05], [6]);
  const theta = n.op(
    'Reshape',
    [
      n.op('Gemm', [h, n.uniform([6, 32], -0.05, 0.05), bias], { alpha: 1, beta: 1, transB: 1 }),
      n.constInt([-1, 2, 3]),
    ],
    { allowzero: 0 },
  );
  let grid: string;
  if (variant === 'matmul') {
    const base = new Float32Array(size * size * 3);
    for (let i = 0; i < size; i++)
      for (let j = 0; j < size; j++) base.set([(2 * j + 1) / size - 1, (2 * i + 1) / size - 1, 1], (i * size + j) * 3);
    const g = n.op('MatMul', [n.param(base, [size * size, 3]), n.op('Transpose', [theta], { perm: [0, 2, 1] })]);
    grid = n.op('Reshape', [g, n.constInt([-1, size, size, 2])], { allowzero: 0 });
  } else {
    grid = n.op('AffineGrid', [theta, n.constInt([1, 1, size, size])], { align_corners: 0 });
  }
  const mode = opset >= 20 ? 'linear' : 'bilinear';
  const warped = n.op('GridSample', [x, grid], { align_corners: 0, mode, padding_mode: 'zeros' });
  return n.finish([{ name: warped }, { name: theta }]);
}

/**
 * SRN-style multi-label head: features -> per-label spatial softmax attention (Reshape/Softmax/
 * Reshape) and sigmoid confidences; attended features by broadcast Mul + ReduceSum; the spatial
 * regularisation branch (1x1 convs, grouped 3x3 conv, GlobalAveragePool, Gemm); Sigmoid per label.
 */
export function srn(labels = 6, size = 32): SeedNet {
  const n = new Net('srn', 85);
  const x = n.input('input', [1, 3, size, size]);
  const f = n.relu(n.conv(n.maxpool(n.relu(n.conv(x, 3, 16))), 16, 32));
  const s = size / 2,
    C = 32;
  const logitsA = n.conv(f, C, labels, { k: 1 });
  const att = n.op(
    'Reshape',
    [
      n.op('Softmax', [n.op('Reshape', [logitsA, n.constInt([1, labels, s * s])], { allowzero: 0 })], { axis: -1 }),
      n.constInt([1, labels, s, s]),
    ],
    { allowzero: 0 },
  );
  const conf = n.op('Sigmoid', [n.conv(f, C, labels, { k: 1 })]);
  const u = n.op('Mul', [att, conf]);
  const axes = (a: number[]) => n.constInt(a);
  const weighted = n.op('Mul', [n.op('Unsqueeze', [att, axes([2])]), n.op('Unsqueeze', [f, axes([1])])]); // [1,L,C,s,s]
  const attended = n.op('ReduceSum', [weighted, axes([3, 4])], { keepdims: 0 }); // [1,L,C]
  const main = n.op('Add', [
    n.op('ReduceSum', [n.op('Mul', [attended, n.he([labels, C], C)]), axes([2])], { keepdims: 0 }),
    n.uniform([labels], -0.1, 0.1),
  ]);
  let r = n.relu(n.conv(u, labels, 16, { k: 1 }));
  r = n.relu(n.conv(r, 16, 16, { k: 1 }));
  r = n.relu(n.conv(r, 16, 32, { group: 4 }));
  const sr = n.op(
    'Gemm',
    [
      n.op('Flatten', [n.op('GlobalAveragePool', [r])], { axis: 1 }),
      n.he([labels, 32], 32),
      n.uniform([labels], -0.1, 0.1),
    ],
    { alpha: 1, beta: 1, transB: 1 },
  );
  const out = n.op('Sigmoid', [n.op('Add', [main, sr])]);
  return n.finish([{ name: out }, { name: att }]);
}

/** Batch 2 through a symbolic batch dim (bound at the first run); the AffineGrid STN and the SRN head have batch 1 baked in. */
const batch2 = (net: SeedNet): SeedNet => ({ ...net, name: `${net.name}_batch2` });
export const BATCHED_NETS = {
  fcn8s: () => batch2(fcn8s(5, 64, 2)),
  deeplab: () => batch2(deeplab(6, 64, 2)),
  unet: () => batch2(unet(2, 32, 2)),
  stn: () => batch2(stn('matmul', 32, 2)),
} as const;

export const SEED_NETS = {
  fcn8s,
  deeplab,
  unet,
  stn: () => stn('matmul'),
  stnAffineGrid: () => stn('affine-grid'),
  srn,
} as const;
