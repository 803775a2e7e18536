import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { readNpy, writeNpy } from '../../src/import/npy';
import { Session } from '../../src/index';
import { halfBits, roundHalf, toFloat16Model } from '../helpers/float16';
import { gpu } from '../helpers/gpu';
import { deeplab, unet } from '../helpers/networks';
import { expectNetClose, type NetTol, ortRun } from '../helpers/ort';

/**
 * float16 models, as onnxconverter-common writes them from a float32 export (test/helpers/float16.ts):
 * float16 I/O, and float32 I/O with Casts (keep_io_types). The reference is onnxruntime-web on the
 * same float16 bytes. On an adapter with shader-f16 the session computes in f16 by default; without
 * it (SwiftShader) in f32 with a note. Tolerance: the networks' f16 rule (networks.test.ts),
 * 5e-3*max(1,max|ref|) + 2e-2*|ref|: both engines round every layer to f16, in different orders.
 */
const F16_TOL: NetTol = { atol: 5e-3, rtol: 2e-2 };

describe('float16 models (float16 weights, compute and I/O)', () => {
  for (const make of [unet, deeplab]) {
    for (const keepIo of [false, true]) {
      const net = make();
      it(`${net.name}: ${keepIo ? 'float32 I/O with Casts' : 'float16 I/O'}`, async () => {
        const rt = await gpu();
        const bytes = toFloat16Model(net.bytes, keepIo);
        const feed = net.feeds.input as { data: Float32Array; dims: number[] };
        const x = keepIo ? feed.data : roundHalf(feed.data);
        const ref = await ortRun(bytes, { input: { data: keepIo ? x : halfBits(x), dims: feed.dims } });
        const s = await Session.create(bytes, { device: rt, source: `${net.name}-f16.onnx` });
        try {
          expect(s.precision).toBe(rt.info.f16 ? 'f16' : 'f32');
          expect(s.notes.join()).toMatch(
            rt.info.f16 ? /computed in f16/ : /computed in f32: this adapter lacks shader-f16/,
          );
          expect(s.inputs[0].type).toBe(keepIo ? 'float32' : 'float16');
          const out = await s.run({ input: { data: x, dims: feed.dims } });
          for (const o of s.outputs) {
            const t = out[o.name];
            expect(t.type).toBe(
              ref[o.name].type === 'float16' ? 'float16' : ref[o.name].type === 'int64' ? 'int64' : 'float32',
            );
            if (ref[o.name].type === 'int64') continue; // deeplab's labels: argmax of near-ties
            const { maxAbsErr } = expectNetClose(await t.read(), ref[o.name].data, `${net.name} ${o.name}`, F16_TOL);
            console.log(
              `${net.name} f16 (${keepIo ? 'f32 I/O' : 'f16 I/O'}, ${s.precision}) ${o.name}: max abs err ${maxAbsErr.toExponential(2)}`,
            );
          }
        } finally {
          s.dispose();
        }
      }, 60_000);
    }
  }

  it('wgseg run reads and writes float16 .npy for a float16 model', async () => {
    const net = unet();
    const dir = mkdtempSync(join(tmpdir(), 'wgseg-f16-'));
    try {
      const model = join(dir, 'unet16.onnx');
      const bytes = toFloat16Model(net.bytes, false);
      writeFileSync(model, bytes);
      const feed = net.feeds.input as { data: Float32Array; dims: number[] };
      writeFileSync(join(dir, 'x.npy'), writeNpy('float16', feed.dims, feed.data));
      const out: string[] = [],
        err: string[] = [];
      const code = await main(['run', model, '--input', `input=${join(dir, 'x.npy')}`, '--out', join(dir, 'out')], {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      expect(err).toEqual([]);
      expect(code).toBe(0);
      const rt = await gpu();
      expect(out[0]).toMatch(rt.info.f16 ? /^note: .*computed in f16/ : /^note: .*computed in f32/);
      expect(out[1]).toMatch(/float16/);
      const name = net.outputs[0].name;
      const file = readFileSync(join(dir, 'out', `${name}.npy`));
      expect(new TextDecoder().decode(file.subarray(10, 40))).toContain("'descr': '<f2'");
      const y = readNpy(file);
      const ref = await ortRun(bytes, { input: { data: halfBits(feed.data), dims: feed.dims } });
      expect(y.shape).toEqual(ref[name].dims);
      expectNetClose(y.data as Float32Array, ref[name].data, 'wgseg run unet f16', F16_TOL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
