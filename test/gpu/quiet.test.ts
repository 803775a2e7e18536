import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Dawn prints adapter notices ("Warning: maxDynamic... artificially reduced", lavapipe) straight to
 * file descriptor 2 while an adapter is requested; the library keeps them off the user's stderr
 * (src/gpu/device.ts requestAdapter) and leaves stderr working before and after. Checked in a
 * child process whose fd 2 is a file (a terminal or a shell pipe behave alike; a socket, which Node
 * gives a child spawned with stdio 'pipe', cannot be reopened and keeps the notices).
 */
describe('library runs keep Dawn notices off stderr', () => {
  it('creates a runtime; stderr holds only what the program wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgseg-quiet-'));
    try {
      const file = join(dir, 'quiet.ts');
      writeFileSync(
        file,
        `import { kernels } from ${JSON.stringify(resolve('src/index.ts'))};
const { Runtime } = kernels;
console.error('before');
const rt = await Runtime.create();
console.error('after ' + rt.info.adapter);
rt.dispose();
process.exit(0);
`,
      );
      const run = (env: Record<string, string>) => {
        const errFile = join(dir, 'stderr.txt');
        const fd = openSync(errFile, 'w');
        try {
          const r = spawnSync(resolve('node_modules/.bin/vite-node'), [file], {
            stdio: ['ignore', 'ignore', fd],
            env: { ...process.env, WGSEG_DEBUG: '', ...env },
          });
          return { status: r.status, stderr: readFileSync(errFile, 'utf8') };
        } finally {
          closeSync(fd);
        }
      };
      const r = run({});
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.trim().split('\n'), r.stderr).toEqual(['before', expect.stringMatching(/^after \S/)]);
      // WGSEG_DEBUG=1 shows Dawn's messages: on lavapipe, the notices otherwise held back
      const debug = run({ WGSEG_DEBUG: '1' });
      expect(debug.status, debug.stderr).toBe(0);
      expect(debug.stderr).toMatch(/^before\n/);
      if (/llvmpipe/.test(r.stderr)) expect(debug.stderr).toMatch(/Warning: .*artificially reduced/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
