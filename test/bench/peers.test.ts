// The peer benchmark's host-side pieces (no GPU): the model rows built in code, the row schema
// check, the statistics and the tables.
import { describe, expect, it } from 'vitest';
import { formatTable, markdownTable, maxAbsDiff, percentile, rowProblems, type Row } from '../../bench/peers/harness';
import { MODELS, pickModels, type Loaded } from '../../bench/peers/models';
import { importOnnx } from '../../src/import/onnx';

const row = (o: Partial<Row>): Row => ({
  model: 'm',
  input: '1x1',
  engine: 'wgseg',
  coldMs: 10,
  medianMs: 2,
  p95Ms: 3,
  maxAbsDiff: 1e-6,
  ...o,
});

describe('bench/peers', () => {
  it('every in-code model row parses, its feeds match the graph inputs and the compared output exists', async () => {
    const none = async () => null;
    for (const m of MODELS.filter((x) => !x.optIn)) {
      const l = await m.load(none);
      if ('skip' in l) {
        // only file-backed rows may be skipped, and they say which file
        expect(l.skip, m.name).toMatch(/not found/);
        continue;
      }
      const loaded = l as Loaded;
      const g = importOnnx(loaded.onnx!, m.name);
      expect(Object.keys(loaded.feeds).sort(), m.name).toEqual([...g.inputs].sort());
      expect(g.outputs, m.name).toContain(loaded.output);
      const x = Object.values(loaded.feeds)[0];
      expect(x.dims.join('x'), `${m.name} input label`).toBe(m.input);
      expect(x.data.length).toBe(x.dims.reduce((a, c) => a * c, 1));
    }
  });

  it('picks the default rows, substrings, and opt-in rows only by their exact name', () => {
    expect(pickModels().some((m) => m.name === 'fcn8s-vgg16')).toBe(false);
    expect(pickModels(['conv_transpose']).map((m) => m.name)).toEqual(['conv_transpose-k4s2', 'conv_transpose-k16s8']);
    expect(pickModels(['fcn8s-vgg16']).map((m) => m.name)).toEqual(['fcn8s-vgg16-w4', 'fcn8s-vgg16']);
    expect(pickModels(['vgg16']).map((m) => m.name)).toEqual(['fcn8s-vgg16-w4']);
  });

  it('row schema: numbers or null, a known engine, a note for an empty cell', () => {
    expect(rowProblems(row({}))).toEqual([]);
    expect(rowProblems(row({ medianMs: null, coldMs: null, p95Ms: null, maxAbsDiff: null, note: 'why' }))).toEqual([]);
    expect(rowProblems(row({ medianMs: null }))).toContain('an empty cell without a note');
    expect(rowProblems(row({ engine: 'onnx' as Row['engine'] }))).toContain('engine onnx unknown');
    expect(rowProblems(row({ coldMs: NaN }))).toContain('coldMs is neither a finite number nor null');
    expect(rowProblems(row({ model: 3 as unknown as string }))).toContain('model is not a string');
  });

  it('percentile (nearest rank) and max abs diff', () => {
    const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(xs, 0.5)).toBe(5);
    expect(percentile(xs, 0.95)).toBe(10);
    expect(percentile([7], 0.95)).toBe(7);
    expect(maxAbsDiff([1, 2, 3], [1, 2.5, 2])).toBe(1);
    expect(maxAbsDiff([NaN], [0])).toBe(Infinity);
    expect(() => maxAbsDiff([1], [1, 2])).toThrow(/1 values, the reference 2/);
  });

  it('tables: the ratio peer/wgseg per model, empty cells with their reason', () => {
    const rows = [
      row({ medianMs: 2, coldMs: 10 }),
      row({ engine: 'ort-webgpu', medianMs: 5, coldMs: 4 }),
      row({ engine: 'tfjs-webgpu', medianMs: null, coldMs: null, p95Ms: null, maxAbsDiff: null, note: 'no such op' }),
    ];
    const text = formatTable(rows).split('\n');
    expect(text[2]).toMatch(/ort-webgpu .* 2\.50 +0\.40$/);
    expect(text[3]).toMatch(/tfjs-webgpu +no such op$/);
    const md = markdownTable(rows).split('\n');
    expect(md[2]).toBe('| m | 1x1 | 2.0 (3.0) | 5.0 (3.0) |  | 2.50x |  | 10 | 4 |  | 0.40x | 1.0e-6 | - / - / - |');
    expect(md.at(-1)).toBe('- m (tfjs-webgpu): no such op');
  });
});
