// Writes demos/ocr/sample.png (test/helpers/ocr-sample.ts): npx vite-node tools/make-ocr-sample.ts
import { writeFileSync } from 'node:fs';
import { OCR_SAMPLE_PATH, ocrSample } from '../test/helpers/ocr-sample';

const s = ocrSample();
writeFileSync(OCR_SAMPLE_PATH, s.png);
console.log(`wrote ${OCR_SAMPLE_PATH} (${s.width}x${s.height}, ${s.png.length} bytes):`);
for (const l of s.lines) console.log(`  ${l.text}`);
