import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { Session } from '../../src/session';
import { gpu } from '../helpers/gpu';
import { malformedModels } from '../helpers/malformed-models';

/** Every malformed/unsupported model through Session.create + run on real WebGPU: the listed error, never a crash or an answer. */
describe('malformed models through a Session', () => {
  for (const c of malformedModels()) {
    it(`${c.stage} ${c.name}: ${c.code}`, async () => {
      const rt = await gpu();
      const source = `${c.name}.onnx`;
      let err: unknown;
      try {
        const s = await Session.create(c.bytes, { source, device: rt });
        try {
          await s.run(
            Object.fromEntries(
              c.inputs.map((i) => [
                i.name,
                { data: new Float32Array(i.dims.reduce((a, b) => a * b, 1)), dims: i.dims },
              ]),
            ),
          );
        } finally {
          s.dispose();
        }
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WgsegError);
      const e = err as WgsegError;
      expect(e.code).toBe(c.code);
      expect(e.message.startsWith(`${source}: `)).toBe(true);
      for (const s of c.contains) expect(e.message).toContain(s);
    });
  }
});
