import { join } from 'node:path';
import { WgsegError } from '../core/errors';
import type { ElemType } from '../core/dtype';
import { writeNpy, type NpyArray } from '../import/npy';
import { Session } from '../session';
import { fmtBytes, fmtShape } from './inspect';
import { type CliIo, withStatus } from './io';
import { loadModel, loadNpy, makeDir, sanitize, writeBytes } from './files';

const INT_TYPES = new Set<ElemType>(['int64', 'uint64', 'int32', 'uint32', 'int16', 'uint16', 'int8', 'uint8']);
const FLOAT_TYPES = new Set<ElemType>(['float32', 'float16', 'float64']);

/**
 * An .npy array as the host data a graph input of `type` takes: floats as Float32Array (from any
 * numeric dtype), integers as Int32Array (values must be integers within int32: that is what the
 * GPU stores), bool as Uint8Array.
 */
export function feedData(a: NpyArray, type: ElemType, where: string): Float32Array | Int32Array | Uint8Array {
  const n = a.data.length;
  if (FLOAT_TYPES.has(type))
    return a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number>, Number);
  if (type === 'bool') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(a.data[i]) !== 0 ? 1 : 0;
    return out;
  }
  if (INT_TYPES.has(type)) {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = Number(a.data[i]);
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
        throw new WgsegError(
          'BAD_INPUT',
          `${where}: the model takes ${type}, but element ${i} is ${a.data[i]} (integers within int32 only)`,
        );
      }
      out[i] = v;
    }
    return out;
  }
  throw new WgsegError('UNSUPPORTED_DTYPE', `${where}: inputs of type ${type} are not supported`);
}

/** Output file names: sanitized, and made unique when two names sanitize alike. */
function fileNames(names: string[]): Map<string, string> {
  const used = new Set<string>();
  const out = new Map<string, string>();
  for (const name of names) {
    const base = sanitize(name);
    let file = base,
      k = 1;
    while (used.has(file.toLowerCase())) file = `${base}_${k++}`;
    used.add(file.toLowerCase());
    out.set(name, file + '.npy');
  }
  return out;
}

type RunCmd = { model: string; inputs: { name: string; file: string }[]; out: string; precision?: 'f32' | 'f16' };

/**
 * `wgseg run`: read everything on the host first (cheap errors before the GPU starts), then run
 * once. Each output line: name, shape, file dtype, the inference time (run() until every output is
 * read back; the first run includes pipeline compilation), the planned peak of intermediate
 * buffers, and the file written.
 */
export async function runCommand(cmd: RunCmd, io: CliIo): Promise<void> {
  const model = await loadModel(cmd.model);
  const arrays = await Promise.all(
    cmd.inputs.map(async ({ name, file }) => ({ name, file, array: await loadNpy(file, name) })),
  );
  const session = await withStatus(io, `loading ${cmd.model}`, () =>
    Session.create(model, { precision: cmd.precision }),
  );
  try {
    const expected = session.inputs.map((i) => i.name);
    for (const { name } of arrays) {
      if (!expected.includes(name))
        throw new WgsegError(
          'BAD_INPUT',
          `--input ${name}: ${cmd.model} has no input "${name}" (its inputs: ${expected.join(', ')})`,
        );
    }
    const missing = expected.filter((name) => !arrays.some((a) => a.name === name));
    if (missing.length)
      throw new WgsegError(
        'BAD_INPUT',
        `${cmd.model}: missing --input for ${missing.map((n) => `"${n}"`).join(', ')} (its inputs: ${expected.join(', ')})`,
      );
    const feeds: Record<string, { data: Float32Array | Int32Array | Uint8Array; dims: number[] }> = {};
    for (const { name, file, array } of arrays) {
      const type = session.inputs.find((i) => i.name === name)!.type;
      feeds[name] = { data: feedData(array, type, `--input ${name}=${file}`), dims: array.shape };
    }
    await makeDir(cmd.out);
    // time: the inference as a caller sees it, run() until every output is back on the host
    const t0 = performance.now();
    const outs = await withStatus(io, 'running (the first run compiles the shaders)', () => session.run(feeds));
    let results: { name: string; shape: number[]; type: ElemType; data: ArrayLike<number> }[];
    try {
      results = await Promise.all(
        session.outputs.map(async ({ name }) => {
          const t = outs[name];
          return { name, shape: t.shape, type: t.type, data: await t.read() };
        }),
      );
    } finally {
      for (const t of Object.values(outs)) t.dispose();
    }
    const ms = performance.now() - t0;
    const files = fileNames(results.map((r) => r.name));
    const peak = session.plannedPeakBytes === undefined ? '?' : fmtBytes(session.plannedPeakBytes);
    const lines: string[] = [];
    for (const r of results) {
      const path = join(cmd.out, files.get(r.name)!);
      // float16 outputs stay float16 in the file (as the model declares them); integers as int64
      const dtype = INT_TYPES.has(r.type) ? 'int64' : r.type === 'float16' ? 'float16' : 'float32';
      await writeBytes(path, writeNpy(dtype, r.shape, r.data));
      lines.push(`${r.name}  ${fmtShape(r.shape)}  ${dtype}  ${ms.toFixed(1)} ms  planned peak ${peak}  -> ${path}`);
    }
    for (const l of [...session.notes.map((n) => `note: ${n}`), ...lines]) io.out(l);
  } finally {
    session.dispose();
  }
}
