import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { readNpy, writeNpy } from '../../src/import/npy';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { selfieScene } from './selfie-scene';

/**
 * MediaPipe selfie segmentation (npm @mediapipe/selfie_segmentation, Apache-2.0), both models, from
 * the .tflite files as shipped, through Session on real WebGPU, against test/fixtures/selfie: the same
 * models run on the same drawn scene by tools/tflite_ref.py (flatc-parsed, PyTorch float64 ops written
 * from the TFLite / MediaPipe kernels; regenerate with `npx vite-node tools/selfie_refs.ts`).
 */

const PKG = join(import.meta.dirname, '..', '..', 'node_modules', '@mediapipe', 'selfie_segmentation');
const FIX = join(import.meta.dirname, '..', 'fixtures', 'selfie');
const sums = JSON.parse(readFileSync(join(FIX, 'scene-sums.json'), 'utf8')) as Record<string, number>;

function iou(a: ArrayLike<number>, b: ArrayLike<number>, t = 0.5): number {
  let inter = 0,
    union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > t,
      y = b[i] > t;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union ? inter / union : 1;
}

const sessions: Session[] = [];
afterAll(() => sessions.forEach((s) => s.dispose()));

describe.each([
  { model: 'selfie_segmentation', h: 256, w: 256, input: 'input_1', output: 'activation_10' },
  { model: 'selfie_segmentation_landscape', h: 144, w: 256, input: 'input_1', output: 'segment_back' },
])('$model.tflite ($h x $w)', ({ model: name, h, w, input, output }) => {
  it('imports with NHWC inputs/outputs as in the file', async () => {
    const s = await Session.create(join(PKG, `${name}.tflite`), { device: await gpu() });
    sessions.push(s);
    expect(s.inputs).toEqual([{ name: input, shape: [1, h, w, 3], type: 'float32' }]);
    expect(s.outputs.map((o) => o.name)).toEqual([output]);
  });

  it.each(['f32', 'f16'] as const)('matches the independent reference on a drawn scene (%s)', async (precision) => {
    const { rgb, person } = selfieScene(h, w);
    expect(
      rgb.reduce((a, b) => a + b, 0),
      'scene changed: regenerate the fixtures',
    ).toBe(sums[name]);
    const want = readNpy(new Uint8Array(readFileSync(join(FIX, `${name}.mask.npy`)))).data as Float32Array;
    const s = await Session.create(join(PKG, `${name}.tflite`), { device: await gpu(), precision });
    sessions.push(s);
    const out = await s.run({ [input]: { data: Float32Array.from(rgb, (v) => v / 255), dims: [1, h, w, 3] } });
    expect(out[output].shape).toEqual([1, h, w, 1]);
    const got = (await out[output].read()) as Float32Array;
    out[output].dispose();
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    const mIoU = iou(got, want),
      drawn = iou(want, person);
    console.log(
      `${name} ${precision}: max |wgseg - reference| ${maxDiff.toExponential(2)}, mask IoU (0.5) ${mIoU.toFixed(5)}; reference vs drawn person IoU ${drawn.toFixed(3)}`,
    );
    expect(drawn, 'the reference finds the drawn person').toBeGreaterThan(0.8);
    expect(maxDiff).toBeLessThan(precision === 'f32' ? 1e-3 : 6e-2);
    expect(mIoU).toBeGreaterThan(precision === 'f32' ? 0.999 : 0.99);
  });
});

describe('wgseg CLI on .tflite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgseg-selfie-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const wgseg = async (...argv: string[]) => {
    const out: string[] = [],
      err: string[] = [];
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), debug: false });
    return { code, out, err };
  };

  it('inspect lists NHWC inputs/outputs, op counts and no unsupported ops', async () => {
    const r = await wgseg('inspect', join(PKG, 'selfie_segmentation.tflite'));
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out).toContain('  input_1  float32  [1, 256, 256, 3]');
    expect(r.out).toContain('  activation_10  float32  [1, 256, 256, 1]');
    expect(r.out).toContain('  Conv  54');
    expect(r.out).toContain('  ConvTranspose  1');
    expect(r.out).toContain('unsupported ops: none');
    expect(r.out.find((l) => l.startsWith('parameters: '))).toMatch(/^parameters: 10\d,\d{3} /);
  });

  it('run writes the mask .npy (landscape model, same numbers as the reference)', async () => {
    const { rgb } = selfieScene(144, 256);
    writeFileSync(
      join(dir, 'scene.npy'),
      writeNpy(
        'float32',
        [1, 144, 256, 3],
        Float32Array.from(rgb, (v) => v / 255),
      ),
    );
    const r = await wgseg(
      'run',
      join(PKG, 'selfie_segmentation_landscape.tflite'),
      '--input',
      `input_1=${join(dir, 'scene.npy')}`,
      '--out',
      dir,
    );
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(/^segment_back\s+\[1, 144, 256, 1\]/);
    const got = readNpy(new Uint8Array(readFileSync(join(dir, 'segment_back.npy'))));
    expect(got.shape).toEqual([1, 144, 256, 1]);
    const want = readNpy(new Uint8Array(readFileSync(join(FIX, 'selfie_segmentation_landscape.mask.npy'))))
      .data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((got.data as Float32Array)[i] - want[i]));
    expect(maxDiff).toBeLessThan(1e-3);
  });

  it('a broken .tflite is one wgseg: line and exit 1', async () => {
    const bytes = new Uint8Array(readFileSync(join(PKG, 'selfie_segmentation.tflite')));
    writeFileSync(join(dir, 'cut.tflite'), bytes.subarray(0, 100000));
    const r = await wgseg('run', join(dir, 'cut.tflite'), '--input', `input_1=${join(dir, 'scene.npy')}`, '--out', dir);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^wgseg: .*cut\.tflite: corrupt TFLite flatbuffer: /);
  });
});
