import { ByteBuffer } from 'flatbuffers';
import { fromHalf } from '../core/dtype';
import { WgsegError } from '../core/errors';
import type { ConstData } from '../core/dtype';
import type { Graph, Node, ValueDesc } from '../graph/ir';
import type { Attrs } from '../core/attrs';
import {
  BUILTIN,
  OPTIONS_TAG,
  opts,
  readModel,
  TfliteFormatError,
  type Tab,
  type TflModel,
  type TflOperator,
  type TflTensor,
} from './tflite-schema';

/**
 * TFLite flatbuffer (schema v3) bytes -> graph IR, the same IR as ONNX (src/graph/ir.ts), with ONNX
 * op names and attributes. TFLite is NHWC; wgseg's kernels are NCHW. The layout changes once, at the
 * graph edges: every rank-4 input gets a Transpose to NCHW and every rank-4 output a Transpose back,
 * so the graph's inputs and outputs keep the file's NHWC shapes. Inside, a rank-4 value is NCHW and
 * any other rank keeps TFLite's order; weights are re-laid out at load (OHWI -> OIHW, depthwise
 * 1HW(C*M) -> (C*M)1HW, transposed conv OHWI -> IOHW), axes are remapped, SAME padding becomes
 * explicit pads (the extra one at the end, as TensorFlow). DEQUANTIZE of a constant (fp16, or int8 /
 * uint8 with scale and zero point) is folded into a float32 constant.
 * Every error is a WgsegError whose message starts with `source` and names the operator index.
 */

const OPSET = 17;
/** NHWC axis -> NCHW axis */
const AXIS4 = [0, 2, 3, 1];
const ACT: Record<number, string> = { 1: 'Relu', 2: 'RELU_N1_TO_1', 3: 'RELU6', 4: 'Tanh' };
const UNARY: Record<string, string> = { RELU: 'Relu', LOGISTIC: 'Sigmoid', HARD_SWISH: 'HardSwish', TANH: 'Tanh' };
const BINARY: Record<string, string> = { ADD: 'Add', MUL: 'Mul', SUB: 'Sub', DIV: 'Div' };

interface HostConst {
  shape: number[];
  type: 'float32' | 'int32' | 'int64';
  data: Float32Array | Int32Array | Float64Array;
}

type Fail = (code: WgsegError['code'], msg: string) => never;

export function importTflite(bytes: Uint8Array, source: string): Graph {
  const fail: Fail = (code, msg) => {
    throw new WgsegError(code, `${source}: ${msg}`);
  };
  if (bytes.byteLength < 8) fail('MALFORMED_FILE', `file too short (${bytes.byteLength} bytes) for a TFLite model`);
  const tag = String.fromCharCode(...bytes.subarray(4, 8));
  if (tag !== 'TFL3')
    fail(
      'MALFORMED_FILE',
      `not a TFLite v3 model (file identifier "${tag.replace(/[^\x20-\x7e]/g, '?')}", expected "TFL3")`,
    );
  let model: TflModel;
  try {
    model = readModel(bytes);
  } catch (e) {
    if (e instanceof TfliteFormatError) fail('MALFORMED_FILE', `corrupt TFLite flatbuffer: ${e.message}`);
    throw e;
  }
  if (model.version !== 3) fail('MALFORMED_FILE', `schema version ${model.version} is not supported (3 is)`);
  if (model.subgraphs.length === 0) fail('MALFORMED_FILE', 'the model has no subgraph');
  const imp = new Importer(model, source, fail);
  try {
    return imp.run();
  } catch (e) {
    // option tables and custom data are read lazily, while converting: a bad offset there is the same corruption
    if (e instanceof TfliteFormatError)
      fail('MALFORMED_FILE', `${imp.where ? `${imp.where}: ` : ''}corrupt TFLite flatbuffer: ${e.message}`);
    throw e;
  }
}

/** Row-major permutation of host data: out shape = perm.map(p => shape[p]). */
function permute<T extends Float32Array | Int32Array | Float64Array>(data: T, shape: number[], perm: number[]): T {
  const r = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStride = new Array<number>(r);
  for (let d = r - 1, s = 1; d >= 0; d--) (inStride[d] = s), (s *= shape[d]);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let d = 0; d < r; d++) src += idx[d] * inStride[perm[d]];
    out[o] = data[src];
    for (let d = r - 1; d >= 0 && ++idx[d] === outShape[d]; d--) idx[d] = 0;
  }
  return out;
}

/** TensorFlow SAME padding of one axis: [begin, end], the odd one at the end. */
function samePads(len: number, k: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(len / stride);
  const total = Math.max((out - 1) * stride + (k - 1) * dilation + 1 - len, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

class Importer {
  private readonly g;
  private readonly values = new Map<string, ValueDesc>();
  private readonly nodes: Node[] = [];
  /** per tensor: its IR base name (unique) */
  private readonly names: string[];
  /** tensor -> IR value holding it (NCHW when rank 4) */
  private readonly held = new Map<number, string>();
  /** constant tensors (file buffers and folded DEQUANTIZE), in TFLite layout */
  private readonly consts = new Map<number, HostConst>();
  /** constants whose stored type needs a DEQUANTIZE before float use */
  private readonly raw = new Map<number, string>();
  /** the operator being converted, for messages */
  where = '';

  constructor(
    private readonly model: TflModel,
    private readonly source: string,
    private readonly fail: Fail,
  ) {
    this.g = model.subgraphs[0];
    const seen = new Set<string>();
    this.names = this.g.tensors.map((t, i) => {
      let n = t.name || `tensor${i}`;
      if (seen.has(n)) n = `${n}#${i}`;
      seen.add(n);
      return n;
    });
  }

  run(): Graph {
    const { g, fail } = this;
    g.tensors.forEach((t, i) => {
      // TFLite marks unknown dims in shape_signature; a shape itself holds sizes
      if (t.shape.some((d) => d < 0))
        fail('BAD_SHAPE', `tensor "${this.names[i]}" has shape [${t.shape}]: a dim is negative`);
      if (t.shape.reduce((a, b) => a * b, 1) > 2 ** 31)
        fail('BAD_SHAPE', `tensor "${this.names[i]}" [${t.shape}] has more than 2^31 elements`);
    });
    g.tensors.forEach((t, i) => this.loadConst(t, i));
    const inputs: string[] = [];
    for (const i of g.inputs) {
      const t = this.tensor(i, 'subgraph input');
      if (t.type !== 'FLOAT32')
        fail('UNSUPPORTED_DTYPE', `input "${t.name}" has type ${t.type}; wgseg takes float32 TFLite inputs`);
      const name = this.names[i];
      this.values.set(name, { name, type: 'float32', shape: [...t.shape] });
      inputs.push(name);
      if (t.shape.length === 4)
        this.emit('Transpose', name, [name], [this.held.set(i, `${name}/nchw`).get(i)!], { perm: [0, 3, 1, 2] });
      else this.held.set(i, name);
    }
    g.operators.forEach((op, k) => this.convert(op, k));
    const outputs = g.outputs.map((i) => {
      const t = this.tensor(i, 'subgraph output');
      const v = this.held.get(i) ?? fail('MALFORMED_FILE', `output "${t.name}" is not produced by any operator`);
      if (t.shape.length !== 4 || g.inputs.includes(i)) return v;
      const name = this.names[i];
      this.emit('Transpose', `${name}/nhwc`, [v], [name], { perm: [0, 2, 3, 1] });
      return name;
    });
    return { source: this.source, nodes: this.nodes, values: this.values, inputs, outputs };
  }

  private tensor(i: number, what: string): TflTensor {
    return (
      this.g.tensors[i] ??
      this.fail(
        'MALFORMED_FILE',
        `${this.where || what}: tensor index ${i} is out of range (${this.g.tensors.length} tensors)`,
      )
    );
  }

  private loadConst(t: TflTensor, i: number): void {
    if (t.buffer === 0) return;
    const raw =
      this.model.buffers[t.buffer] ??
      this.fail('MALFORMED_FILE', `tensor "${t.name}" refers to buffer ${t.buffer} of ${this.model.buffers.length}`);
    if (raw.length === 0) return;
    const n = t.shape.reduce((a, b) => a * b, 1);
    const size: Record<string, number> = { FLOAT32: 4, FLOAT16: 2, INT32: 4, INT64: 8, INT8: 1, UINT8: 1 };
    if (!(t.type in size)) return; // refused where it is used
    if (raw.length !== n * size[t.type])
      this.fail(
        'MALFORMED_FILE',
        `tensor "${t.name}" [${t.shape}] ${t.type} has ${raw.length} bytes of data, expected ${n * size[t.type]}`,
      );
    const copy = new Uint8Array(raw).buffer; // an aligned copy (Buffer.slice would be a view)
    const c: HostConst =
      t.type === 'FLOAT32'
        ? { shape: t.shape, type: 'float32', data: new Float32Array(copy) }
        : t.type === 'INT32'
          ? { shape: t.shape, type: 'int32', data: new Int32Array(copy) }
          : t.type === 'INT64'
            ? { shape: t.shape, type: 'int64', data: Float64Array.from(new BigInt64Array(copy), Number) }
            : t.type === 'FLOAT16'
              ? { shape: t.shape, type: 'float32', data: Float32Array.from(new Uint16Array(copy), fromHalf) }
              : {
                  shape: t.shape,
                  type: 'int32',
                  data:
                    t.type === 'INT8' ? Int32Array.from(new Int8Array(copy)) : Int32Array.from(new Uint8Array(copy)),
                };
    if (t.type === 'INT8' || t.type === 'UINT8' || t.type === 'FLOAT16') this.raw.set(i, t.type);
    this.consts.set(i, c);
  }
  private emit(op: string, name: string, inputs: string[], outputs: string[], attrs: Attrs = {}): void {
    this.nodes.push({ op, name, inputs, outputs, attrs: { __opset: OPSET, ...attrs } });
  }

  /** A host constant as an IR value (shape and data as given), named after the tensor and its layout. */
  private constValue(
    i: number,
    tag: string,
    shape: number[],
    data: ConstData,
    type: 'float32' | 'int64' = 'float32',
  ): string {
    const name = `${this.names[i]}${tag}`;
    if (!this.values.has(name)) this.values.set(name, { name, type, shape, data });
    return name;
  }

  private floatConst(i: number): HostConst | undefined {
    const c = this.consts.get(i);
    if (c && this.raw.has(i))
      this.fail(
        'UNSUPPORTED_DTYPE',
        `${this.where}: constant "${this.names[i]}" is ${this.raw.get(i)} without a DEQUANTIZE`,
      );
    return c && { ...c, data: c.data instanceof Float32Array ? c.data : Float32Array.from(c.data) };
  }

  /** Weights in the layout a kernel wants: a constant permuted on the host. */
  private weight(i: number, perm: number[], what: string): { name: string; shape: number[] } {
    const c =
      this.floatConst(i) ?? this.fail('UNSUPPORTED_OP', `${this.where}: ${what} "${this.names[i]}" must be a constant`);
    if (c.shape.length !== perm.length)
      this.fail(
        'BAD_SHAPE',
        `${this.where}: ${what} "${this.names[i]}" has shape [${c.shape}], expected rank ${perm.length}`,
      );
    const shape = perm.map((p) => c.shape[p]);
    return {
      name: this.constValue(
        i,
        perm.length > 1 ? `/${perm.join('')}` : '',
        shape,
        perm.length > 1 ? permute(c.data as Float32Array, c.shape, perm) : c.data,
      ),
      shape,
    };
  }

  /** The IR value of an activation input; a constant operand is laid out to broadcast against a rank-`rank` result. */
  private act(i: number, rank = 0): string {
    const c = this.floatConst(i);
    if (c) {
      if (rank !== 4) return this.constValue(i, '', c.shape, c.data);
      if (c.shape.length > 4)
        this.fail('BAD_SHAPE', `${this.where}: constant "${this.names[i]}" [${c.shape}] has rank over 4`);
      const s4 = [...new Array(4 - c.shape.length).fill(1), ...c.shape];
      return this.constValue(
        i,
        '/nchw',
        [s4[0], s4[3], s4[1], s4[2]],
        permute(c.data as Float32Array, s4, [0, 3, 1, 2]),
      );
    }
    const v =
      this.held.get(i) ??
      this.fail(
        'MALFORMED_FILE',
        `${this.where}: input tensor "${this.names[i]}" is used before any operator produces it`,
      );
    if (rank === 4 && this.tensor(i, '').shape.length !== 4)
      this.fail(
        'UNSUPPORTED_OP',
        `${this.where}: broadcasting "${this.names[i]}" [${this.tensor(i, '').shape}] against a rank-4 result is not supported`,
      );
    return v;
  }

  private hostInts(i: number, what: string): number[] {
    const c = this.consts.get(i);
    if (!c || c.type === 'float32')
      this.fail('UNSUPPORTED_OP', `${this.where}: ${what} must be a constant int32 tensor`);
    return Array.from(c!.data);
  }

  private options(op: TflOperator, tag: number): Tab {
    if (op.optionsType !== tag || !op.options)
      this.fail(
        'MALFORMED_FILE',
        `${this.where}: builtin options are missing or of the wrong type (tag ${op.optionsType}, expected ${tag})`,
      );
    return op.options!;
  }

  /** Defines the op's output tensor `o`, with a fused activation after `build` when `act` says so. */
  private out(o: number, act: number, build: (name: string) => void): void {
    let name = this.names[o];
    if (this.held.has(o) || this.consts.has(o))
      this.fail('MALFORMED_FILE', `${this.where}: tensor "${name}" is written twice`);
    if (this.g.outputs.includes(o) && this.tensor(o, '').shape.length === 4) name = `${name}/nchw`; // the NHWC name is the graph output's
    this.held.set(o, name);
    if (!act) return build(name);
    const pre = `${name}/pre_act`;
    build(pre);
    const kind = ACT[act] ?? this.fail('UNSUPPORTED_OP', `${this.where}: fused activation ${act} is not supported`);
    if (kind === 'Relu' || kind === 'Tanh') return this.emit(kind, `${name}/act`, [pre], [name]);
    const [lo, hi] = kind === 'RELU6' ? [0, 6] : [-1, 1];
    this.emit('Clip', `${name}/act`, [pre, this.scalar(lo), this.scalar(hi)], [name]);
  }

  private scalar(v: number): string {
    const name = `__tflite_const_${v}`;
    if (!this.values.has(name)) this.values.set(name, { name, type: 'float32', shape: [], data: Float32Array.of(v) });
    return name;
  }

  private shape4(i: number, what: string): number[] {
    const s = this.tensor(i, '').shape;
    if (s.length !== 4)
      this.fail('BAD_SHAPE', `${this.where}: ${what} "${this.names[i]}" has shape [${s}], expected NHWC rank 4`);
    return s;
  }

  private convert(op: TflOperator, k: number): void {
    const code =
      this.model.opcodes[op.opcode] ??
      this.fail(
        'MALFORMED_FILE',
        `operator #${k}: opcode index ${op.opcode} is out of range (${this.model.opcodes.length} operator codes)`,
      );
    const opName =
      code.builtin === 32 ? code.custom || 'CUSTOM' : (BUILTIN[code.builtin] ?? `builtin op ${code.builtin}`);
    this.where = `operator #${k} (${opName})`;
    for (const i of [...op.inputs, ...op.outputs]) if (i !== -1) this.tensor(i, '');
    if (op.outputs.length < 1) this.fail('MALFORMED_FILE', `${this.where} has no outputs`);
    const own = op.inputs.find((i) => i !== -1 && op.outputs.includes(i));
    if (own !== undefined) this.fail('MALFORMED_FILE', `${this.where} reads its own output "${this.names[own]}"`);
    const [x, w, b] = op.inputs;
    const o = op.outputs[0];
    const ot = this.tensor(o, '');
    if (opName !== 'DEQUANTIZE' && ot.type !== 'FLOAT32')
      this.fail(
        'UNSUPPORTED_DTYPE',
        `${this.where}: output "${ot.name}" has type ${ot.type}; only float32 models are supported (quantized ones are not)`,
      );
    const name = this.names[o];
    const ins = (n: number) =>
      op.inputs.length >= n || this.fail('MALFORMED_FILE', `${this.where} has ${op.inputs.length} inputs, needs ${n}`);
    switch (opName) {
      case 'DEQUANTIZE':
        return this.dequantize(x, o);
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        ins(2);
        const dw = opName === 'DEPTHWISE_CONV_2D';
        const a = dw
          ? opts.depthwise(this.options(op, OPTIONS_TAG.DepthwiseConv2DOptions))
          : opts.conv(this.options(op, OPTIONS_TAG.Conv2DOptions));
        const [, H, W, C] = this.shape4(x, 'input');
        const wt = this.weight(w, dw ? [3, 0, 1, 2] : [0, 3, 1, 2], 'filter');
        const [kh, kw] = wt.shape.slice(2);
        const group = dw ? C : C / wt.shape[1];
        if (!Number.isInteger(group) || (dw && wt.shape[0] % C))
          this.fail(
            'BAD_SHAPE',
            `${this.where}: filter [${this.tensor(w, '').shape}] does not fit ${C} input channels`,
          );
        const [pt, pb] = a.padding === 0 ? samePads(H, kh, a.strideH, a.dilH) : [0, 0];
        const [pl, pr] = a.padding === 0 ? samePads(W, kw, a.strideW, a.dilW) : [0, 0];
        const inputs = [
          this.act(x),
          wt.name,
          ...(b !== undefined && b !== -1 ? [this.weight(b, [0], 'bias').name] : []),
        ];
        const attrs = {
          kernel_shape: [kh, kw],
          strides: [a.strideH, a.strideW],
          dilations: [a.dilH, a.dilW],
          pads: [pt, pl, pb, pr],
          group,
        };
        return this.out(o, a.act, (n) => this.emit('Conv', name, inputs, [n], attrs));
      }
      case 'Convolution2DTransposeBias': {
        ins(3);
        const c = op.custom ?? this.fail('MALFORMED_FILE', `${this.where}: custom options are missing`);
        if (c.length < 12)
          this.fail(
            'MALFORMED_FILE',
            `${this.where}: custom options have ${c.length} bytes, expected 12 (padding, stride_w, stride_h)`,
          );
        const bb = new ByteBuffer(c.slice(0, 12));
        const [padding, sw, sh] = [bb.readInt32(0), bb.readInt32(4), bb.readInt32(8)];
        if (padding !== 1 && padding !== 2)
          this.fail('BAD_ATTRIBUTE', `${this.where}: padding ${padding} is neither SAME (1) nor VALID (2)`);
        if (sw < 1 || sh < 1) this.fail('BAD_ATTRIBUTE', `${this.where}: strides ${sh}x${sw} must be positive`);
        const [, H, W] = this.shape4(x, 'input');
        const wt = this.weight(w, [3, 0, 1, 2], 'filter'); // OHWI -> IOHW
        const [kh, kw] = wt.shape.slice(2);
        // MediaPipe: total = max(0, k - (in - 1) % s - 1) for SAME, the begin pad total / 2
        const th = padding === 1 ? Math.max(0, kh - ((H - 1) % sh) - 1) : 0;
        const tw = padding === 1 ? Math.max(0, kw - ((W - 1) % sw) - 1) : 0;
        const pads = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
        const attrs = { kernel_shape: [kh, kw], strides: [sh, sw], pads, group: 1 };
        return this.out(o, 0, (n) =>
          this.emit('ConvTranspose', name, [this.act(x), wt.name, this.weight(b, [0], 'bias').name], [n], attrs),
        );
      }
      case 'AVERAGE_POOL_2D':
      case 'MAX_POOL_2D': {
        const a = opts.pool(this.options(op, OPTIONS_TAG.Pool2DOptions));
        const [, H, W] = this.shape4(x, 'input');
        const [pt, pb] = a.padding === 0 ? samePads(H, a.filterH, a.strideH, 1) : [0, 0];
        const [pl, pr] = a.padding === 0 ? samePads(W, a.filterW, a.strideW, 1) : [0, 0];
        const attrs = {
          kernel_shape: [a.filterH, a.filterW],
          strides: [a.strideH, a.strideW],
          pads: [pt, pl, pb, pr],
          count_include_pad: 0,
        };
        return this.out(o, a.act, (n) =>
          this.emit(opName === 'MAX_POOL_2D' ? 'MaxPool' : 'AveragePool', name, [this.act(x)], [n], attrs),
        );
      }
      case 'ADD':
      case 'MUL':
      case 'SUB':
      case 'DIV': {
        ins(2);
        const tag = { ADD: OPTIONS_TAG.AddOptions, MUL: OPTIONS_TAG.MulOptions, SUB: 28, DIV: 29 }[opName];
        const act = op.options ? opts.act(this.options(op, tag)).act : 0;
        const r = ot.shape.length;
        return this.out(o, act, (n) => this.emit(BINARY[opName], name, [this.act(x, r), this.act(w, r)], [n]));
      }
      case 'RELU':
      case 'LOGISTIC':
      case 'HARD_SWISH':
      case 'TANH':
        return this.out(o, 0, (n) => this.emit(UNARY[opName], name, [this.act(x)], [n]));
      case 'RELU6':
        return this.out(o, 0, (n) => this.emit('Clip', name, [this.act(x), this.scalar(0), this.scalar(6)], [n]));
      case 'CONCATENATION': {
        const a = opts.concat(this.options(op, OPTIONS_TAG.ConcatenationOptions));
        const r = ot.shape.length;
        const axis = a.axis < 0 ? a.axis + r : a.axis;
        if (axis < 0 || axis >= r)
          this.fail('BAD_ATTRIBUTE', `${this.where}: axis ${a.axis} is out of range for rank ${r}`);
        return this.out(o, a.act, (n) =>
          this.emit(
            'Concat',
            name,
            op.inputs.map((i) => this.act(i, r)),
            [n],
            { axis: r === 4 ? AXIS4[axis] : axis },
          ),
        );
      }
      case 'MEAN':
        ins(2);
        return this.mean(
          x,
          o,
          this.hostInts(w, 'axes'),
          opts.reducer(this.options(op, OPTIONS_TAG.ReducerOptions)).keepDims,
        );
      case 'RESIZE_BILINEAR': {
        ins(2);
        const a = opts.resize(this.options(op, OPTIONS_TAG.ResizeBilinearOptions));
        const [N, , , C] = this.shape4(x, 'input');
        const size = this.hostInts(w, 'size');
        if (size.length !== 2)
          this.fail('BAD_SHAPE', `${this.where}: size has ${size.length} values, expected 2 (height, width)`);
        const sizes = this.constValue(w, '/sizes', [4], Float64Array.from([N, C, ...size]), 'int64');
        const coord = a.alignCorners ? 'align_corners' : a.halfPixelCenters ? 'half_pixel' : 'asymmetric';
        return this.out(o, 0, (n) =>
          this.emit('Resize', name, [this.act(x), '', '', sizes], [n], {
            mode: 'linear',
            coordinate_transformation_mode: coord,
          }),
        );
      }
      default:
        return this.fail('UNSUPPORTED_OP', `${this.where}: op ${opName} is not supported by wgseg's TFLite import`);
    }
  }

  /** DEQUANTIZE of a constant: fp16 -> f32, int8/uint8 -> scale * (q - zero_point) (per tensor or per axis). */
  private dequantize(x: number, o: number): void {
    const t = this.tensor(x, '');
    const c = this.consts.get(x);
    if (!c || !this.raw.has(x))
      this.fail(
        'UNSUPPORTED_OP',
        `${this.where}: only DEQUANTIZE of a constant fp16/int8/uint8 tensor is supported ("${t.name}" is ${c ? t.type : 'not constant'})`,
      );
    let data = c!.data as Float32Array;
    if (this.raw.get(x) !== 'FLOAT16') {
      const q = t.quant ?? this.fail('MALFORMED_FILE', `${this.where}: "${t.name}" has no quantization parameters`);
      const axis = q.scale.length > 1 ? q.axis : -1;
      const inner = axis < 0 ? 1 : t.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
      const per = axis < 0 ? 1 : t.shape[axis];
      if (axis >= 0 && q.scale.length !== per)
        this.fail(
          'MALFORMED_FILE',
          `${this.where}: "${t.name}" has ${q.scale.length} scales for dim ${axis} of [${t.shape}]`,
        );
      data = Float32Array.from(c!.data, (v, j) => {
        const ch = axis < 0 ? 0 : Math.floor(j / inner) % per;
        return q.scale[ch] * (v - (q.zeroPoint[ch] ?? 0));
      });
    }
    if (this.held.has(o) || this.consts.has(o))
      this.fail('MALFORMED_FILE', `${this.where}: tensor "${this.names[o]}" is written twice`);
    this.consts.set(o, { shape: c!.shape, type: 'float32', data });
  }

  /** MEAN over NHWC axes; without keep_dims the result leaves NCHW: keep the dims, go back to NHWC, then reshape. */
  private mean(x: number, o: number, axes: number[], keep: boolean): void {
    const r = this.tensor(x, '').shape.length;
    const norm = axes.map((a) => (a < 0 ? a + r : a));
    if (norm.some((a) => a < 0 || a >= r))
      this.fail('BAD_ATTRIBUTE', `${this.where}: axes [${axes}] out of range for rank ${r}`);
    const name = this.names[o];
    if (r !== 4)
      return this.out(o, 0, (n) =>
        this.emit('ReduceMean', name, [this.act(x)], [n], { axes: norm, keepdims: keep ? 1 : 0 }),
      );
    const mapped = norm.map((a) => AXIS4[a]);
    if (keep)
      return this.out(o, 0, (n) => this.emit('ReduceMean', name, [this.act(x)], [n], { axes: mapped, keepdims: 1 }));
    const shape = this.constValue(
      o,
      '/shape',
      [this.tensor(o, '').shape.length],
      Float64Array.from(this.tensor(o, '').shape),
      'int64',
    );
    this.out(o, 0, (n) => {
      this.emit('ReduceMean', name, [this.act(x)], [`${name}/kept`], { axes: mapped, keepdims: 1 });
      this.emit('Transpose', `${name}/nhwc`, [`${name}/kept`], [`${name}/kept_nhwc`], { perm: [0, 2, 3, 1] });
      this.emit('Reshape', `${name}/reshape`, [`${name}/kept_nhwc`, shape], [n]);
    });
  }
}
