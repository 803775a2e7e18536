import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * The GPU kit's bundle (scripts/gpu-kit/build.sh, docs/gpu-kit.md): the kernel bench, the peer
 * bench and the kit's own steps as three ES modules for a bare `node` with no node_modules beside
 * it but the two native/wasm packages the kit carries (webgpu's dawn.node, onnxruntime-web's wasm),
 * which stay external. Everything else (wgsl_reflect, protobufjs, pngjs...) is bundled in, and the
 * .wgsl shaders are inlined through import.meta.glob as in vite.lib.config.ts.
 * Run from the repository root: vite build --config scripts/gpu-kit/vite.config.ts (outDir from
 * WGSEG_KIT_APP, default gpu-kit/app).
 */
const external = ['webgpu', 'onnxruntime-web', 'onnxruntime-node', ...builtinModules];

export default defineConfig({
  root: resolve(import.meta.dirname, '../..'),
  publicDir: false,
  logLevel: 'warn',
  resolve: { alias: { wgsl_reflect: resolve('node_modules/wgsl_reflect/wgsl_reflect.module.js') } },
  // bundle the dependencies (an SSR build leaves them external by default)
  ssr: { noExternal: true, external: ['webgpu', 'onnxruntime-web', 'onnxruntime-node'] },
  build: {
    ssr: true,
    target: 'node20',
    outDir: process.env.WGSEG_KIT_APP ?? 'gpu-kit/app',
    emptyOutDir: true,
    minify: false,
    sourcemap: false,
    rollupOptions: {
      input: {
        kernels: resolve('bench/kernels.ts'),
        peers: resolve('bench/peers/node.ts'),
        kit: resolve('scripts/gpu-kit/kit.ts'),
      },
      external: (id) => id.startsWith('node:') || external.some((e) => id === e || id.startsWith(`${e}/`)),
      output: {
        format: 'es',
        entryFileNames: '[name].mjs',
        chunkFileNames: 'chunks/[name]-[hash].mjs',
      },
    },
  },
});
