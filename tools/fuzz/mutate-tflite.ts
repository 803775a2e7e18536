import { ByteBuffer } from 'flatbuffers';
import type { Rng } from '../../test/helpers/random';
import { buildTflite } from '../../test/import/tflite-build';
import { INTERESTING, type Mutated } from './mutate-bytes';
import { HOSTILE_DIMS } from './mutate-onnx';
import type { TfliteDesc } from './seeds';

/**
 * Structure-aware TFLite mutations, two ways:
 * - a seed built here is edited as its description (tensor shapes, types, data, quantization,
 *   operator indices, opcodes, options) and built again with the flatbuffers Builder;
 * - any seed (the real selfie model too) gets hostile integers written at the byte positions of
 *   its fields: shape dims, tensor types, buffer indices, operator input/output indices, opcode
 *   indices, option fields, vector lengths and offsets (found by walking the valid file once).
 */

interface Spot {
  at: number;
  width: 1 | 2 | 4;
  what: string;
}

/** Field positions of a valid TFLite file (schema v3 slots, as in src/import/tflite-schema.ts). */
export function fieldSpots(bytes: Uint8Array): Spot[] {
  const bb = new ByteBuffer(bytes);
  const spots: Spot[] = [];
  const seen = new Set<number>();
  /** a table's vtable entries (int16 field offsets) and its soffset to the vtable, once per table */
  const visit = (pos: number) => {
    if (seen.has(pos)) return;
    seen.add(pos);
    spots.push({ at: pos, width: 4, what: 'vtable soffset' });
    const vt = pos - bb.readInt32(pos),
      len = bb.readUint16(vt);
    spots.push({ at: vt, width: 2, what: 'vtable length' });
    for (let k = 4; k < len; k += 2) spots.push({ at: vt + k, width: 2, what: `vtable entry ${(k - 4) / 2}` });
  };
  const field = (pos: number, slot: number) => {
    visit(pos);
    const o = bb.__offset(pos, 4 + 2 * slot);
    return o ? pos + o : 0;
  };
  const target = (pos: number, slot: number, what: string) => {
    const p = field(pos, slot);
    if (!p) return 0;
    spots.push({ at: p, width: 4, what: `${what} offset` });
    return p + bb.readUint32(p);
  };
  const vector = (pos: number, slot: number, what: string, elems: boolean) => {
    const t = target(pos, slot, what);
    if (!t) return [] as number[];
    const n = bb.readInt32(t);
    spots.push({ at: t, width: 4, what: `${what} length` });
    const at = Array.from({ length: n }, (_, i) => t + 4 + 4 * i);
    if (elems) for (const p of at) spots.push({ at: p, width: 4, what });
    return at;
  };
  const tables = (pos: number, slot: number, what: string) =>
    vector(pos, slot, what, false).map((p) => p + bb.readUint32(p));
  const scalar = (pos: number, slot: number, width: 1 | 4, what: string) => {
    const p = field(pos, slot);
    if (p) spots.push({ at: p, width, what });
  };
  const root = bb.readUint32(0);
  scalar(root, 0, 4, 'version');
  for (const c of tables(root, 1, 'opcodes'))
    scalar(c, 0, 1, 'deprecated builtin code'), scalar(c, 3, 4, 'builtin code');
  for (const g of tables(root, 2, 'subgraphs')) {
    for (const t of tables(g, 0, 'tensors')) {
      vector(t, 0, 'shape dim', true);
      scalar(t, 1, 1, 'tensor type');
      scalar(t, 2, 4, 'buffer index');
      const q = field(t, 4) ? target(t, 4, 'quantization') : 0;
      if (q) vector(q, 2, 'scale', true), vector(q, 3, 'zero point', false), scalar(q, 6, 4, 'quantized dimension');
    }
    vector(g, 1, 'subgraph input', true);
    vector(g, 2, 'subgraph output', true);
    for (const op of tables(g, 3, 'operators')) {
      scalar(op, 0, 4, 'opcode index');
      vector(op, 1, 'operator input', true);
      vector(op, 2, 'operator output', true);
      scalar(op, 3, 1, 'options type');
      const o = field(op, 4) ? target(op, 4, 'options') : 0;
      for (let s = 0; o && s < 8; s++) {
        const p = field(o, s);
        if (p) spots.push({ at: p, width: p % 4 === 0 ? 4 : 1, what: `option field ${s}` });
      }
      vector(op, 5, 'custom options', false);
    }
  }
  for (const b of tables(root, 4, 'buffers')) vector(b, 0, 'buffer data', false);
  return spots;
}

const spotCache = new WeakMap<Uint8Array, Spot[]>();

function pokeField(seed: Uint8Array, r: Rng): Mutated {
  let spots = spotCache.get(seed);
  if (!spots) spotCache.set(seed, (spots = fieldSpots(seed)));
  const out = seed.slice();
  const dv = new DataView(out.buffer);
  const k = r.pick([1, 1, 2, 3]);
  const what: string[] = [];
  for (let i = 0; i < k; i++) {
    const s = r.pick(spots);
    const v = r.pick([...INTERESTING, ...HOSTILE_DIMS, r.int(-3, 300)]);
    if (s.width === 1) dv.setUint8(s.at, v & 0xff);
    else if (s.width === 2) dv.setUint16(s.at, v & 0xffff, true);
    else dv.setUint32(s.at, v >>> 0, true);
    what.push(`${s.what} @${s.at} = ${s.width === 1 ? v & 0xff : s.width === 2 ? (v << 16) >> 16 : v | 0}`);
  }
  return { bytes: out, what: `tflite field ${what.join('; ')}` };
}

function mutateDesc(d0: TfliteDesc, r: Rng): Mutated {
  const d: TfliteDesc = structuredClone(d0);
  const nT = d.tensors.length;
  const idx = () => r.pick([-1, -2, nT, nT + 5, 2 ** 31 - 1, r.int(0, nT - 1), r.int(0, nT - 1)]);
  const tensor = () => d.tensors[r.int(0, nT - 1)];
  const op = () => d.ops[r.int(0, d.ops.length - 1)];
  const what: string[] = [];
  for (let s = 0, steps = r.pick([1, 1, 2, 3]); s < steps; s++) {
    switch (r.int(0, 13)) {
      case 0: {
        const t = tensor();
        const i = r.int(0, Math.max(0, t.shape.length - 1));
        t.shape[i] = r.pick(HOSTILE_DIMS);
        what.push(`${t.name} dim ${i} = ${t.shape[i]}`);
        break;
      }
      case 1: {
        const t = tensor();
        t.shape = r.pick([[], [1], [1, 1, 1, 1, 1], [...t.shape, 2], t.shape.slice(1)]);
        what.push(`${t.name} shape [${t.shape}]`);
        break;
      }
      case 2: {
        const t = tensor();
        t.type = r.int(0, 20);
        what.push(`${t.name} type ${t.type}`);
        break;
      }
      case 3: {
        // data cut, grown, dropped or given to a non-constant
        const t = tensor();
        const how = r.int(0, 3);
        if (how === 0 && t.data) t.data = t.data.slice(0, r.int(0, t.data.length));
        else if (how === 1 && t.data) t.data = Uint8Array.from([...t.data, ...new Uint8Array(r.pick([1, 4, 100]))]);
        else if (how === 2) delete t.data;
        else t.data = new Uint8Array(r.pick([0, 4, 16, 400]));
        what.push(`${t.name} data ${['cut', 'grown', 'dropped', 'added'][how]}`);
        break;
      }
      case 4: {
        // quantization
        const t = tensor();
        t.quant = {
          scale: Array.from({ length: r.pick([0, 1, 2, 6, 7]) }, () => r.pick([0.1, 0, -1, NaN, 1e38])),
          zeroPoint: Array.from({ length: r.pick([0, 1, 6]) }, () => r.pick([0, 3, -128, 2 ** 40])),
          axis: r.pick([0, -1, 3, 7, 2 ** 31 - 1]),
        };
        what.push(`${t.name} quantization ${JSON.stringify(t.quant)}`);
        break;
      }
      case 5: {
        const o = op();
        const i = r.int(0, Math.max(0, o.inputs.length - 1));
        o.inputs[i] = idx();
        what.push(`op ${o.op} input ${i} = ${o.inputs[i]}`);
        break;
      }
      case 6: {
        const o = op();
        o.outputs[0] = idx();
        what.push(`op ${o.op} output = ${o.outputs[0]}`);
        break;
      }
      case 7: {
        // cycle: an op reads its own output, or a later op's
        const i = r.int(0, d.ops.length - 1),
          j = r.int(i, d.ops.length - 1);
        d.ops[i].inputs[0] = d.ops[j].outputs[0];
        what.push(`cycle: op ${i} reads op ${j}'s output`);
        break;
      }
      case 8: {
        const o = op();
        o.op =
          r.next() < 0.8 ? r.int(0, 200) : r.pick(['Convolution2DTransposeBias', 'MaxPoolingWithArgmax2D', '', 'x']);
        what.push(`opcode ${o.op}`);
        break;
      }
      case 9: {
        const o = op();
        o.optionsType = r.int(0, 130);
        what.push(`options type ${o.optionsType}`);
        break;
      }
      case 10: {
        // hostile option field
        const o = op();
        const slot = r.int(0, 7),
          v = r.pick([0, -1, 2, 99, 2 ** 31 - 1, -(2 ** 31), 65536]);
        o.options = [...(o.options ?? []).filter(([sl]) => sl !== slot), [slot, r.pick(['i8', 'i32'] as const), v]];
        what.push(`op ${o.op} option ${slot} = ${v}`);
        break;
      }
      case 11: {
        // graph inputs / outputs
        const which = r.next() < 0.5 ? d.inputs : d.outputs;
        which[0] = idx();
        if (r.next() < 0.3) which.length = 0;
        what.push(`subgraph ${which === d.inputs ? 'inputs' : 'outputs'} [${which}]`);
        break;
      }
      case 12: {
        // duplicate or drop an op
        if (r.next() < 0.5) d.ops.push(structuredClone(op()));
        else d.ops.splice(r.int(0, d.ops.length - 1), 1);
        what.push('duplicate/drop op');
        break;
      }
      default:
        d.version = r.pick([0, 1, 2, 4, -1]);
        what.push(`version ${d.version}`);
    }
  }
  try {
    return { bytes: buildTflite(d), what: `tflite desc ${what.join('; ')}` };
  } catch (e) {
    return {
      bytes: buildTflite(d0),
      what: `tflite desc ${what.join('; ')} (not buildable: ${(e as Error).message}; seed unchanged)`,
    };
  }
}

export function mutateTflite(seed: Uint8Array, desc: TfliteDesc | undefined, r: Rng): Mutated {
  return desc && r.next() < 0.6 ? mutateDesc(desc, r) : pokeField(seed, r);
}
