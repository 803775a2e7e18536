/** The one error type wgseg throws; `code` is stable for callers to switch on. */
export type WgsegErrorCode =
  | 'NO_WEBGPU'
  | 'DEVICE_LOST'
  | 'OUT_OF_MEMORY'
  /** a buffer the plan needs is over the adapter's or the caller's limit (checked before allocating) */
  | 'TOO_LARGE'
  | 'GPU_VALIDATION'
  | 'BAD_SHAPE'
  | 'BAD_ATTRIBUTE'
  | 'BAD_INPUT'
  | 'UNSUPPORTED_OP'
  | 'UNSUPPORTED_DTYPE'
  | 'MALFORMED_FILE'
  | 'SHADER'
  /** the caller's AbortSignal stopped it (SessionOptions.signal) */
  | 'ABORTED';

export class WgsegError extends Error {
  override readonly name = 'WgsegError';
  constructor(
    readonly code: WgsegErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function fail(code: WgsegErrorCode, message: string): never {
  throw new WgsegError(code, message);
}
