import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { readNpy, writeNpy } from '../../src/import/npy';
import { Session } from '../../src/index';
import { gpu } from '../helpers/gpu';
import { encodeModel, OnnxBuilder } from '../helpers/onnx-build';

/**
 * ONNX external data (what torch.onnx.export writes past protobuf's 2 GB: each big initializer in a
 * file beside the model, at an offset and length): a path load reads it, in the library and the CLI;
 * a location leaving the model's folder, a missing file or a range past its end is a clear error.
 * The model is y = x @ W + b with W external (in one file with another tensor before it) and b
 * inside; the reference is computed here in f64.
 */
const dir = mkdtempSync(join(tmpdir(), 'wgseg-ext-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const K = 6,
  N = 5;
const W = Array.from({ length: K * N }, (_, i) => Math.sin(i * 0.7));
const B = Array.from({ length: N }, (_, i) => i * 0.25 - 0.5);
const X = Array.from({ length: 2 * K }, (_, i) => Math.cos(i * 1.3));

/** The model file at `sub/model.onnx`; W stored in `file` at byte 16 (after 16 bytes of padding). */
function writeModel(sub: string, location: string, length = K * N * 4): string {
  const b = new OnnxBuilder();
  const x = b.input('x', [2, K]);
  const y = b.node('Add', [b.node('MatMul', [x, 'W']), b.init('B', B, [N])]);
  b.output(y);
  const m = b.model();
  m.graph.initializer.push({
    name: 'W',
    dims: [K, N],
    dataType: 1,
    dataLocation: 1,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: '16' },
      { key: 'length', value: String(length) },
    ],
  });
  mkdirSync(join(dir, sub), { recursive: true });
  const bin = new Uint8Array(16 + K * N * 4);
  bin.set(new Uint8Array(Float32Array.from(W).buffer), 16);
  writeFileSync(join(dir, sub, 'weights.bin'), bin);
  const path = join(dir, sub, 'model.onnx');
  writeFileSync(path, encodeModel(m));
  return path;
}

function reference(): number[] {
  const w = Float32Array.from(W);
  return Array.from({ length: 2 * N }, (_, o) => {
    const r = Math.floor(o / N),
      c = o % N;
    let s = B[c];
    for (let k = 0; k < K; k++) s += Math.fround(X[r * K + k]) * w[k * N + c];
    return s;
  });
}

describe('ONNX external data', () => {
  it('Session.create(path) reads it beside the model', async () => {
    const path = writeModel('ok', 'weights.bin');
    const s = await Session.create(path, { device: await gpu() });
    try {
      const y = (await s.run({ x: { data: Float32Array.from(X), dims: [2, K] } }))[s.outputs[0].name];
      const got = await y.read();
      const ref = reference();
      for (let i = 0; i < ref.length; i++) expect(got[i]).toBeCloseTo(ref[i], 5);
    } finally {
      s.dispose();
    }
  });

  it('wgseg run reads it too', async () => {
    const path = writeModel('cli', 'weights.bin');
    writeFileSync(join(dir, 'x.npy'), writeNpy('float32', [2, K], X));
    const out: string[] = [],
      err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await main(['run', path, '--input', `x=${join(dir, 'x.npy')}`, '--out', join(dir, 'out')], io)).toBe(0);
    expect(err).toEqual([]);
    const name = out[0].split(/\s+/)[0];
    const y = readNpy(new Uint8Array(readFileSync(join(dir, 'out', `${name}.npy`))));
    const ref = reference();
    for (let i = 0; i < ref.length; i++) expect(Number(y.data[i])).toBeCloseTo(ref[i], 5);
  });

  it('refuses locations outside the model folder, missing files and ranges past the end', async () => {
    await expect(Session.create(writeModel('up', '../ok/weights.bin'))).rejects.toThrow(
      /external data location "\.\.\/ok\/weights\.bin" leaves the model's directory/,
    );
    await expect(Session.create(writeModel('abs', '/etc/passwd'))).rejects.toThrow(/leaves the model's directory/);
    await expect(Session.create(writeModel('missing', 'nothere.bin'))).rejects.toThrow(
      /external data file .*nothere\.bin: cannot read \(ENOENT\)/,
    );
    await expect(Session.create(writeModel('short', 'weights.bin', K * N * 4 + 4))).rejects.toThrow(
      /bytes 16\.\.140 past its end \(136 bytes\)/,
    );
    // bytes without a path have nowhere to look: the old message
    const bytes = readFileSync(writeModel('bytes', 'weights.bin'));
    await expect(Session.create(new Uint8Array(bytes), { source: 'm.onnx' })).rejects.toThrow(
      /stored in external file "weights\.bin": external data is not supported/,
    );
  });
});
