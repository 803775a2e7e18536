import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Test-only pages (not part of the site): built from the repository root so that the engine's
// import.meta.glob('/shaders/**') finds the shaders. test/browser/device-loss.test.ts runs
// `vite build --config test/browser/pages/vite.config.ts --outDir <tmp>`, as does model-load.test.ts.
const root = fileURLToPath(new URL('../../..', import.meta.url));

export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
  resolve: { alias: { wgsl_reflect: resolve(root, 'node_modules/wgsl_reflect/wgsl_reflect.module.js') } },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        'device-loss': resolve(root, 'test/browser/pages/device-loss.html'),
        'model-load': resolve(root, 'test/browser/pages/model-load.html'),
      },
    },
  },
});
