// createOcr's loading options in Node: progress over the three files (det, rec, dictionary) summed
// up to their sizes on disk, an AbortSignal (ABORTED), and the asset named when a file is missing.
// (Cache Storage and URLs with progress are tested in the browser: test/browser/model-load.test.ts.)
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createOcr } from '../../src/pipelines/ocr';
import { defaultAssets } from '../../src/pipelines/ocr/load';
import { gpu } from '../helpers/gpu';

describe('createOcr loading', () => {
  it('reports progress of the three files up to their total size', async () => {
    const files = await defaultAssets();
    const size = Object.values(files).reduce((n, f) => n + statSync(f).size, 0);
    const seen: [number, number | undefined][] = [];
    const ocr = await createOcr({ device: await gpu(), onProgress: (l, t) => seen.push([l, t]) });
    ocr.dispose();
    expect(seen).toHaveLength(3);
    expect(seen.at(-1)).toEqual([size, size]);
    expect(seen.slice(0, 2).every(([l, t]) => t === undefined && l > 0 && l < size)).toBe(true);
    expect(ocr.chars.length).toBeGreaterThan(6000);
  });

  it('an aborted signal rejects with ABORTED; a missing file is named', async () => {
    const ctl = new AbortController();
    ctl.abort(new Error('no thanks'));
    await expect(createOcr({ signal: ctl.signal })).rejects.toMatchObject({
      code: 'ABORTED',
      message: expect.stringMatching(/loading aborted \(no thanks\)$/),
    });
    await expect(createOcr({ recModel: '/nonexistent/rec.onnx' })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/^ocr: recModel \/nonexistent\/rec\.onnx: cannot read/),
    });
  });
});
