// Shader text, reflection and uniform packing: pure logic, no GPU.
import { describe, expect, it } from 'vitest';
import { packUniforms, reflectShader, shaderText } from '../../src/gpu/shader-source';
import { fromHalf, toHalf } from '../../src/core/dtype';
import { linearGrid } from '../../src/kernels/dispatch';

describe('shaderText', () => {
  it('expands includes once and substitutes defines; f16 adds enable f16', () => {
    const t = shaderText('elementwise/unary.wgsl', { T: 'f16' });
    expect(t.startsWith('enable f16;')).toBe(true);
    expect(t).toContain('fn activate(');
    expect(t).toContain('array<f16>');
    expect(t).not.toMatch(/\{\{/);
    expect(t.match(/fn activate\(/g)?.length).toBe(1);
  });
  it('names a missing define and a missing file', () => {
    expect(() => shaderText('elementwise/unary.wgsl')).toThrow(/\{\{T\}\}/);
    expect(() => shaderText('nope/missing.wgsl')).toThrow(/missing\.wgsl/);
  });
});

describe('reflectShader + packUniforms', () => {
  const text = `
struct P { n: u32, k: i32, s: f32, shape: vec4<u32>, f: vec4<f32> }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: P;
@compute @workgroup_size(1) fn main() { y[0] = x[0] + params.s; }`;
  it('reads bindings and offsets from the WGSL', () => {
    const l = reflectShader(text);
    expect(l.bindings.map((b) => [b.name, b.kind])).toEqual([
      ['x', 'read-only-storage'],
      ['y', 'storage'],
      ['params', 'uniform'],
    ]);
    expect(l.uniform!.fields.get('shape')!.offset).toBe(16);
    expect(l.uniform!.fields.get('f')!.offset).toBe(32);
    expect(l.uniform!.size).toBe(48);
  });
  it('packs by name with the right scalar types', () => {
    const u = reflectShader(text).uniform!;
    const buf = packUniforms(u, { n: 7, k: -3, s: 0.5, shape: [1, 2, 3, 4], f: [0.25, 0, 0, -1] }, 't');
    const v = new DataView(buf);
    expect([v.getUint32(0, true), v.getInt32(4, true), v.getFloat32(8, true)]).toEqual([7, -3, 0.5]);
    expect([v.getUint32(16, true), v.getUint32(28, true), v.getFloat32(32, true), v.getFloat32(44, true)]).toEqual([
      1, 4, 0.25, -1,
    ]);
  });
  it('names missing, extra and mis-sized fields', () => {
    const u = reflectShader(text).uniform!;
    expect(() => packUniforms(u, { n: 1, k: 1, s: 1, shape: [1, 2, 3, 4] }, 'k1')).toThrow(/"f" not given/);
    expect(() => packUniforms(u, { n: 1, k: 1, s: 1, shape: [1, 2, 3], f: [0, 0, 0, 0] }, 'k1')).toThrow(
      /"shape" wants 4/,
    );
    expect(() => packUniforms(u, { n: 1, k: 1, s: 1, shape: [1, 2, 3, 4], f: [0, 0, 0, 0], zz: 1 }, 'k1')).toThrow(
      /no field "zz"/,
    );
  });
});

describe('helpers', () => {
  it('linearGrid folds big grids into 2-D covering every thread', () => {
    expect(linearGrid(1000, 256)).toEqual([4, 1]);
    const [x, y] = linearGrid(65536 * 256 * 3 + 1, 256);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y * 256).toBeGreaterThanOrEqual(65536 * 256 * 3 + 1);
  });
  it('f16 conversion round-trips and rounds to nearest even', () => {
    for (const v of [0, 1, -2.5, 65504, 6.1035e-5, 5.96e-8, 0.1, 3.14159])
      expect(Math.abs(fromHalf(toHalf(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
  });
});
