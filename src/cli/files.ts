import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { WgsegError } from '../core/errors';
import type { Graph } from '../graph/ir';
import { readNpy, type NpyArray } from '../import/npy';
import { externalDataBeside } from '../model-fetch';
import { loadGraph } from '../session';

/** A file's bytes; a missing or unreadable file is a BAD_INPUT naming it and what it was for. */
export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new WgsegError('BAD_INPUT', `${path}: cannot read ${what} (${ioReason(e)})`);
  }
}

function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  return code ?? (e as Error).message;
}

/** The model as graph IR, read on the host (no GPU); the format is told by its bytes; ONNX external data from beside it. */
export async function loadModel(path: string): Promise<Graph> {
  return loadGraph(await readBytes(path, 'the model'), path, await externalDataBeside(path));
}

export async function loadNpy(path: string, input: string): Promise<NpyArray> {
  return readNpy(await readBytes(path, `input ${input}`), path);
}

/** Create `dir` (and parents); an error names it. */
export async function makeDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new WgsegError('BAD_INPUT', `--out ${dir}: cannot create the directory (${ioReason(e)})`);
  }
}

export async function writeBytes(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new WgsegError('BAD_INPUT', `${path}: cannot write (${ioReason(e)})`);
  }
}

/** An output name as a file name: every character (code point) outside [A-Za-z0-9._-] becomes '_'. */
export const sanitize = (name: string) => name.replace(/[^A-Za-z0-9._-]/gu, '_');
