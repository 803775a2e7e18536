import {
  loadGraph,
  readSafetensors,
  Session,
  WgsegError,
  type ElemType,
  type SessionOptions,
  type TensorInput,
} from '../../src/index';
import { readNpy, type NpyArray, type Runtime } from '../../src/internal';
import { feedData } from '../../src/cli/run';
import { OnnxBuilder } from '../../test/helpers/onnx-build';
import { rng } from '../../test/helpers/random';
import { buildSeedModel, type Format, type SeedModel } from './seeds';

/**
 * One fuzz case through wgseg, as a user would: a model file (ONNX, TFLite) into Session.create
 * and, when it loads, one run on generated inputs with every output read back; safetensors into
 * readSafetensors and, for a seed architecture's weights, Model.load -> session -> run; .npy into
 * readNpy and then as the input of a small session (converted as `wgseg run` does). Returns how it
 * ended; a thrown WgsegError is an expected end, anything else is thrown on.
 */

export interface Outcome {
  /** 'ok': loaded and ran (or read, for a file that is not a model); 'error': a WgsegError */
  status: 'ok' | 'error';
  code?: string;
  message?: string;
  /** how far it got: 'import' | 'create' | 'run' */
  stage: string;
}

/** Limits every fuzz session runs under (so a hostile shape is refused before allocation, not by the machine). */
export const FUZZ_LIMITS: Pick<SessionOptions, 'maxBufferBytes' | 'maxTotalBytes'> = {
  maxBufferBytes: 64 * 2 ** 20,
  maxTotalBytes: 256 * 2 ** 20,
};
/** inputs bigger than this are not generated (the session loaded; the run is skipped) */
const MAX_FEED = 2 ** 22;

const isFloat = (t: ElemType) => t.startsWith('float');

/** Inputs for a loaded session: symbolic dims 2, floats in [-1, 1], integers 0..2, bool 0/1. */
function feedsFor(s: Session, seed: number): Record<string, TensorInput> | null {
  const r = rng(seed);
  const feeds: Record<string, TensorInput> = {};
  for (const v of s.inputs) {
    const dims = v.shape.map((d) => (typeof d === 'number' ? d : 2));
    const n = dims.reduce((a, b) => a * b, 1);
    if (n > MAX_FEED) return null;
    const data = isFloat(v.type)
      ? Float32Array.from({ length: n }, () => r.uniform())
      : v.type === 'bool'
        ? Uint8Array.from({ length: n }, () => r.int(0, 1))
        : Int32Array.from({ length: n }, () => r.int(0, 2));
    feeds[v.name] = { data, dims };
  }
  return feeds;
}

async function runOnce(s: Session, feeds: Record<string, TensorInput>): Promise<void> {
  const out = await s.run(feeds);
  try {
    for (const t of Object.values(out)) await t.read();
  } finally {
    for (const t of Object.values(out)) t.dispose();
  }
}

/** Host copies of every typed array fed, to check after the run that none was written. */
function snapshot(feeds: Record<string, TensorInput>): Map<string, unknown[]> {
  const m = new Map<string, unknown[]>();
  for (const [k, f] of Object.entries(feeds)) if ('data' in f) m.set(k, Array.from(f.data as ArrayLike<unknown>));
  return m;
}
function checkUnchanged(feeds: Record<string, TensorInput>, before: Map<string, unknown[]>): void {
  for (const [k, f] of Object.entries(feeds)) {
    if (!('data' in f)) continue;
    const now = Array.from(f.data as ArrayLike<unknown>),
      was = before.get(k)!;
    if (now.length !== was.length || now.some((v, i) => !Object.is(v, was[i])))
      throw new Error(`FUZZ: input ${k} was modified by the run`);
  }
}

async function modelCase(bytes: Uint8Array, format: Format, rt: Runtime, seed: number): Promise<Outcome> {
  let stage = 'import';
  let s: Session | undefined;
  try {
    const graph = loadGraph(bytes, `case.${format}`);
    stage = 'create';
    s = await Session.create(graph, { device: rt, ...FUZZ_LIMITS });
    stage = 'run';
    const feeds = feedsFor(s, seed);
    if (!feeds) return { status: 'ok', stage: 'create' };
    const before = snapshot(feeds);
    await runOnce(s, feeds);
    checkUnchanged(feeds, before);
    return { status: 'ok', stage };
  } catch (e) {
    return asOutcome(e, stage);
  } finally {
    s?.dispose();
  }
}

async function safetensorsCase(
  bytes: Uint8Array,
  model: SeedModel | undefined,
  rt: Runtime,
  seed: number,
): Promise<Outcome> {
  let stage = 'import';
  let s: Session | undefined;
  try {
    const tensors = readSafetensors(bytes, 'case.safetensors');
    if (!model) return { status: 'ok', stage };
    stage = 'create';
    s = await buildSeedModel(model)
      .load(tensors, 'case.safetensors')
      .session({ device: rt, ...FUZZ_LIMITS });
    stage = 'run';
    const feeds = feedsFor(s, seed);
    if (feeds) await runOnce(s, feeds);
    return { status: 'ok', stage };
  } catch (e) {
    return asOutcome(e, stage);
  } finally {
    s?.dispose();
  }
}

/** One small session per input kind: x (rank unknown) -> y, as a float, an int64 and a bool input. */
const npySessions = new Map<string, Promise<Session>>();
function npySession(kind: 'float32' | 'int64' | 'bool', rt: Runtime): Promise<Session> {
  let s = npySessions.get(kind);
  if (!s) {
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('x', undefined, kind);
    if (kind === 'float32') b.output(b.node('Relu', [x], {}, { output: 'y' }));
    else if (kind === 'int64') b.output(b.node('Abs', [x], {}, { output: 'y' }), 'int64');
    else b.output(b.node('Where', [x, b.init('one', [1], []), b.init('zero', [0], [])], {}, { output: 'y' }));
    npySessions.set(kind, (s = Session.create(b.bytes(), { device: rt, source: `npy-${kind}.onnx`, ...FUZZ_LIMITS })));
  }
  return s;
}

async function npyCase(bytes: Uint8Array, rt: Runtime): Promise<Outcome> {
  let stage = 'import';
  try {
    const a: NpyArray = readNpy(bytes, 'case.npy');
    if (a.data.length > MAX_FEED) return { status: 'ok', stage };
    stage = 'run';
    const kind = a.dtype.startsWith('float') ? 'float32' : a.dtype === 'bool' ? 'bool' : 'int64';
    const s = await npySession(kind, rt);
    // as `wgseg run` converts it, and as it is (a Float64Array, BigInt64Array, Uint16Array... straight to run)
    const before = Array.from(a.data as ArrayLike<unknown>);
    await runOnce(s, { x: { data: feedData(a, kind, 'case.npy'), dims: a.shape } });
    try {
      await runOnce(s, { x: { data: a.data as Float32Array, dims: a.shape } });
    } catch (e) {
      if (!(e instanceof WgsegError)) throw e;
    }
    const now = Array.from(a.data as ArrayLike<unknown>);
    if (now.some((v, i) => !Object.is(v, before[i]))) throw new Error('FUZZ: the .npy data was modified by the run');
    return { status: 'ok', stage };
  } catch (e) {
    return asOutcome(e, stage);
  }
}

function asOutcome(e: unknown, stage: string): Outcome {
  if (e instanceof WgsegError) return { status: 'error', code: e.code, message: e.message.slice(0, 300), stage };
  throw e;
}

export function exercise(
  format: Format,
  bytes: Uint8Array,
  model: SeedModel | undefined,
  rt: Runtime,
  seed: number,
): Promise<Outcome> {
  switch (format) {
    case 'onnx':
    case 'tflite':
      return modelCase(bytes, format, rt, seed);
    case 'safetensors':
      return safetensorsCase(bytes, model, rt, seed);
    case 'npy':
      return npyCase(bytes, rt);
  }
}
