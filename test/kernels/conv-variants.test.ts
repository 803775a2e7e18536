// Every Conv / FusedConv kernel variant that applies, forced, on the cases with a post_affine
// epilogue (y = a * act(x) + b, fused from scalar Mul / Add after the activation) and a few
// others, against the f64 reference; on lavapipe and (vite.config.ts project) SwiftShader.
import { describe, expect, it } from 'vitest';
import { CONV_CASES, convCase } from '../helpers/conv-case';
import { adapters, runOp, variantsOf } from '../helpers/gpu';
import { TOL, expectClose } from '../helpers/tolerance';

// Winograd's F(2x2,3x3) transforms: 3e-4 (test/kernels/conv-winograd.test.ts derives it)
const tolOf = (variant: string) => (variant.startsWith('winograd') ? { abs: 3e-4, rel: 3e-4 } : TOL.f32Reduce);
const cases = CONV_CASES.filter(
  (c) => c.post || /^(3x3 pad 1, batch 2|depthwise, stride 2|FusedConv Relu \+ Z)/.test(c.name),
);

describe('Conv variants, forced', async () => {
  for (const [name, rt] of await adapters())
    cases.forEach((c, i) =>
      it(`${name}: ${c.name}`, async () => {
        const { op, attrs, want, inputs } = convCase(c, 900 + i);
        const names = await variantsOf(op, inputs, attrs, rt);
        expect(names.length).toBeGreaterThan(0);
        for (const variant of names) {
          const [y] = await runOp(op, inputs, attrs, [], { variant, rt });
          expect(y.shape).toEqual(want.shape);
          expectClose(y.data, want.data, tolOf(variant), `${variant} ${c.name}`);
        }
      }),
    );
});
