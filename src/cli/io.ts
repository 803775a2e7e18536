/** Where the command writes: one call per line (no trailing newline). Tests pass their own. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** stack traces on unexpected errors (default: env WGSEG_DEBUG=1) */
  debug?: boolean;
}

export const processIo: CliIo = {
  out: (l) => void process.stdout.write(l + '\n'),
  err: (l) => void process.stderr.write(l + '\n'),
};
