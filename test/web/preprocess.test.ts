// The web preprocessing (shaders/web/preprocess.wgsl) through the Program path: its bindings as
// reflected per entry point (textures, a sampler, an external texture, a storage texture), and the
// resize entry run by Runtime.dispatch on real WebGPU (Dawn) with a sampled texture and a sampler,
// against a float64 bilinear reference written here. The external-texture entry needs a browser
// video: the browser tests (webcam, widget) run the whole Preprocessor.
import { describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { reflectShader, shaderText } from '../../src/gpu/shader-source';
import { Preprocessor } from '../../src/web/preprocess';
import { gpu } from '../helpers/gpu';
import { rng } from '../helpers/random';
import { bilinearRgba8 } from '../reference/texture';

const SHADER = 'web/preprocess.wgsl';

describe('web/preprocess.wgsl reflection', () => {
  it('binds per entry point what that entry uses, with texture, sampler and external-texture kinds', () => {
    const text = shaderText(SHADER);
    const main = reflectShader(text, 'main'),
      toFrame = reflectShader(text, 'to_frame');
    expect(main.bindings.map((b) => [b.name, b.binding, b.kind])).toEqual([
      ['frame', 0, 'texture'],
      ['smp', 1, 'sampler'],
      ['dst', 2, 'storage'],
      ['params', 3, 'uniform'],
    ]);
    expect(main.bindings[0].entry).toEqual({ texture: { sampleType: 'float', viewDimension: '2d' } });
    expect(main.bindings[1].entry).toEqual({ sampler: { type: 'filtering' } });
    expect(main.uniform?.fields.has('scale')).toBe(true);
    expect(toFrame.bindings.map((b) => [b.name, b.binding, b.kind])).toEqual([
      ['camera', 4, 'external-texture'],
      ['frame_out', 5, 'storage-texture'],
    ]);
    expect(toFrame.bindings[1].entry).toEqual({
      storageTexture: { format: 'rgba8unorm', access: 'write-only', viewDimension: '2d' },
    });
    expect(toFrame.uniform).toBeUndefined();
    expect(reflectShader(text).bindings).toHaveLength(6); // the whole file, without an entry
  });
});

describe('Runtime.dispatch with textures and samplers', () => {
  it('the resize entry: frame texture + linear sampler -> NCHW, mirrored, scale and bias', async () => {
    const rt = await gpu();
    const { device } = rt;
    const IW = 13,
      IH = 9,
      W = 7,
      H = 5,
      r = rng(11);
    const img = Uint8Array.from({ length: IW * IH * 4 }, () => Math.floor(r.next() * 256));
    const scale = [0.5, 2, -1],
      bias = [0.25, -1, 0.5];
    const tex = device.createTexture({
      size: [IW, IH],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    device.queue.writeTexture({ texture: tex }, img, { bytesPerRow: IW * 4 }, [IW, IH]);
    const sampler = device.createSampler({ magFilter: 'linear', minFilter: 'linear' });
    const out = rt.alloc([3, H, W]);
    try {
      rt.dispatch({
        name: 'test preprocess',
        shader: SHADER,
        buffers: { dst: out.buffer },
        uniforms: { out_w: W, out_h: H, nchw: 1, mirror: 1, scale: [...scale, 1], bias: [...bias, 0] },
        textures: { frame: tex.createView() },
        samplers: { smp: sampler },
        workgroups: [Math.ceil(W / 8), Math.ceil(H / 8)],
      });
      const got = (await rt.read(out)) as Float32Array;
      let worst = 0;
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const want = bilinearRgba8(img, IW, IH, 1 - (x + 0.5) / W, (y + 0.5) / H, c) * scale[c] + bias[c];
            worst = Math.max(worst, Math.abs(got[(c * H + y) * W + x] - want));
          }
      console.log(`web preprocess resize: worst |error| ${worst.toExponential(2)}`);
      // filtering weights are quantised to the adapter's sub-texel precision (8 bits on lavapipe: 2^-9 per axis, times |scale| <= 2)
      expect(worst).toBeLessThan(1e-2);
    } finally {
      rt.release(out);
      tex.destroy();
    }
  });

  it('names a texture the program does not give; a caller encoder takes the uniform struct as a buffer', async () => {
    const rt = await gpu();
    const out = rt.alloc([3, 2, 2]);
    const base = {
      name: 'test preprocess',
      shader: SHADER,
      buffers: { dst: out.buffer },
      workgroups: [1, 1] as [number, number],
    };
    try {
      expect(() =>
        rt.dispatch({
          ...base,
          uniforms: { out_w: 2, out_h: 2, nchw: 0, mirror: 0, scale: [1, 1, 1, 1], bias: [0, 0, 0, 0] },
        }),
      ).toThrow(/texture "frame" not given/);
      const tex = rt.device.createTexture({
        size: [2, 2],
        format: 'rgba8unorm',
        usage: GPUTextureUsage.TEXTURE_BINDING,
      });
      const enc = rt.device.createCommandEncoder();
      const p = {
        ...base,
        textures: { frame: tex.createView() },
        samplers: { smp: rt.device.createSampler() },
        uniforms: { out_w: 2 },
      };
      expect(() => rt.dispatch(p, enc)).toThrow(WgsegError);
      expect(() => rt.dispatch(p, enc)).toThrow(/uniformBuffer/);
      enc.finish();
      tex.destroy();
    } finally {
      rt.release(out);
    }
  });

  it("Preprocessor on a device or on a Runtime: the device's one pipeline cache", async () => {
    const rt = await gpu();
    const pre = new Preprocessor(rt.device, {
      width: 4,
      height: 3,
      layout: 'nhwc',
      scale: [2, 2, 2],
      bias: [-1, -1, -1],
    });
    const again = new Preprocessor(rt, { width: 4, height: 3, layout: 'nchw' });
    try {
      expect(pre.dims).toEqual([1, 3, 4, 3]);
      expect(again.dims).toEqual([1, 3, 3, 4]);
      expect(pre.device).toBe(rt.device);
      expect(rt.pipelines.get(SHADER, {}, {}, 'main')).toBe(rt.pipelines.get(SHADER, {}, {}, 'main'));
    } finally {
      pre.dispose();
      again.dispose();
    }
  });
});
