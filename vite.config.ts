import { readdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import { widgetSite } from './vite.widget.config.ts';

// Multi-page build: the root index.html plus demos/<name>/index.html.
const demos = existsSync('demos')
  ? readdirSync('demos', { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(`demos/${d.name}/index.html`))
      .map((d) => [d.name, resolve(`demos/${d.name}/index.html`)])
  : [];

/** Tests that run on both software adapters (each kernel variant forced, the autotuner). */
const BOTH_ADAPTERS = [
  'test/kernels/*-variants.test.ts',
  'test/kernels/conv-tiled.test.ts',
  'test/kernels/conv-winograd.test.ts',
  'test/graph/tuning.test.ts',
  'test/kernels/quant.test.ts',
  'test/kernels/quant-binary.test.ts',
  'test/models/float16.test.ts',
];

export default defineConfig({
  // demos/widget/ loads the widget library build (one ES module + the selfie models), as a user would
  plugins: [widgetSite()],
  // wgsl_reflect's "main" is CommonJS inside a "type": "module" package; use its ES build everywhere.
  resolve: { alias: { wgsl_reflect: resolve('node_modules/wgsl_reflect/wgsl_reflect.module.js') } },
  build: {
    target: 'es2022',
    rollupOptions: { input: { main: resolve('index.html'), ...Object.fromEntries(demos) } },
  },
  test: {
    // Dawn serves one adapter per process: the kernel-variant and tuning tests run a second time in
    // their own project on SwiftShader (headless Chromium's adapter), the rest on the default one
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'swiftshader',
          include: BOTH_ADAPTERS,
          env: { WGSEG_TUNE: 'off', WGSEG_TUNING_CACHE: 'off', WGSEG_ADAPTER: 'swiftshader' },
        },
      },
    ],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // sessions run their default kernel variants and keep no tuning cache unless a test asks
    // (test/graph/tuning.test.ts): the suite measures nothing it does not assert, and never writes ~/.cache
    env: { WGSEG_TUNE: 'off', WGSEG_TUNING_CACHE: 'off' },
    reporters: ['default'],
  },
});
