// f64 reference for sampling a texture the way a WebGPU linear sampler does (clamp-to-edge).

/** Bilinear, edge-clamped sample of an RGBA8 image at uv (texel centres at (i + 0.5) / size). */
export function bilinearRgba8(img: Uint8Array, iw: number, ih: number, u: number, v: number, c: number): number {
  const px = u * iw - 0.5,
    py = v * ih - 0.5,
    fx = Math.floor(px),
    fy = Math.floor(py),
    tx = px - fx,
    ty = py - fy;
  const at = (x: number, y: number) =>
    img[(Math.min(ih - 1, Math.max(0, y)) * iw + Math.min(iw - 1, Math.max(0, x))) * 4 + c] / 255;
  return (
    (at(fx, fy) * (1 - tx) + at(fx + 1, fy) * tx) * (1 - ty) +
    (at(fx, fy + 1) * (1 - tx) + at(fx + 1, fy + 1) * tx) * ty
  );
}
