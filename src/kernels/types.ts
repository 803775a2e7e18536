import type { Runtime } from '../gpu/runtime';
import type { DType, GpuTensor } from '../gpu/tensor';

export type AttrValue = number | string | number[] | string[];
export type Attrs = Record<string, AttrValue | undefined>;
export interface TensorInfo {
  shape: number[];
  dtype: DType;
}
/** A prepacked constant: host values in the kernel's layout, the dtype to upload them as, a key naming the layout. */
export interface Packed {
  data: Float32Array;
  dtype: DType;
  key: string;
}

/** Host-side values of the inputs listed in `hostInputs` (int64 arrives as plain numbers). */
export type HostValues = (number[] | undefined)[];

/**
 * One operator, ONNX semantics (NCHW at the API). Plain object, no classes: the registry maps the
 * ONNX op type to it. `infer` is pure (no GPU), `encode` records dispatches into the runtime.
 */
export interface OpKernel {
  op: string;
  /** input indices read on the host at plan time (Resize scales/sizes, Pad pads, Reshape shape...) */
  hostInputs?: number[];
  /** the output is a view of input 0 with a new shape: no dispatch, no allocation */
  view?: boolean;
  infer(inputs: (TensorInfo | undefined)[], attrs: Attrs, host: HostValues): TensorInfo[];
  /**
   * A constant input (weights) rearranged on the host, once, when the executor uploads constants:
   * encode then gets it in that input's place with `packed` set to the returned key (an input that
   * is not a constant arrives as it is, and the kernel packs it on the GPU). undefined: keep as is.
   */
  prepack?(rt: Runtime, index: number, data: ArrayLike<number>, inputs: (TensorInfo | undefined)[], attrs: Attrs): Packed | undefined;
  encode(rt: Runtime, inputs: (GpuTensor | undefined)[], outputs: GpuTensor[], attrs: Attrs, host: HostValues): void;
}
