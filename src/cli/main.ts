import { WgsegError } from '../core/errors';
import { parseArgs, USAGE, UsageError } from './args';
import { inspectCommand } from './inspect';
import { type CliIo, processIo } from './io';
import { ocrCommand } from './ocr';
import { runCommand } from './run';
import { segmentCommand } from './segment';
import { tuneCommand } from './tune';

export { type CliIo, processIo } from './io';

/** An error as the one `wgseg:` line: newlines folded, node/file context kept. */
export function errorLine(e: unknown): string {
  const msg =
    e instanceof WgsegError || e instanceof UsageError
      ? e.message
      : e instanceof Error
        ? `internal error: ${e.name === 'Error' ? '' : e.name + ': '}${e.message}`
        : `internal error: ${String(e)}`;
  return 'wgseg: ' + msg.replace(/\s*\n\s*/g, '; ').trim();
}

/**
 * `wgseg` in-process: returns the exit code (0 ok, 1 error, 2 usage). Never throws; every failure
 * is exactly one `wgseg: ...` line on `io.err`.
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const debug = io.debug ?? (typeof process !== 'undefined' && process.env.WGSEG_DEBUG === '1');
  try {
    const cmd = parseArgs(argv);
    if (cmd.cmd === 'help') {
      for (const l of USAGE.split('\n')) io.out(l);
      return 0;
    }
    if (cmd.cmd === 'run') await runCommand(cmd, io);
    else if (cmd.cmd === 'ocr') await ocrCommand(cmd, io);
    else if (cmd.cmd === 'tune') await tuneCommand(cmd, io);
    else if (cmd.cmd === 'segment') await segmentCommand(cmd, io);
    else await inspectCommand(cmd, io);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      if (argv.length === 0) for (const l of USAGE.split('\n')) io.out(l);
      io.err(`${errorLine(e)} (wgseg --help for usage)`);
      return 2;
    }
    io.err(errorLine(e));
    if (debug && e instanceof Error && e.stack) io.err(e.stack);
    return 1;
  }
}
