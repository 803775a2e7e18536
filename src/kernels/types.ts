import type { Runtime } from '../gpu/runtime';
import type { DType, GpuTensor } from '../gpu/tensor';

export type AttrValue = number | string | number[] | string[];
export type Attrs = Record<string, AttrValue | undefined>;
export interface TensorInfo {
  shape: number[];
  dtype: DType;
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
  encode(rt: Runtime, inputs: (GpuTensor | undefined)[], outputs: GpuTensor[], attrs: Attrs, host: HostValues): void;
}
