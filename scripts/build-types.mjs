// dist/index.d.ts: the public API's declarations (src/index.ts) bundled into one self-contained file
// by dts-bundle-generator, so that TypeScript consumers compile under any moduleResolution (NodeNext
// included: no extensionless relative imports, no Vite-only syntax), with the references it needs:
// the DOM lib (the browser helpers' types) and @webgpu/types (a dependency of the package).
// `npm run build:types`; `prepare` (npm ci, npm pack) runs it.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const out = 'dist/index.d.ts';
const bin = 'node_modules/dts-bundle-generator/dist/bin/dts-bundle-generator.js';
execFileSync(
  process.execPath,
  [bin, '--silent', '--no-check', '--no-banner', '--project', 'tsconfig.json', '--out-file', out, 'src/index.ts'],
  { stdio: 'inherit' },
);
const body = readFileSync(out, 'utf8');
writeFileSync(
  out,
  `// wgseg's public API (generated from src/index.ts by scripts/build-types.mjs)\n/// <reference lib="dom" />\n/// <reference types="@webgpu/types" />\n${body}`,
);
