import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { readNpy, writeNpy } from '../../src/import/npy';
import { malformedModels } from '../helpers/malformed-models';
import { OnnxBuilder } from '../helpers/onnx-build';
import { expectNetClose, ortRun } from '../helpers/ort';
import { gpu } from '../helpers/gpu';
import { ensureCliBuilt, npxWgseg } from '../helpers/npx';
import { rng } from '../helpers/random';
import { TOL } from '../helpers/tolerance';

// `wgseg run` / `wgseg inspect`: in-process through main(argv, io), plus the real `npx wgseg`
// child process from the repo root. Numbers are checked against onnxruntime-web (CPU).

const dir = mkdtempSync(join(tmpdir(), 'wgseg-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string) => join(dir, name);

async function wgseg(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [],
    err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), debug: false });
  return { code, out, err };
}

/** The error contract: non-zero exit, exactly one stderr line, starting `wgseg:`, one line only. */
function expectOneError(r: { code: number; err: string[] }, ...contains: (string | RegExp)[]): string {
  expect(r.code, r.err.join('\n')).not.toBe(0);
  expect(r.err, 'stderr lines').toHaveLength(1);
  const line = r.err[0];
  expect(line).toMatch(/^wgseg: /);
  expect(line).not.toMatch(/\n/);
  expect(line).not.toMatch(/^\s+at /m); // no stack trace
  for (const c of contains) typeof c === 'string' ? expect(line).toContain(c) : expect(line).toMatch(c);
  return line;
}

/** x [1,3,8,8] -> Conv 3x3 (+bias) -> Relu -> 'out/conv:0'; ArgMax over channels of the conv -> 'label map' (int64). */
function convModel(): Uint8Array {
  const r = rng(11);
  const b = new OnnxBuilder({ opset: 17 });
  const x = b.input('x', [1, 3, 8, 8]);
  const w = b.init('w', Float32Array.from(r.array(5 * 27)), [5, 3, 3, 3]);
  const bias = b.init('b', Float32Array.from(r.array(5)), [5]);
  const c = b.node('Conv', [x, w, bias], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
  b.output(b.node('Relu', [c], {}, { output: 'out/conv:0' }));
  b.output(b.node('ArgMax', [c], { axis: 1, keepdims: 1 }, { output: 'label map' }), 'int64');
  return b.bytes();
}

/** A .npy of float64 (the writer only writes float32/int64): header per the NPY spec. */
function npyF64(shape: number[], data: ArrayLike<number>): Uint8Array {
  const f32 = writeNpy('float32', shape, data);
  const headerLen = f32[8] | (f32[9] << 8);
  const header = new TextDecoder('latin1').decode(f32.subarray(10, 10 + headerLen)).replace("'<f4'", "'<f8'");
  const out = new Uint8Array(10 + headerLen + data.length * 8);
  out.set(f32.subarray(0, 10));
  for (let i = 0; i < headerLen; i++) out[10 + i] = header.charCodeAt(i);
  new Float64Array(out.buffer, 10 + headerLen).set(Array.from(data));
  return out;
}

describe('wgseg run', () => {
  const model = tmp('conv.onnx');
  const xData = Float32Array.from(rng(5).array(3 * 64));
  let ref: Awaited<ReturnType<typeof ortRun>>;
  beforeAll(async () => {
    const bytes = convModel();
    writeFileSync(model, bytes);
    writeFileSync(tmp('x.npy'), writeNpy('float32', [1, 3, 8, 8], xData));
    writeFileSync(tmp('x64.npy'), npyF64([1, 3, 8, 8], xData));
    ref = await ortRun(bytes, { x: { data: xData, dims: [1, 3, 8, 8] } });
  });

  it('writes every output as .npy (sanitized names, float32 and int64) matching onnxruntime', async () => {
    const out = tmp('out-a/nested');
    const r = await wgseg('run', model, '--input', `x=${tmp('x.npy')}`, '--out', out);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['label_map.npy', 'out_conv_0.npy']);
    // one line per output: name, shape, time
    expect(r.out).toHaveLength(2);
    expect(r.out[0]).toMatch(
      /^out\/conv:0 +\[1, 5, 8, 8\] +float32 +\d+\.\d ms +planned peak \d+(\.\d)? K?i?B +-> .*out_conv_0\.npy$/,
    );
    expect(r.out[1]).toMatch(
      /^label map +\[1, 1, 8, 8\] +int64 +\d+\.\d ms +planned peak \d+(\.\d)? K?i?B +-> .*label_map\.npy$/,
    );

    const y = readNpy(readFileSync(join(out, 'out_conv_0.npy')));
    expect(y.dtype).toBe('float32');
    expect(y.shape).toEqual(ref['out/conv:0'].dims);
    expectNetClose(y.data as Float32Array, ref['out/conv:0'].data, 'out/conv:0');
    const labels = readNpy(readFileSync(join(out, 'label_map.npy')));
    expect(labels.dtype).toBe('int64');
    expect(labels.shape).toEqual([1, 1, 8, 8]);
    // ArgMax of random conv outputs: ties are practically impossible at this size
    expect([...labels.data].map(Number)).toEqual([...ref['label map'].data]);
  });

  it('converts a float64 input, takes --opt=value forms and an existing --out dir', async () => {
    const out = tmp('out-b');
    const r = await wgseg('run', model, `--input=x=${tmp('x64.npy')}`, `--out=${out}`, '--precision', 'f32');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const again = await wgseg('run', model, '--input', `x=${tmp('x64.npy')}`, '--out', out);
    expect(again.code).toBe(0);
    expectNetClose(
      readNpy(readFileSync(join(out, 'out_conv_0.npy'))).data as Float32Array,
      ref['out/conv:0'].data,
      'f64 input',
    );
  });

  it('--precision f16 matches onnxruntime within the f16 tolerance', async (ctx) => {
    if (!(await gpu()).info.f16) ctx.skip('adapter without shader-f16');
    const out = tmp('out-f16');
    const r = await wgseg('run', model, '--input', `x=${tmp('x.npy')}`, '--out', out, '--precision', 'f16');
    expect(r.err).toEqual([]);
    const y = readNpy(readFileSync(join(out, 'out_conv_0.npy')));
    expect(y.dtype).toBe('float32'); // float outputs are written as float32 whatever the precision
    expectNetClose(y.data as Float32Array, ref['out/conv:0'].data, 'f16', { atol: TOL.f16.abs, rtol: TOL.f16.rel });
  });

  it('bad inputs: one `wgseg:` line and a non-zero exit each', async () => {
    writeFileSync(tmp('small.npy'), writeNpy('float32', [1, 3, 4, 4], new Float32Array(48)));
    writeFileSync(tmp('garbage.npy'), new TextEncoder().encode('not numpy at all'));
    const o = tmp('out-err');
    const x = `x=${tmp('x.npy')}`;
    const cases: [string[], (string | RegExp)[]][] = [
      [
        ['run', tmp('missing.onnx'), '--input', x, '--out', o],
        [tmp('missing.onnx'), 'no such file'],
      ],
      [
        ['run', model, '--input', `x=${tmp('missing.npy')}`, '--out', o],
        [tmp('missing.npy'), 'cannot read input x', 'no such file'],
      ],
      [
        ['run', model, '--input', `x=${tmp('garbage.npy')}`, '--out', o],
        ['garbage.npy', 'not a .npy file'],
      ],
      [
        ['run', model, '--input', `x=${model}`, '--out', o],
        ['conv.onnx', 'not a .npy file'],
      ],
      [
        ['run', model, '--input', `y=${tmp('x.npy')}`, '--out', o],
        ['--input y', 'no input "y"', 'its inputs: x'],
      ],
      [
        ['run', model, '--input', `x=${tmp('small.npy')}`, '--out', o],
        ['input x', '[1,3,8,8]', '[1,3,4,4]'],
      ],
      [
        ['run', model, '--input', x, '--out', o, '--precision', 'f64'],
        ['--precision must be f32 or f16', '"f64"'],
      ],
      [['run', model, '--input', x, '--out', o, '--fast'], ['unknown option --fast']],
      [['run', model, '--input', x], ['run needs --out']],
      [['run', model, '--out', o], ['at least one --input']],
      [['run', model, '--input', 'x', '--out', o], ['--input expects <name>=<file.npy>']],
      [['run', model, '--input', x, '--input', x, '--out', o], ['--input x given twice']],
      [['run', '--input', x, '--out', o], ['run needs a model file']],
      [['inspect'], ['inspect needs a model file']],
      [['inspect', model, model], ['inspect takes one model file']],
      [['inspect', model, '--shape', 'q=1,2'], ['no input "q"']],
      [['frobnicate'], ['unknown command "frobnicate"']],
      [['run', model, '--input', x, '--out', join(model, 'sub')], ['cannot create the directory']],
    ];
    for (const [argv, contains] of cases) expectOneError(await wgseg(...argv), ...contains);
    // usage errors exit 2, other errors 1
    expect((await wgseg('run', model, '--fast')).code).toBe(2);
    expect((await wgseg('run', tmp('missing.onnx'), '--input', x, '--out', o)).code).toBe(1);
  });

  it('a missing input and an int64 input out of int32 range', async () => {
    const b = new OnnxBuilder({ opset: 17 });
    const a = b.input('a', [2, 3]);
    const c = b.input('c', [2, 3]);
    b.output(b.node('Add', [a, c], {}, { output: 'sum' }));
    writeFileSync(tmp('two.onnx'), b.bytes());
    writeFileSync(tmp('a.npy'), writeNpy('float32', [2, 3], [1, 2, 3, 4, 5, 6]));
    expectOneError(
      await wgseg('run', tmp('two.onnx'), '--input', `a=${tmp('a.npy')}`, '--out', tmp('o2')),
      'missing --input for "c"',
      'its inputs: a, c',
    );
    const r = await wgseg(
      'run',
      tmp('two.onnx'),
      '--input',
      `a=${tmp('a.npy')}`,
      '--input',
      `c=${tmp('a.npy')}`,
      '--out',
      tmp('o2'),
    );
    expect(r.code).toBe(0);
    expect([...readNpy(readFileSync(tmp('o2/sum.npy'))).data]).toEqual([2, 4, 6, 8, 10, 12]);

    const ib = new OnnxBuilder({ opset: 17 });
    const i = ib.input('i', [3], 'int64');
    ib.output(ib.node('Add', [i, ib.initInt64('one', [1])], {}, { output: 'j' }), 'int64');
    writeFileSync(tmp('int.onnx'), ib.bytes());
    writeFileSync(tmp('big.npy'), writeNpy('int64', [3], BigInt64Array.from([1n, 2n, 1n << 40n])));
    expectOneError(
      await wgseg('run', tmp('int.onnx'), '--input', `i=${tmp('big.npy')}`, '--out', tmp('o3')),
      'big.npy',
      'int64',
      '1099511627776',
    );
    writeFileSync(tmp('small-int.npy'), writeNpy('int64', [3], [-5, 0, 7]));
    const ok = await wgseg('run', tmp('int.onnx'), '--input', `i=${tmp('small-int.npy')}`, '--out', tmp('o3'));
    expect(ok.err).toEqual([]);
    const j = readNpy(readFileSync(tmp('o3/j.npy')));
    expect(j).toEqual({ dtype: 'int64', shape: [3], data: BigInt64Array.from([-4n, 1n, 8n]) });
  });
});

describe('malformed and unsupported model files', () => {
  const models = malformedModels();
  it('there are at least 20 kinds', () => expect(models.length).toBeGreaterThanOrEqual(20));
  for (const m of models) {
    it(`${m.name}: run ${m.stage === 'import' ? 'and inspect fail' : 'fails'} with one wgseg: line`, async () => {
      const file = tmp(`bad-${m.name}.onnx`);
      writeFileSync(file, m.bytes);
      const args: string[] = [];
      for (const input of m.inputs) {
        const n = input.dims.reduce((a, b) => a * b, 1);
        const f = tmp(`bad-${m.name}-${input.name}.npy`);
        writeFileSync(f, writeNpy('float32', input.dims, new Float32Array(Math.max(0, n))));
        args.push('--input', `${input.name}=${f}`);
      }
      if (!args.length) args.push('--input', `x=${tmp('x.npy')}`);
      expectOneError(await wgseg('run', file, ...args, '--out', tmp(`out-${m.name}`)), file, ...m.contains);
      expect(existsSync(tmp(`out-${m.name}`)), 'no output dir for a failed run').toBe(false);
      const ins = await wgseg('inspect', file);
      if (m.stage === 'import') expectOneError(ins, file, ...m.contains);
      else if (m.code === 'UNSUPPORTED_OP') {
        // inspect is a diagnostic: it lists unsupported ops and exits 0
        expect(ins.err).toEqual([]);
        expect(ins.code).toBe(0);
        expect(ins.out.find((l) => l.startsWith('unsupported ops:'))).toContain(m.contains[0]);
      } else expectOneError(ins, file, ...m.contains); // shape inference fails at plan time
    });
  }
});

describe('wgseg inspect', () => {
  it('inputs, outputs, op counts, parameters, unsupported ops, planned peak', async () => {
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('image', [1, 3, 16, 16]);
    const r = rng(2);
    let h = x;
    for (let k = 0; k < 3; k++) {
      const w = b.init(`w${k}`, Float32Array.from(r.array(3 * 3 * 9)), [3, 3, 3, 3]);
      h = b.node('Relu', [b.node('Conv', [h, w], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] })]);
    }
    b.output(b.node('Sigmoid', [h], {}, { output: 'mask' }));
    writeFileSync(tmp('stack.onnx'), b.bytes());
    const res = await wgseg('inspect', tmp('stack.onnx'));
    expect(res.err).toEqual([]);
    expect(res.code).toBe(0);
    expect(res.out).toEqual([
      `model: ${tmp('stack.onnx')}`,
      'inputs (1):',
      '  image  float32  [1, 3, 16, 16]',
      'outputs (1):',
      '  mask  float32  [1, 3, 16, 16]',
      'ops (7 nodes, 3 kinds):',
      '  Conv  3',
      '  Relu  3',
      '  Sigmoid  1',
      'parameters: 243 (972 B)',
      'unsupported ops: none',
      expect.stringMatching(
        /^planned peak: \d+(\.\d)? KiB of intermediate buffers at f32 \(\d+(\.\d)? KiB without reuse; 4 nodes after folding and fusion\)$/,
      ),
    ]);
    const peak = res.out[11].match(/peak: ([\d.]+) KiB.*\(([\d.]+) KiB/)!;
    expect(Number(peak[1])).toBeLessThan(Number(peak[2])); // buffers are reused
  });

  it('symbolic dims: peak unknown unless --shape binds them; unsupported ops listed by node', async () => {
    const b = new OnnxBuilder({ opset: 17 });
    const x = b.input('x', ['N', 3, 'H', 'W']);
    b.output(b.node('Relu', [x], {}, { output: 'y' }));
    writeFileSync(tmp('sym.onnx'), b.bytes());
    const a = await wgseg('inspect', tmp('sym.onnx'));
    expect(a.code).toBe(0);
    expect(a.out).toContain('  x  float32  [N, 3, H, W]');
    expect(a.out.at(-1)).toMatch(
      /^planned peak: unknown \(symbolic dims in x \[N, 3, H, W\]; give --shape x=\.\.\.\)$/,
    );
    const s = await wgseg('inspect', tmp('sym.onnx'), '--shape', 'x=2,3,4,5');
    expect(s.out).toContain('  y  float32  [2, 3, 4, 5]');
    expect(s.out.at(-1)).toMatch(/^planned peak: /);
    expect(s.out.at(-1)).not.toMatch(/unknown/);

    const u = new OnnxBuilder({ opset: 17 });
    const ux = u.input('x', [1, 4]);
    u.output(u.node('Frob', [u.node('Relu', [ux], {}, { name: 'r' })], {}, { output: 'y', name: 'frob1' }));
    writeFileSync(tmp('frob.onnx'), u.bytes());
    const f = await wgseg('inspect', tmp('frob.onnx'));
    expect(f.code).toBe(0);
    expect(f.out).toContain('unsupported ops: Frob (node frob1)');
  });

  it('help and no arguments', async () => {
    const h = await wgseg('--help');
    expect(h.code).toBe(0);
    expect(h.out[1]).toMatch(
      /^ {2}wgseg run <model\.onnx> --input <name>=<file\.npy> \[--input \.\.\.\] --out <dir> \[--precision f32\|f16\]$/,
    );
    const none = await wgseg();
    expect(none.code).toBe(2);
    expectOneError(none, 'no command');
    expect(none.out[0]).toBe('usage:');
  });
});

// The real command as a user runs it: `npx wgseg` from the repo root, through bin/wgseg.js and the
// built dist/cli.js (rebuilt here when older than the sources).
describe('npx wgseg (child process)', () => {
  beforeAll(ensureCliBuilt);
  const npx = npxWgseg;

  it('run: exit 0, one line per output, the files written', () => {
    const out = tmp('npx-out');
    const r = npx(['run', tmp('conv.onnx'), '--input', `x=${tmp('x.npy')}`, '--out', out]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(2);
    expect(readdirSync(out).sort()).toEqual(['label_map.npy', 'out_conv_0.npy']);
    expect(readNpy(readFileSync(join(out, 'out_conv_0.npy'))).data).toEqual(
      readNpy(readFileSync(tmp('out-b/out_conv_0.npy'))).data,
    );
  });

  it('errors: a truncated model, a shape mismatch after the GPU started (Dawn notices filtered), no WebGPU adapter', () => {
    const bad = malformedModels().find((m) => m.name === 'truncated')!;
    writeFileSync(tmp('npx-truncated.onnx'), bad.bytes);
    expectOneError(npx(['inspect', tmp('npx-truncated.onnx')]), 'npx-truncated.onnx', 'truncated');
    expectOneError(
      npx(['run', tmp('conv.onnx'), '--input', `x=${tmp('small.npy')}`, '--out', tmp('npx-o')]),
      'input x',
      '[1,3,8,8]',
    );
    expectOneError(
      npx(['run', tmp('conv.onnx'), '--input', `x=${tmp('x.npy')}`, '--out', tmp('npx-o')], {
        WGSEG_ADAPTER: 'no-such-adapter',
      }),
      'No WebGPU adapter',
      'no-such-adapter',
    );
    expect(npx(['--help']).code).toBe(0);
    expect(npx([]).code).toBe(2);
  });
});
