import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repo root: `npx wgseg` runs from here, through bin/wgseg.js and the built dist/cli.js. */
export const ROOT = resolve(__dirname, '../..');

/** Rebuilds dist/cli.js (`npm run build:cli`) when it is missing or older than the sources. */
export function ensureCliBuilt(): void {
  const cli = join(ROOT, 'dist/cli.js');
  const newest = (p: string): number => {
    const st = statSync(p);
    return st.isDirectory() ? Math.max(0, ...readdirSync(p).map((f) => newest(join(p, f)))) : st.mtimeMs;
  };
  const src = Math.max(...['src', 'shaders', 'vite.lib.config.ts', 'package.json'].map((p) => newest(join(ROOT, p))));
  if (!existsSync(cli) || statSync(cli).mtimeMs < src)
    execFileSync('npm', ['run', 'build:cli'], { cwd: ROOT, stdio: 'ignore' });
}

/** `npx wgseg ...args` as a user runs it: exit code, stdout lines and stderr lines (npm's own warnings dropped). */
export function npxWgseg(
  args: string[],
  env: Record<string, string> = {},
): { code: number; out: string[]; err: string[] } {
  const r = spawnSync('npx', ['wgseg', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  // npm itself may warn about this machine's npm config ("npm warn ..."): not wgseg's output
  const err = r.stderr.split('\n').filter((l) => l && !/^npm (warn|notice)/i.test(l));
  return { code: r.status ?? -1, out: r.stdout.split('\n').filter(Boolean), err };
}
