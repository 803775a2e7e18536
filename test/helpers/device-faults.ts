// Device loss at chosen moments, for the device-loss tests in Node (Dawn) and in Chromium
// (test/browser/pages/device-loss.ts): wrap one WebGPU call so that destroy() follows it at once.

/** Destroy `device` right after its next queue.submit: the work is in the queue, the call not yet done. */
export function destroyAfterNextSubmit(device: GPUDevice): void {
  const queue = device.queue;
  const submit = queue.submit;
  queue.submit = (cbs: Iterable<GPUCommandBuffer>) => {
    submit.call(queue, cbs);
    queue.submit = submit;
    device.destroy();
  };
}

/** Destroy `device` right after the next mapAsync of a buffer it creates starts (a read-back in flight). */
export function destroyDuringNextMap(device: GPUDevice): void {
  const create = device.createBuffer;
  device.createBuffer = (desc: GPUBufferDescriptor) => {
    const buf = create.call(device, desc);
    if (desc.usage & GPUBufferUsage.MAP_READ) {
      device.createBuffer = create;
      const map = buf.mapAsync;
      buf.mapAsync = (...args: Parameters<GPUBuffer['mapAsync']>) => {
        const p = map.apply(buf, args);
        device.destroy();
        return p;
      };
    }
    return buf;
  };
}
