import type { Attrs } from './attrs';
import type { ConstData, DType, ElemType, Precision } from './dtype';

/**
 * The op record: everything wgseg knows about one operator, in one object (tfjs' KernelConfig, ORT's
 * op resolve rules). The graph layer asks the registry for the record and never names an op:
 * shape and dtype inference, host evaluation for constant folding, inputs read on the host, view
 * behaviour, the folding and planning flags, prepacking of constant weights, and the GPU kernel.
 */

export interface TensorInfo {
  shape: number[];
  dtype: DType;
}

/** A tensor living in a GPU buffer (row-major). Several tensors may view one buffer (reshape). */
export interface GpuTensor {
  buffer: GPUBuffer;
  shape: number[];
  dtype: DType;
  /** a constant in a kernel's own layout (OpRecord.prepack's key); `shape` and `dtype` are still the logical ones */
  packed?: string;
}

/** A tensor on the host, at the graph level (what constant folding computes with). */
export interface HostTensor {
  type: ElemType;
  shape: number[];
  data: ConstData;
}

/** Host-side values of the inputs listed in `hostInputs` (int64 arrives as plain numbers). */
export type HostValues = (number[] | undefined)[];

/** A prepacked constant: host values in the kernel's layout, the dtype to upload them as, a key naming the layout. */
export interface Packed {
  /** Uint32Array: words as they are (e.g. 8-bit integers packed four to a u32, uploaded as dtype 'u32') */
  data: Float32Array | Uint32Array;
  dtype: DType;
  key: string;
}

export type Defines = Record<string, string | number>;
export type UniformValues = Record<string, number | readonly number[]>;

/** One dispatch, described as data (ORT's ProgramInfo): the kernel files build these. */
export interface Program {
  /** kernel name + shape summary, for profiles and errors */
  name: string;
  /** 'family/file.wgsl' */
  shader: string;
  entry?: string;
  defines?: Defines;
  overrides?: Record<string, number>;
  /** values for the shader's uniform struct, by field name */
  uniforms?: UniformValues;
  /** storage buffers by the WGSL variable name */
  buffers: Record<string, GPUBuffer>;
  /** the uniform struct already packed (packUniforms) in a buffer the caller owns, instead of `uniforms` */
  uniformBuffer?: GPUBuffer;
  /** sampled textures (texture_2d<f32>...) and storage textures (texture_storage_2d) by the WGSL variable name */
  textures?: Record<string, GPUTextureView>;
  /** samplers by the WGSL variable name */
  samplers?: Record<string, GPUSampler>;
  /** external textures (a video imported by importExternalTexture) by the WGSL variable name */
  externalTextures?: Record<string, GPUExternalTexture>;
  workgroups: [number, number?, number?];
}

/** What a kernel may know about the device it runs on. */
export interface DeviceInfo {
  adapter: string;
  f16: boolean;
  timestamps: boolean;
  subgroups: boolean;
  /** smallest subgroup size the adapter may use (0 when unknown or without subgroups) */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** WGSL language feature packed_4x8_integer_dot_product (dot4I8Packed, dot4U8Packed, pack4xI8...) */
  dot4: boolean;
}

/**
 * What a kernel sees of the GPU (ORT JSEP's ComputeContext): record a dispatch or a copy, borrow
 * scratch buffers, read device facts. Scratch is released right after the dispatches that use it
 * (release is deferred until submit, so that is safe).
 */
export interface KernelContext {
  readonly info: DeviceInfo;
  dispatch(p: Program): void;
  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number, srcOffset?: number, dstOffset?: number): void;
  /** scratch tensors from the pool, and their release */
  alloc(shape: number[], dtype?: DType): GpuTensor;
  upload(data: ArrayLike<number>, shape: number[], dtype?: DType): GpuTensor;
  release(...ts: GpuTensor[]): void;
  /** raw scratch buffers */
  readonly pool: { acquire(bytes: number): GPUBuffer; release(buf: GPUBuffer): void };
}

/** What host evaluation sees of a node: its op, attributes and tensor-valued attributes (Constant). */
export interface FoldNode {
  op: string;
  attrs: Attrs;
  tensors?: Record<string, HostTensor>;
}

/**
 * One way to run an op on the GPU. A heavy op lists several (OpRecord.variants), each with a
 * predicate (shapes, attributes, device features); with tuning off the first that applies runs,
 * else the fastest measured on this adapter (src/graph/tuning.ts). A variant's `prepack` lays out
 * constant weights for its own kernel.
 */
export interface Variant {
  name: string;
  /** whether this variant can run these inputs here (default: always) */
  applies?(inputs: (TensorInfo | undefined)[], attrs: Attrs, info: DeviceInfo): boolean;
  /**
   * whether the default choice (nothing measured or forced) may be this variant on this device
   * (default: yes); it stays a candidate for tuning and forcing either way
   */
  defaultOn?(info: DeviceInfo): boolean;
  /**
   * A variant of the same op (its name) that runs the plan's first run instead of this one, while
   * this one's pipeline is made behind it (a kernel that is slow to compile, where a simple one is
   * quick to compile and cheap enough once): the session swaps at its second run. Undefined: none.
   */
  firstRun?(inputs: (TensorInfo | undefined)[], attrs: Attrs, info: DeviceInfo): string | undefined;
  prepack?: OpRecord['prepack'];
  encode: NonNullable<OpRecord['encode']>;
}

export interface OpRecord {
  /** the op type (ONNX name, or an engine-internal one a fusion rule makes: FusedConv, HardSwish) */
  op: string;
  /** input indices read on the host at plan time (Resize scales/sizes, Pad pads, Reshape shape...) */
  hostInputs?: number[];
  /** the output is a view of input 0 with a new shape: no dispatch, no allocation */
  view?: boolean;
  /** shapes and GPU dtypes of the outputs; pure (no GPU). Absent: the op runs on the host only (it must fold). */
  infer?(inputs: (TensorInfo | undefined)[], attrs: Attrs, host: HostValues): TensorInfo[];
  /** host evaluation (constant folding), f64 on small tensors; `cap` bounds the result's elements (outShape) */
  fold?(inputs: (HostTensor | undefined)[], attrs: Attrs, node: FoldNode): HostTensor;
  /** 'free': folds at any size (the result shares its input's data); 'output': host cost follows the output, not the inputs */
  foldCost?: 'free' | 'output';
  /** reads only its input's shape: folds even when the input is computed on the GPU (Shape, Size) */
  shapeOnly?: boolean;
  /** integer outputs are values of its inputs (moved, selected, clamped) or wrapped by the op itself: narrow types stay in range */
  keepsRange?: boolean;
  /** makes a non-empty output from an empty GPU input correctly (concatenated or padded pieces, reductions over nothing) */
  emptyInputOk?: boolean;
  /**
   * the graph-level type of output `index` (default 0) when the op decides it (Cast's `to`, QuantizeLinear's
   * zero point type); else it follows the inputs
   */
  outputType?(attrs: Attrs, inputs?: readonly (ElemType | undefined)[], index?: number): ElemType | undefined;
  /** attributes as the kernel runs them, from the inputs' graph-level types and the session's precision (Cast, CastLike) */
  planAttrs?(attrs: Attrs, inputs: (ElemType | undefined)[], precision: Precision): Attrs;
  /**
   * A constant input (weights) rearranged on the host, once, when the executor uploads constants:
   * encode then gets it in that input's place with `packed` set to the returned key (an input that
   * is not a constant arrives as it is, and the kernel packs it on the GPU). undefined: keep as is.
   */
  prepack?(
    ctx: KernelContext,
    index: number,
    data: ArrayLike<number>,
    inputs: (TensorInfo | undefined)[],
    attrs: Attrs,
  ): Packed | undefined;
  /** record the op's dispatches */
  encode?(
    ctx: KernelContext,
    inputs: (GpuTensor | undefined)[],
    outputs: GpuTensor[],
    attrs: Attrs,
    host: HostValues,
  ): void;
  /**
   * Alternative GPU implementations (see Variant), in default order. A record with variants sets
   * `encode`/`prepack` to `pickDefault` of them (src/kernels/variants.ts) so that it also runs
   * where nothing was chosen.
   */
  variants?: Variant[];
  /**
   * The tuning key's shape part ("anchor"): nodes whose inputs give the same class share one
   * measured choice. Default: the inputs' dims rounded up to powers of two, and the dtype.
   */
  shapeClass?(inputs: (TensorInfo | undefined)[], attrs: Attrs): string;
}

/** A record that runs on the GPU. */
export type OpKernel = OpRecord & Required<Pick<OpRecord, 'infer' | 'encode'>>;

export const isKernel = (r: OpRecord | undefined): r is OpKernel => !!r?.infer && !!r.encode;
