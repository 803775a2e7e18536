import { WgsegError } from '../core/errors';
import type { Program } from '../core/op';

/** Debug mode is on by default when the environment has WGSEG_DEBUG=1 (Node). */
export function debugFromEnv(): boolean {
  return typeof process !== 'undefined' && process.env?.WGSEG_DEBUG === '1';
}

function describeBuffers(p: Program): string {
  return Object.entries(p.buffers)
    .map(([name, b]) => `${name}: ${b.size} B, usage 0x${b.usage.toString(16)}`)
    .join('; ');
}

/**
 * Debug mode's validation error scopes: one per dispatch (pipeline creation, bind group, pass,
 * finish), each popped promise kept with the kernel it belongs to; `check()` awaits them and throws
 * the first error as WgsegError('GPU_VALIDATION') naming the kernel, its shapes and buffers.
 */
export class DebugScopes {
  private pending: Promise<string | null>[] = [];

  open(device: GPUDevice): void {
    device.pushErrorScope('validation');
  }

  /** Close the scope of one dispatch. */
  close(device: GPUDevice, p: Program, context: string): void {
    const where =
      `${context ? `${context}: ` : ''}kernel ${p.name} (shader ${p.shader}${p.entry ? `:${p.entry}` : ''}, ` +
      `workgroups ${p.workgroups.map((w) => w ?? 1).join('x')}; buffers ${describeBuffers(p)})`;
    this.closeAs(device, where);
  }

  /** Close a scope around something else (the submit). */
  closeAs(device: GPUDevice, where: string): void {
    this.pending.push(device.popErrorScope().then((e) => (e ? `${where}: ${e.message.trim()}` : null)));
  }

  async check(): Promise<void> {
    if (!this.pending.length) return;
    const all = this.pending;
    this.pending = [];
    const errors = (await Promise.all(all)).filter((e): e is string => e !== null);
    if (errors.length) {
      const more =
        errors.length > 1 ? ` (and ${errors.length - 1} more validation error${errors.length > 2 ? 's' : ''})` : '';
      throw new WgsegError('GPU_VALIDATION', `${errors[0]}${more}`);
    }
  }

  clear(): void {
    this.pending = [];
  }
}
