/**
 * What check.ts and zoo.ts share: `wgseg run` in a child process, and the comparison rule against a
 * reference (issue 3's: |wgseg - ref| <= atol*max(1,max|ref|) + rtol*|ref| everywhere).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy } from './npy';

export interface Got {
  data: Float32Array;
  dims: number[];
  ms: [number, number];
  line: string;
}

/** `npx wgseg run` in a child process; ms = [the time the command prints (first run, shaders compiled on the way), the child's wall time]. */
export function runCli(model: string, input: string, precision: string, keep: boolean, timeoutMs?: number): Got {
  const out = mkdtempSync(join(tmpdir(), 'wgseg-tv-'));
  try {
    const args = ['wgseg', 'run', model, '--input', `input=${input}`, '--out', out, '--precision', precision];
    const t0 = performance.now();
    const r = spawnSync('npx', args, { encoding: 'utf8', maxBuffer: 1 << 26, timeout: timeoutMs });
    if (r.error) throw new Error(`npx ${args.join(' ')} exited: ${r.error.message}`);
    const ms = performance.now() - t0;
    if (r.status !== 0)
      throw new Error(
        `npx ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
      );
    const y = readNpy(readFileSync(join(out, 'out.npy')));
    const line = r.stdout.trim().split('\n').pop() ?? '';
    const printed = Number(/([\d.]+) ms/.exec(line)?.[1] ?? NaN);
    return { data: Float32Array.from(y.data as ArrayLike<number>), dims: y.shape, ms: [printed, ms], line };
  } finally {
    if (keep) console.log(`kept ${out}`);
    else rmSync(out, { recursive: true, force: true });
  }
}

export interface Cmp {
  maxAbsErr: number;
  worst: number;
  atol: number;
  worstAt: number;
}

/** The rule; worst = max err / (atol + rtol*|ref|) (<= 1 passes). */
export const TOL = { f32: { atol: 1e-4, rtol: 1e-3 }, f16: { atol: 5e-3, rtol: 2e-2 } };

export function compare(got: Float32Array, ref: ArrayLike<number>, tol: { atol: number; rtol: number }): Cmp {
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) maxRef = Math.max(maxRef, Math.abs(ref[i]));
  const atol = tol.atol * Math.max(1, maxRef),
    rtol = tol.rtol;
  let worst = 0,
    worstAt = -1,
    maxAbsErr = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]);
    if (!(err <= maxAbsErr)) maxAbsErr = Number.isNaN(err) ? Infinity : err;
    const ratio = Number.isNaN(err) ? Infinity : err / (atol + rtol * Math.abs(ref[i]));
    if (ratio > worst) (worst = ratio), (worstAt = i);
  }
  return { maxAbsErr, worst, atol, worstAt };
}
