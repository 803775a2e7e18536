import type { DeviceInfo } from '../core/op';
import { WgsegError } from '../core/errors';

/** What the engine got from the adapter: optional features it may use, and a printable name. */
export interface GetDeviceOptions {
  /** Supply an already-created device (e.g. shared with another engine). */
  device?: GPUDevice;
  /** Dawn adapter toggle in Node, e.g. 'llvmpipe' or 'swiftshader'; env WGSEG_ADAPTER overrides. */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
  /** Called once when the device is lost; the next getDevice() call creates a new one. */
  onLost?: (reason: string) => void;
}

const OPTIONAL_FEATURES = ['shader-f16', 'timestamp-query', 'subgroups'] as const;
const infos = new WeakMap<GPUDevice, DeviceInfo>();
/** why each lost device was lost ("destroyed: ..."), set once, synchronously with `device.lost` */
const lostReasons = new WeakMap<GPUDevice, string>();
const lostListeners = new WeakMap<GPUDevice, Set<(reason: string) => void>>();
let current: Promise<GPUDevice> | null = null;
let currentDevice: GPUDevice | null = null;

/** The shared device; created on first call and again after a loss. */
export async function getDevice(opts: GetDeviceOptions = {}): Promise<GPUDevice> {
  if (!opts.device && !current) {
    const p = createDevice(opts);
    current = p;
    p.then(
      (d) => current === p && (currentDevice = d),
      () => current === p && (current = null),
    );
  }
  const shared = current;
  const device = opts.device ?? (await shared!);
  if (!opts.device && lostReasons.has(device)) {
    if (current === shared) (current = null), (currentDevice = null);
    return getDevice(opts);
  }
  watchLoss(device);
  if (opts.onLost) onDeviceLost(device, opts.onLost);
  return device;
}

/** One `lost` reaction per device (not one per caller: those would keep every caller alive). */
function watchLoss(device: GPUDevice): void {
  if (lostListeners.has(device)) return;
  const set = new Set<(reason: string) => void>();
  lostListeners.set(device, set);
  device.lost.then((info) => {
    const reason = `${info.reason}${info.message ? `: ${info.message.trim()}` : ''}`;
    lostReasons.set(device, reason);
    if (currentDevice === device) (current = null), (currentDevice = null);
    for (const f of set) f(reason);
    set.clear();
  });
}

/** Why `device` was lost ("destroyed: device was destroyed", "unknown: ..."), or undefined while it works. */
export function deviceLostReason(device: GPUDevice): string | undefined {
  watchLoss(device);
  return lostReasons.get(device);
}

/** Be told (once) when `device` is lost; getDevice() then makes a new one. Returns an unsubscribe function. */
export function onDeviceLost(device: GPUDevice, cb: (reason: string) => void): () => void {
  watchLoss(device);
  const set = lostListeners.get(device)!;
  const reason = lostReasons.get(device);
  if (reason !== undefined) queueMicrotask(() => cb(reason));
  else set.add(cb);
  return () => void set.delete(cb);
}

export function deviceInfo(device: GPUDevice): DeviceInfo {
  const has = (f: string) => device.features.has(f);
  // a device wgseg did not create: what it says of itself (GPUDevice.adapterInfo, where the browser has it)
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return (
    infos.get(device) ?? {
      adapter: 'unknown',
      f16: has('shader-f16'),
      timestamps: has('timestamp-query'),
      subgroups: has('subgroups'),
      ...subgroupSizes(info, device),
      dot4: hasDot4(typeof navigator !== 'undefined' ? navigator.gpu : undefined),
    }
  );
}

/** WGSL's packed_4x8_integer_dot_product language feature (dot4I8Packed...), as the GPU entry point lists it. */
function hasDot4(gpu: GPU | null | undefined): boolean {
  const f = (gpu as { wgslLanguageFeatures?: ReadonlySet<string> } | null | undefined)?.wgslLanguageFeatures;
  return !!f?.has('packed_4x8_integer_dot_product');
}

// One Dawn instance per adapter flag for the life of the process: creating and dropping Dawn
// instances repeatedly crashes its worker threads.
const dawnInstances = new Map<string, GPU>();

/** Dawn matches adapter names case-sensitively; users type them any way (WGSEG_ADAPTER=swiftshader). */
const DAWN_ADAPTERS: Record<string, string> = {
  swiftshader: 'SwiftShader',
  llvmpipe: 'llvmpipe',
  lavapipe: 'llvmpipe',
};
/** SwiftShader's Vulkan driver as Debian's chromium ships it (headless Chromium's WebGPU adapter). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Dawn's name for a user's adapter name: known names in Dawn's spelling, others as given. */
export function dawnAdapterName(name: string): string {
  return DAWN_ADAPTERS[name.toLowerCase()] ?? name;
}

async function gpuEntry(wanted?: string): Promise<GPU | null> {
  if (typeof navigator !== 'undefined' && navigator.gpu) return navigator.gpu;
  if (typeof process === 'undefined' || !process.versions?.node) return null;
  const adapter = wanted && dawnAdapterName(wanted);
  if (adapter === 'SwiftShader') {
    // its Vulkan ICD is not on the loader's default path: add it (the loader reads this per instance)
    const fs = await import(/* @vite-ignore */ 'node:fs');
    const added = process.env.VK_ADD_DRIVER_FILES;
    if (fs.existsSync(SWIFTSHADER_ICD) && !added?.includes(SWIFTSHADER_ICD)) {
      process.env.VK_ADD_DRIVER_FILES = added ? `${added}:${SWIFTSHADER_ICD}` : SWIFTSHADER_ICD;
    }
  }
  const key = adapter ?? '';
  let gpu = dawnInstances.get(key);
  if (!gpu) {
    // Mesa lavapipe 25 has aborted (futex/mutex) under its default thread count on shaders with
    // barriers, seen here on 2-core machines; an explicit count avoids it. Read when Dawn loads Vulkan.
    const os = await import(/* @vite-ignore */ 'node:os');
    process.env.LP_NUM_THREADS ??= String(os.availableParallelism());
    const dawn: { create(flags: string[]): GPU; globals: object } = await import(/* @vite-ignore */ 'webgpu');
    Object.assign(globalThis, dawn.globals);
    gpu = dawn.create(adapter ? [`adapter=${adapter}`] : []);
    dawnInstances.set(key, gpu);
  }
  return gpu;
}

/**
 * requestAdapter with Dawn's adapter notices kept off the user's stderr. Dawn (Node) prints
 * "Warning: max...PerPipelineLayout artificially reduced" for lavapipe straight to file descriptor 2,
 * during requestAdapter's synchronous part: for that call only, fd 2 points at /dev/null (no
 * JavaScript runs in between, so nothing of the user's is lost). When no adapter comes back the
 * request is repeated with Dawn's messages shown; WGSEG_DEBUG=1 shows them always; where fds
 * cannot be reopened (no /dev/fd) the call is made as it is.
 */
async function requestAdapter(gpu: GPU | null, req: GPURequestAdapterOptions): Promise<GPUAdapter | null | undefined> {
  if (!gpu) return undefined;
  const browser = typeof navigator !== 'undefined' && gpu === navigator.gpu;
  if (browser || typeof process === 'undefined' || process.env.WGSEG_DEBUG === '1') return gpu.requestAdapter(req);
  const fs = await import(/* @vite-ignore */ 'node:fs');
  // 'closed': fd 2 closed by us and free; 'null': fd 2 is /dev/null; both restore from `saved`
  let saved = -1,
    state: 'as-is' | 'closed' | 'null' = 'as-is';
  try {
    saved = fs.openSync('/dev/fd/2', 'a');
    fs.closeSync(2);
    state = 'closed';
    const nul = fs.openSync('/dev/null', 'w');
    if (nul === 2) state = 'null';
    else fs.closeSync(nul), (state = 'as-is'); // fd 2 was taken in between: not ours to touch
  } catch {}
  let pending: Promise<GPUAdapter | null>;
  try {
    pending = gpu.requestAdapter(req);
  } finally {
    try {
      if (state === 'null') fs.closeSync(2);
      if (state !== 'as-is') fs.openSync(`/dev/fd/${saved}`, 'a'); // the lowest free descriptor: 2 again
    } finally {
      if (saved >= 0) fs.closeSync(saved);
    }
  }
  return (await pending) ?? gpu.requestAdapter(req);
}

function describe(a: GPUAdapter): string {
  const i = a.info;
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') || 'unnamed adapter';
}

function wantedAdapter(opts: GetDeviceOptions): string | undefined {
  const env = typeof process !== 'undefined' ? process.env?.WGSEG_ADAPTER : undefined;
  return env || opts.adapter;
}

async function pickAdapter(opts: GetDeviceOptions): Promise<GPUAdapter> {
  const wanted = wantedAdapter(opts);
  const req = { powerPreference: opts.powerPreference ?? 'high-performance' };
  let adapter: GPUAdapter | null | undefined;
  try {
    adapter = await requestAdapter(await gpuEntry(wanted), req);
  } catch (e) {
    // Dawn in Node throws (rather than resolving null) when no backend suits, e.g. an unknown adapter name
    throw new WgsegError(
      'NO_WEBGPU',
      `No WebGPU adapter available${wanted ? ` (asked for "${wanted}")` : ''}: ${(e as Error).message.replace(/\s*\n\s*/g, '; ')}`,
    );
  }
  // Dawn in Node may pick SwiftShader although Mesa lavapipe (13x faster on CPU) is there.
  if (!wanted && adapter && /swiftshader/i.test(describe(adapter)) && typeof navigator === 'undefined') {
    adapter = (await requestAdapter(await gpuEntry('llvmpipe'), req)) ?? adapter;
  }
  if (!adapter) {
    throw new WgsegError(
      'NO_WEBGPU',
      'No WebGPU adapter available' +
        (wanted ? ` (asked for "${wanted}")` : '') +
        '. In a browser enable WebGPU; in Node install a Vulkan driver (scripts/setup-webgpu.sh).',
    );
  }
  return adapter;
}

function subgroupSizes(adapterInfo: GPUAdapterInfo | undefined, device: GPUDevice) {
  const i = (adapterInfo ?? {}) as { subgroupMinSize?: number; subgroupMaxSize?: number };
  const on = device.features.has('subgroups');
  return { subgroupMinSize: on ? (i.subgroupMinSize ?? 0) : 0, subgroupMaxSize: on ? (i.subgroupMaxSize ?? 0) : 0 };
}

async function createDevice(opts: GetDeviceOptions): Promise<GPUDevice> {
  const adapter = await pickAdapter(opts);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const l = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  infos.set(device, {
    adapter: describe(adapter),
    f16: device.features.has('shader-f16'),
    timestamps: device.features.has('timestamp-query'),
    subgroups: device.features.has('subgroups'),
    ...subgroupSizes(adapter.info, device),
    dot4: hasDot4(await gpuEntry(wantedAdapter(opts))),
  });
  watchLoss(device);
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') console.warn(`wgseg: WebGPU device lost (${info.reason}): ${info.message}`);
  });
  return device;
}
