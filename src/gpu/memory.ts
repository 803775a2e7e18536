/**
 * Process-wide count of the GPU buffers wgseg itself creates (pool buckets, planned intermediates,
 * uploaded constants, read-back staging): what the soak test watches return to its baseline.
 * A buffer counts from `createTracked` until `destroyTracked`; one dropped without destroy() stays
 * counted, as its memory stays held until the garbage collector finds it.
 */
const tracked = new WeakSet<GPUBuffer>();
let liveBytes = 0;
let liveBuffers = 0;

export interface GpuMemory {
  /** bytes in live buffers wgseg created */
  bytes: number;
  /** how many such buffers */
  buffers: number;
}

export function createTracked(device: GPUDevice, desc: GPUBufferDescriptor): GPUBuffer {
  const buf = device.createBuffer(desc);
  tracked.add(buf);
  liveBytes += buf.size;
  liveBuffers++;
  return buf;
}

export function destroyTracked(buf: GPUBuffer): void {
  if (tracked.delete(buf)) {
    liveBytes -= buf.size;
    liveBuffers--;
  }
  buf.destroy();
}

export function gpuMemory(): GpuMemory {
  return { bytes: liveBytes, buffers: liveBuffers };
}
