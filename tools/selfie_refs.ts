/**
 * Regenerates test/fixtures/selfie/: the selfie models' output on the test scene, computed by the
 * independent reference tools/tflite_ref.py (flatc + PyTorch float64), not by wgseg.
 *   npx vite-node tools/selfie_refs.ts      (needs Debian flatbuffers-compiler and /usr/bin/python3 with torch)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../src/internal';
import { selfieScene } from '../test/models/selfie-scene';

const models = [
  { name: 'selfie_segmentation', h: 256, w: 256 },
  { name: 'selfie_segmentation_landscape', h: 144, w: 256 },
];
const out = join(import.meta.dirname, '..', 'test', 'fixtures', 'selfie');
mkdirSync(out, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'selfie-'));
const sums: Record<string, number> = {};
for (const m of models) {
  const { rgb } = selfieScene(m.h, m.w);
  const input = join(tmp, `${m.name}.scene.npy`);
  writeFileSync(
    input,
    writeNpy(
      'float32',
      [m.h, m.w, 3],
      Float32Array.from(rgb, (v) => v / 255),
    ),
  );
  const model = join(
    import.meta.dirname,
    '..',
    'node_modules',
    '@mediapipe',
    'selfie_segmentation',
    `${m.name}.tflite`,
  );
  console.log(
    execFileSync(
      '/usr/bin/python3',
      [join(import.meta.dirname, 'tflite_ref.py'), model, input, join(out, `${m.name}.mask.npy`)],
      { encoding: 'utf8' },
    ).trim(),
  );
  sums[m.name] = rgb.reduce((a, b) => a + b, 0);
}
writeFileSync(join(out, 'scene-sums.json'), JSON.stringify(sums, null, 2) + '\n');
