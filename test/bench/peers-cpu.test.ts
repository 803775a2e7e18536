// The peer benchmark's ort-cpu engine (onnxruntime-node, Node only) against the f64 conv reference,
// and the tables' ort-cpu columns (no GPU).
import { describe, expect, it } from 'vitest';
import { OnnxBuilder } from '../../bench/onnx/build';
import { rng } from '../../bench/onnx/random';
import { formatTable, markdownTable, rowProblems, type Row } from '../../bench/peers/harness';
import { ortCpuEngine, ortCpuOptions } from '../../bench/peers/ort-cpu';
import { convRef } from '../reference/conv';
import { expectClose, TOL } from '../helpers/tolerance';

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

describe('bench/peers ort-cpu', () => {
  it('runs a conv (odd sizes, dilation, 2 threads and 1) and matches the f64 reference', async () => {
    const [n, c, h, w, m, k] = [1, 5, 9, 11, 7, 3];
    const r = rng(3);
    const x = r.array(n * c * h * w, -1, 1);
    const wt = r.array(m * c * k * k, -0.5, 0.5);
    const b = r.array(m, -0.1, 0.1);
    const attrs = { kernel_shape: [k, k], pads: [2, 2, 2, 2], dilations: [2, 2], strides: [1, 1] };
    const g = new OnnxBuilder({ opset: 17, name: 'conv' });
    const ins = [g.input('x', [n, c, h, w]), g.init('w', wt, [m, c, k, k]), g.init('b', b, [m])];
    g.output(g.node('Conv', ins, attrs, { output: 'y' }));
    const want = convRef({
      x,
      xShape: [n, c, h, w],
      w: wt,
      wShape: [m, c, k, k],
      b,
      pads: [2, 2, 2, 2],
      dilations: [2, 2],
    });
    const loaded = { onnx: g.bytes(), feeds: { x: { data: Float32Array.from(x), dims: [n, c, h, w] } }, output: 'y' };
    for (const threads of [2, 1]) {
      ortCpuOptions.threads = threads;
      await ortCpuEngine.init?.(null as unknown as GPUDevice);
      const p = await ortCpuEngine.prepare(loaded, null as unknown as GPUDevice);
      try {
        const got = await p.run();
        expect(got.length).toBe(want.data.length);
        expectClose(got, want.data, TOL.f32Reduce, `ort-cpu conv, ${threads} threads`);
        // a second run gives its own copy of the same values
        const again = await p.run();
        expect(again).not.toBe(got);
        expect(Array.from(again)).toEqual(Array.from(got));
      } finally {
        await p.dispose();
      }
    }
  });

  it('refuses a model without ONNX bytes', async () => {
    await expect(ortCpuEngine.prepare({ feeds: {}, output: 'y' }, null as unknown as GPUDevice)).rejects.toThrow(
      /ONNX only/,
    );
  });

  it('tables: ort-cpu cells, each engine over ort-cpu, and no such column without ort-cpu rows', () => {
    const rows = [
      row({ medianMs: 2, coldMs: 10 }),
      row({ engine: 'ort-webgpu', medianMs: 5, coldMs: 4 }),
      row({ engine: 'ort-cpu', medianMs: 8, p95Ms: 9, coldMs: 1 }),
    ];
    expect(rowProblems(rows[2])).toEqual([]);
    const text = formatTable(rows).split('\n');
    expect(text[0]).toMatch(/cold x wgseg +median \/ ort-cpu$/);
    expect(text[1]).toMatch(/^m +1x1 +wgseg .* 0\.25$/); // wgseg / ort-cpu
    expect(text[2]).toMatch(/ort-webgpu .* 2\.50 +0\.40 +0\.63$/);
    expect(text[3]).toMatch(/ort-cpu +1 +8\.0 +9\.0 .* 4\.00 +0\.10$/);
    expect(formatTable(rows.slice(0, 2))).not.toMatch(/ort-cpu/);
    const md = markdownTable(rows).split('\n');
    expect(md[0]).toMatch(/\| ORT CPU median \(p95\) \| wgseg \/ ORT CPU \| ORT CPU cold \|$/);
    expect(md[2]).toMatch(/\| 8\.0 \(9\.0\) \| 0\.25x \| 1 \|$/);
    expect(markdownTable(rows.slice(0, 2))).not.toMatch(/ORT CPU/);
  });
});
