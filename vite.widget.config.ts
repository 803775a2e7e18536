import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, defineConfig, type InlineConfig, type Plugin, type ResolvedConfig } from 'vite';

/**
 * The <wgseg-view> widget as one ES module: dist/widget/wgseg-widget.js (engine, kernels and every
 * .wgsl shader inlined) with the two MediaPipe selfie .tflite files copied beside it, where the
 * widget looks for its built-in models. `npm run build:widget` (prints raw and gzip sizes; then
 * tsc -p tsconfig.widget.json writes the declarations to dist/widget/types/, wgseg-widget.d.ts points there).
 * The demo site build (vite.config.ts) runs the same build into demos/widget/ through `widgetSite()`.
 */
export const SELFIE_DIR = resolve('node_modules/@mediapipe/selfie_segmentation');
export const SELFIE_MODELS = ['selfie_segmentation.tflite', 'selfie_segmentation_landscape.tflite'];

function copyModels(typesStub: boolean): Plugin {
  let outDir = '';
  return {
    name: 'wgseg-widget-models',
    apply: 'build',
    configResolved: (c: ResolvedConfig) => void (outDir = resolve(c.root, c.build.outDir)),
    writeBundle() {
      for (const f of SELFIE_MODELS) copyFileSync(join(SELFIE_DIR, f), join(outDir, f));
      // the types: `tsc -p tsconfig.widget.json` (npm run build:widget) writes types/ beside the module
      if (typesStub) writeFileSync(join(outDir, 'wgseg-widget.d.ts'), "export * from './types/web/widget';\n");
    },
  };
}

/** Shader text without comments and indentation (`// #include` lines stay: the preprocessor reads them). */
export function compactWgsl(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((l) => (/^\s*\/\/\s*#include\s/.test(l) ? l.trim() : l.replace(/\/\/.*$/, '').trim()))
    .filter(Boolean)
    .join('\n');
}

function compactShaders(): Plugin {
  return {
    name: 'wgseg-compact-wgsl',
    enforce: 'pre',
    load: (id) =>
      /\.wgsl\?raw$/.test(id)
        ? `export default ${JSON.stringify(compactWgsl(readFileSync(id.slice(0, -4), 'utf8')))};`
        : null,
  };
}

/** The library build of the widget into `outDir` (`library`: the npm build, with the types stub; else the demo site's copy). */
export function widgetConfig(outDir = 'dist/widget', library = true): InlineConfig {
  return {
    configFile: false,
    publicDir: false,
    // wgsl_reflect's "main" is CommonJS inside a "type": "module" package; use its ES build
    resolve: { alias: { wgsl_reflect: resolve('node_modules/wgsl_reflect/wgsl_reflect.module.js') } },
    plugins: [compactShaders(), copyModels(library)],
    build: {
      target: 'es2022',
      outDir,
      emptyOutDir: library,
      copyPublicDir: false,
      reportCompressedSize: true,
      minify: true,
      lib: { entry: resolve('src/web/widget.ts'), formats: ['es'], fileName: () => 'wgseg-widget.js' },
      rollupOptions: { output: { codeSplitting: false, minify: true } },
    },
  };
}

/**
 * For vite.config.ts: in `vite build` of the site, builds the widget into <outDir>/demos/widget/ and
 * copies the demo's images there (demos/widget/index.html loads it with one script tag, as a user
 * would); in `vite` (dev), serves /demos/widget/wgseg-widget.js as the source module and the models
 * from node_modules.
 */
export function widgetSite(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'wgseg-widget-site',
    configResolved: (c) => void (config = c),
    async closeBundle() {
      if (config.command !== 'build' || config.build.ssr || config.build.lib) return;
      const out = join(resolve(config.root, config.build.outDir), 'demos/widget');
      mkdirSync(out, { recursive: true });
      await build({ ...widgetConfig(out, false), logLevel: 'warn' });
      for (const f of readdirSync('demos/widget'))
        if (/\.(png|jpe?g|webp|mp4|webm)$/.test(f)) copyFileSync(join('demos/widget', f), join(out, f));
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        if (path === '/demos/widget/wgseg-widget.js') {
          res.setHeader('content-type', 'text/javascript');
          return void res.end(
            `import { WgsegView } from '/src/web/widget.ts';\nWgsegView.modelBase = '/demos/widget/';\nexport * from '/src/web/widget.ts';\n`,
          );
        }
        const model = SELFIE_MODELS.find((f) => path === `/demos/widget/${f}`);
        if (model)
          return void server.middlewares.handle(
            Object.assign(req, { url: `/node_modules/@mediapipe/selfie_segmentation/${model}` }),
            res,
            next,
          );
        next();
      });
    },
  };
}

export default defineConfig(widgetConfig());
