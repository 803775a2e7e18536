/**
 * Character error rate of the OCR pipeline (createOcr().read(), PP-OCRv4 on WebGPU) on rendered
 * scenes: lines of English words and digits in DejaVu Sans / Serif / Sans Mono
 * (test/helpers/ocr-scene.ts), at several font sizes, page rotations and a keystone perspective.
 *
 *   npm run eval:ocr [-- --seeds 3 --sizes 20,28,40 --lines 4]
 *
 * Prints one row per condition: CER without spaces (the goal's measure), CER with spaces, lines
 * read / true lines, and the mean ms per stage (first reads of new sizes include planning); then
 * the median per-stage ms of warm reads of one scene.
 */
import { createOcr } from '../src/index';
import { sceneCer } from '../test/helpers/ocr-cer';
import { renderScene } from '../test/helpers/ocr-scene';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const CONDITIONS = [
  { label: '0 deg', angle: 0, perspective: 0 },
  { label: '+15 deg', angle: 15, perspective: 0 },
  { label: '-15 deg', angle: -15, perspective: 0 },
  { label: '+30 deg', angle: 30, perspective: 0 },
  { label: '-30 deg', angle: -30, perspective: 0 },
  { label: 'keystone 0.2', angle: 0, perspective: 0.2 },
  { label: 'keystone 0.2 + 10 deg', angle: 10, perspective: 0.2 },
];

async function main() {
  const seeds = Number(arg('seeds', '3')),
    sizes = arg('sizes', '20,28,40').split(',').map(Number),
    nLines = Number(arg('lines', '4'));
  const only = arg('only', '');
  const ocr = await createOcr();
  const verbose = process.argv.includes('--verbose');
  console.log(`scenes per condition: ${seeds} seeds x font sizes ${sizes.join('/')} px, ${nLines} lines each`);
  console.log(
    '| condition | CER (no spaces) | CER (with spaces) | lines read / true | ms: preprocess / det / boxes (cpu) / rectify / rec / decode |',
  );
  console.log('|---|---|---|---|---|');
  for (const c of CONDITIONS) {
    if (only && !c.label.includes(only)) continue;
    let e0 = 0,
      n0 = 0,
      e1 = 0,
      n1 = 0,
      read = 0,
      truth = 0,
      scenes = 0;
    const ms: Record<string, number> = {};
    for (let s = 0; s < seeds; s++)
      for (const px of sizes) {
        const scene = renderScene({
          seed: 1000 * s + px,
          lines: nLines,
          fontPx: px,
          angle: c.angle,
          perspective: c.perspective,
        });
        const lines = await ocr.read(scene.image);
        for (const [k, v] of Object.entries(ocr.lastTimings!)) ms[k] = (ms[k] ?? 0) + v;
        scenes++;
        const a = sceneCer(lines, scene.lines, false),
          b = sceneCer(lines, scene.lines, true);
        (e0 += a.errors), (n0 += a.chars), (e1 += b.errors), (n1 += b.chars);
        read += lines.length;
        truth += scene.lines.length;
        if (verbose)
          for (const l of b.lines)
            if (l.errors) console.log(`  ${c.label} ${px}px seed ${s}: "${l.truth}" read "${l.read}"`);
        if (verbose) for (const x of b.extra) console.log(`  ${c.label} ${px}px seed ${s}: extra "${x}"`);
      }
    const m = (k: string) => (ms[k] / scenes).toFixed(0);
    const pct = (e: number, n: number) => `${((100 * e) / n).toFixed(2)}% (${e}/${n})`;
    console.log(
      `| ${c.label} | ${pct(e0, n0)} | ${pct(e1, n1)} | ${read} / ${truth} | ${m('preprocess')} / ${m('det')} / ${m('boxes')} (${m('boxesCpu')}) / ${m('rectify')} / ${m('rec')} / ${m('decode')} |`,
    );
  }
  // warm timing: one scene read repeatedly (plans and pipelines exist after the first read)
  const scene = renderScene({ seed: 7, lines: nLines, fontPx: 28, angle: 15 });
  const runs: Record<string, number>[] = [];
  for (let i = 0; i < 4; i++) {
    await ocr.read(scene.image);
    if (i > 0) runs.push({ ...ocr.lastTimings! });
  }
  const med = (k: string) =>
    runs
      .map((r) => r[k])
      .sort((a, b) => a - b)
      [Math.floor(runs.length / 2)].toFixed(1);
  console.log(
    `\nwarm, ${scene.image.width}x${scene.image.height} scene, ${nLines} lines, median of ${runs.length} reads (ms): ` +
      ['preprocess', 'det', 'boxes', 'boxesCpu', 'rectify', 'rec', 'decode', 'total']
        .map((k) => `${k} ${med(k)}`)
        .join(', '),
  );
  ocr.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
