import { WgsegError } from './errors';

/** Node attributes by their ONNX names (TFLite options are translated to these at import). */
export type AttrValue = number | string | number[] | string[];
export type Attrs = Record<string, AttrValue | undefined>;

/** Typed attribute access with ONNX defaults; errors name the op and attribute. */
export function intAttr(a: Attrs, name: string, dflt: number, op: string): number {
  const v = a[name] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new WgsegError('BAD_ATTRIBUTE', `${op}: attribute ${name} must be a number, got ${JSON.stringify(v)}`);
  return v;
}
export const floatAttr = intAttr;

export function intsAttr(a: Attrs, name: string, dflt: number[] | undefined, op: string): number[] {
  const v = a[name] ?? dflt;
  if (v === undefined) throw new WgsegError('BAD_ATTRIBUTE', `${op}: attribute ${name} is required`);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number'))
    throw new WgsegError('BAD_ATTRIBUTE', `${op}: attribute ${name} must be a list of ints`);
  return v as number[];
}

export function strAttr(a: Attrs, name: string, dflt: string, op: string): string {
  const v = a[name] ?? dflt;
  if (typeof v !== 'string') throw new WgsegError('BAD_ATTRIBUTE', `${op}: attribute ${name} must be a string`);
  return v;
}

export function badShape(op: string, msg: string): never {
  throw new WgsegError('BAD_SHAPE', `${op}: ${msg}`);
}
