#!/usr/bin/env node
// The `wgseg` command: runs the built CLI (dist/cli.js, made by `npm run build:cli`, which
// `npm ci` / `npm install` run through the `prepare` script).
//
// The command itself runs in a child process whose stderr passes through here: Dawn (the WebGPU
// implementation in Node) prints adapter notices such as "Warning: maxDynamic... artificially
// reduced" straight to file descriptor 2, which would break the contract of exactly one `wgseg:`
// line on stderr for an error. Lines starting with "Warning: " are dropped unless WGSEG_DEBUG=1.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`wgseg: ${fileURLToPath(cli)} is missing; run \`npm run build:cli\` in ${root}\n`);
  process.exit(1);
}

/** Exit once what was printed has been handed to the OS (pipes are asynchronous on some platforms). */
const exit = (code) => process.stderr.write('', () => process.stdout.write('', () => process.exit(code)));

if (process.env.WGSEG_CLI_CHILD === '1') {
  // output piped into a reader that stops early (`| head`): stop quietly
  process.stdout.on('error', (e) => (e.code === 'EPIPE' ? process.exit(0) : exit(1)));
  const { main } = await import(cli.href);
  // exit explicitly: a live WebGPU (Dawn) instance may otherwise keep the process up
  exit(await main(process.argv.slice(2)));
} else {
  const debug = process.env.WGSEG_DEBUG === '1';
  // a terminal on stderr is also passed as the child's fd 3: the command's transient progress line
  // (src/cli/io.ts) goes there directly, past the line filter; nothing is passed when piped
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'pipe', process.stderr.isTTY ? 2 : 'ignore'],
    env: { ...process.env, WGSEG_CLI_CHILD: '1' },
  });
  const lines = createInterface({ input: child.stderr, crlfDelay: Infinity });
  lines.on('line', (l) => {
    if (debug || !l.startsWith('Warning: ')) process.stderr.write(l + '\n');
  });
  const closed = new Promise((r) => lines.once('close', r));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    process.stderr.write(`wgseg: cannot start ${process.execPath} (${e.message})\n`);
    exit(1);
  });
  child.on('exit', async (code, signal) => {
    await closed;
    if (code === null) process.stderr.write(`wgseg: terminated by ${signal}\n`);
    exit(code ?? 128 + (constants.signals[signal] ?? 0));
  });
}
