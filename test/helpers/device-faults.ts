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

/**
 * Destroy `device` right after the next mapAsync starts (a read-back in flight). Hooked on the
 * buffer prototype: read-back buffers are pooled, so the next read may map one made earlier.
 */
export function destroyDuringNextMap(device: GPUDevice): void {
  const proto = GPUBuffer.prototype;
  const map = proto.mapAsync;
  proto.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
    proto.mapAsync = map;
    const p = map.apply(this, args);
    device.destroy();
    return p;
  };
}
