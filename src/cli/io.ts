import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** Where the command writes: one call per line (no trailing newline). Tests pass their own. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /**
   * A transient status line for long work (model loads, shader compilation, tuning), overwritten by
   * the next and cleared by '' (only where a person watches: a terminal; absent when piped)
   */
  status?(text: string): void;
  /** stack traces on unexpected errors (default: env WGSEG_DEBUG=1) */
  debug?: boolean;
}

/**
 * The terminal for status lines: stderr when it is one; under bin/wgseg.js, whose stderr reaches
 * the user through a filtering pipe, the terminal it passes as fd 3. -1: none (piped, redirected).
 */
function statusFd(): number {
  if (process.env.WGSEG_CLI_CHILD === '1') return isatty(3) ? 3 : -1;
  return isatty(2) ? 2 : -1;
}

let fd: number | undefined;
let shown = false;

export const processIo: CliIo = {
  out: (l) => void process.stdout.write(l + '\n'),
  err: (l) => void process.stderr.write(l + '\n'),
  status: (text) => {
    fd ??= statusFd();
    if (fd < 0 || (!text && !shown)) return;
    shown = !!text;
    try {
      writeSync(fd, `\r\x1b[2K${text}`);
    } catch {
      fd = -1;
    }
  },
};

/**
 * Runs `work` while `io.status` shows `label` and the seconds spent, ticking every 200 ms; the line
 * is cleared when it settles. Without a status line (piped, tests) it only runs `work`.
 */
export async function withStatus<T>(io: CliIo, label: string, work: () => Promise<T>): Promise<T> {
  const status = io.status;
  if (!status) return work();
  const t0 = performance.now();
  const show = () => status(`wgseg: ${label} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  show();
  const timer = setInterval(show, 200);
  timer.unref?.();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    status('');
  }
}
