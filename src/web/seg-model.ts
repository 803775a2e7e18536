import { WgsegError } from '../core/errors';
import type { Runtime } from '../gpu/runtime';
import { Session, type SessionOptions } from '../session';
import type { InputLayout } from './preprocess';

/** A loaded segmentation model: one RGB image input (float32) and a one-channel mask output (its first). */
export interface SegModel {
  session: Session;
  input: string;
  output: string;
  layout: InputLayout;
  /** the model input's size */
  width: number;
  height: number;
  maskW: number;
  maskH: number;
  /** e.g. 'selfie_segmentation.tflite (256×256)' */
  label: string;
}

/** The input size a live view gives a model whose height and width are symbolic (U^2-Net-style exports). */
export const DYNAMIC_SIZE = 256;

/**
 * Loads a model (URL, path or bytes) on `rt` and checks it fits a live view: an RGB input,
 * [1,h,w,3] or [1,3,h,w], and a one-channel mask output. Throws a WgsegError naming what does not fit.
 * Symbolic dims (`dynamic_axes` exports) are bound: batch to 1, height and width to DYNAMIC_SIZE.
 * `load` passes on download progress, an AbortSignal and Cache Storage use (SessionOptions).
 */
export async function loadSegModel(
  rt: Runtime,
  src: string | Uint8Array,
  name: string,
  load: Pick<SessionOptions, 'onProgress' | 'signal' | 'cache'> = {},
): Promise<SegModel> {
  let session = await Session.create(src, { ...load, device: rt, source: name });
  try {
    const [inp] = session.inputs;
    if (session.inputs.length !== 1)
      throw new WgsegError(
        'BAD_SHAPE',
        `${name}: has ${session.inputs.length} inputs (${session.inputs.map((i) => i.name).join(', ')}); a live view needs one, an RGB image`,
      );
    if (inp.type !== 'float32')
      throw new WgsegError('BAD_SHAPE', `${name}: input ${inp.name} is ${inp.type}; a live view feeds float32 RGB`);
    const d = inp.shape;
    if (d.length !== 4 || (d[3] !== 3 && d[1] !== 3) || (d[0] !== 1 && typeof d[0] === 'number'))
      throw new WgsegError(
        'BAD_SHAPE',
        `${name}: input ${inp.name} is [${d.join(',')}]; a live view needs an RGB image, [1,h,w,3] or [1,3,h,w]`,
      );
    const dims = d.map((x, i) => (typeof x === 'number' ? x : i === 0 ? 1 : DYNAMIC_SIZE));
    if (d.some((x) => typeof x !== 'number')) {
      // bind the symbolic dims and plan again from the loaded graph (nothing is fetched twice)
      const graph = session.graph;
      session.dispose();
      session = await Session.create(graph, { device: rt, inputShapes: { [inp.name]: dims } });
    }
    const [out] = session.outputs;
    const layout: InputLayout = dims[3] === 3 ? 'nhwc' : 'nchw';
    const [height, width] = layout === 'nhwc' ? dims.slice(1, 3) : dims.slice(2, 4);
    const o = out.shape.filter((x) => x !== 1) as number[];
    if (o.length !== 2)
      throw new WgsegError(
        'BAD_SHAPE',
        `${name}: output ${out.name} is [${out.shape.join(',')}]; a live view needs a one-channel mask`,
      );
    return {
      session,
      input: inp.name,
      output: out.name,
      layout,
      width,
      height,
      maskH: o[0],
      maskW: o[1],
      label: `${name} (${width}×${height})`,
    };
  } catch (e) {
    session.dispose();
    throw e;
  }
}
