import { onnxType } from '../../bench/onnx/build';
import { foldableOps, registry } from '../../src/internal';
import type { Rng } from '../../test/helpers/random';
import { INTERESTING, type Mutated } from './mutate-bytes';

/**
 * Structure-aware ONNX mutations: the seed is decoded through the protobuf schema into a plain
 * ModelProto object, edited where an importer has to check something (dims, dtypes, raw_data
 * lengths, names, the node graph, attributes, opsets), and encoded again. Deep nesting is written
 * as raw protobuf (the encoder refuses depth over 100, which is the point of the test).
 */

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Dims that break shape arithmetic. */
export const HOSTILE_DIMS = [0, -1, -7, 2 ** 31, 2 ** 31 - 1, 2 ** 32 + 1, 2 ** 40, 2 ** 53 - 1, 65536, 1e6, 3];
const ATTR_NAMES = [
  'kernel_shape',
  'strides',
  'pads',
  'dilations',
  'group',
  'axis',
  'axes',
  'perm',
  'to',
  'mode',
  'keepdims',
  'alpha',
  'beta',
  'epsilon',
  'transA',
  'transB',
  'output_padding',
  'output_shape',
  'auto_pad',
  'ceil_mode',
  'blocksize',
  'coordinate_transformation_mode',
  'value',
  'allowzero',
  'start',
  'end',
  'select_last_index',
  'min',
  'max',
];

function decodeObj(bytes: Uint8Array): Obj {
  const T = onnxType('ModelProto');
  return T.toObject(T.decode(bytes), { longs: Number, arrays: true }) as Obj;
}
function encodeObj(m: Obj): Uint8Array {
  const T = onnxType('ModelProto');
  return T.encode(T.fromObject(m)).finish();
}

/** Every value name the model defines (inputs, initializers, node outputs). */
function names(g: Obj): string[] {
  return [
    ...g.input.map((v: Obj) => v.name),
    ...g.initializer.map((t: Obj) => t.name),
    ...g.node.flatMap((n: Obj) => n.output),
  ].filter((s: string) => s);
}

function hostileInt(r: Rng): number {
  return r.pick([...INTERESTING, ...HOSTILE_DIMS, r.int(-10, 10)]);
}

/** A hostile value for an attribute, of any attribute type. */
function hostileAttr(name: string, r: Rng): Obj {
  switch (r.int(0, 9)) {
    case 0:
      return { name, type: 2, i: hostileInt(r) };
    case 1:
      return { name, type: 7, ints: Array.from({ length: r.pick([0, 1, 2, 4, 7]) }, () => hostileInt(r)) };
    case 2:
      return { name, type: 1, f: r.pick([NaN, Infinity, -Infinity, 0, -1, 1e30, 1e-30]) };
    case 3:
      return {
        name,
        type: 6,
        floats: Array.from({ length: r.int(0, 6) }, () => r.pick([NaN, Infinity, 0, -2.5, 1e20])),
      };
    case 4:
      return {
        name,
        type: 3,
        s: new TextEncoder().encode(
          r.pick(['', 'BOGUS', 'NOTSET', 'SAME_UPPER', 'linear', 'nearest', 'cubic', '\u0000\uffff']),
        ),
      };
    case 5:
      return { name, type: 8, strings: [new TextEncoder().encode('a'), new TextEncoder().encode('')] };
    case 6:
      return { name, type: 7, ints: Array.from({ length: r.pick([1000, 100000]) }, (_, k) => k % 7) }; // a giant list
    case 7:
      return {
        name,
        type: 4,
        t: { dims: [r.pick(HOSTILE_DIMS)], dataType: r.int(0, 17), rawData: new Uint8Array(r.int(0, 16)) },
      };
    case 8:
      return { name, type: r.int(0, 30) }; // a type tag with nothing set
    default:
      return { name, type: 2, i: r.int(-3, 5) };
  }
}

const varint = (n: number): number[] => {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n);
  return out;
};

/** Raw protobuf: attribute{ name, type GRAPH, g: graph{ node{ op If, attribute{ ... } } } } nested `depth` times. */
function nestedGraphAttr(depth: number): Uint8Array {
  const name = [0x0a, 4, ...new TextEncoder().encode('body')]; // AttributeProto.name = 1
  const type = [0xa0, 0x01, 5]; // AttributeProto.type = 20 (GRAPH)
  const op = [0x22, 2, ...new TextEncoder().encode('If')]; // NodeProto.op_type = 4
  // sizes bottom-up, then the prefixes top-down (lengths come first in protobuf)
  const attrSize = [name.length + type.length];
  const prefixes: number[][] = [];
  for (let k = 1; k <= depth; k++) {
    const inner = attrSize[k - 1];
    const node = op.length + 1 + varint(inner).length + inner;
    const graph = 1 + varint(node).length + node;
    attrSize.push(name.length + type.length + 1 + varint(graph).length + graph);
    prefixes.push([...name, ...type, 0x32, ...varint(graph), 0x0a, ...varint(node), ...op, 0x2a, ...varint(inner)]);
  }
  const out = new Uint8Array(attrSize[depth]);
  let o = 0;
  for (let k = prefixes.length - 1; k >= 0; k--) out.set(prefixes[k], o), (o += prefixes[k].length);
  out.set([...name, ...type], o);
  return out;
}

export function mutateOnnx(seed: Uint8Array, r: Rng): Mutated {
  const m = decodeObj(seed);
  const g = m.graph as Obj;
  const all = names(g);
  const node = () => g.node[r.int(0, g.node.length - 1)];
  const what: string[] = [];
  const steps = r.pick([1, 1, 1, 2, 3]);
  let nested: number | null = null;
  for (let s = 0; s < steps; s++) {
    if (!g.node.length) break;
    const k = r.int(0, 22);
    // a step that does not apply to this model (nothing to edit) throws: noted and skipped
    try {
      switch (k) {
        case 0: {
          // hostile dim in an initializer
          const t = r.pick(g.initializer as Obj[]);
          if (!t?.dims.length) break;
          const d = r.int(0, t.dims.length - 1),
            v = r.pick(HOSTILE_DIMS);
          t.dims[d] = v;
          what.push(`initializer ${t.name} dim ${d} = ${v}`);
          break;
        }
        case 1: {
          // hostile dim in an input/output value_info
          const v = r.pick([...g.input, ...g.output] as Obj[]);
          const dims = v?.type?.tensorType?.shape?.dim;
          if (!dims?.length) break;
          const d = r.int(0, dims.length - 1),
            x = r.pick(HOSTILE_DIMS);
          dims[d] = r.next() < 0.2 ? { dimParam: r.pick(['N', 'batch', '']) } : { dimValue: x };
          what.push(`value_info ${v.name} dim ${d} = ${JSON.stringify(dims[d])}`);
          break;
        }
        case 2: {
          // wrong dtype
          const t = r.pick([...g.initializer, ...g.input] as Obj[]);
          const dt = r.int(0, 30);
          if (t?.dataType !== undefined) t.dataType = dt;
          else if (t?.type?.tensorType) t.type.tensorType.elemType = dt;
          what.push(`dtype of ${t?.name} = ${dt}`);
          break;
        }
        case 3: {
          // raw_data too short / long / gone / into a typed field
          const t = r.pick(g.initializer as Obj[]);
          if (!t) break;
          const raw: Uint8Array = t.rawData ?? new Uint8Array(0);
          const how = r.int(0, 3);
          if (how === 0) t.rawData = raw.slice(0, r.int(0, raw.length));
          else if (how === 1) t.rawData = Uint8Array.from([...raw, ...new Uint8Array(r.pick([1, 4, 64]))]);
          else if (how === 2) delete t.rawData;
          else delete t.rawData, (t.floatData = Array.from({ length: r.int(0, 9) }, () => r.uniform()));
          what.push(`raw_data of ${t.name}: ${['cut', 'grown', 'removed', 'typed'][how]}`);
          break;
        }
        case 4: {
          // dangling input
          const n = node();
          if (!n.input.length) break;
          n.input[r.int(0, n.input.length - 1)] = r.pick(['nowhere', '', `x${r.int(0, 99)}`]);
          what.push(`dangling input on ${n.name}`);
          break;
        }
        case 5: {
          // cycle: an input from the node itself or a later node
          const i = r.int(0, g.node.length - 1),
            j = r.int(i, g.node.length - 1);
          const n = g.node[i];
          if (!n.input.length || !g.node[j].output.length) break;
          n.input[r.int(0, n.input.length - 1)] = g.node[j].output[0];
          what.push(`cycle: ${n.name} reads ${g.node[j].output[0]}`);
          break;
        }
        case 6: {
          // duplicate name: a node output renamed to an existing value
          const n = node();
          n.output[0] = r.pick(all);
          what.push(`duplicate output name ${n.output[0]} on ${n.name}`);
          break;
        }
        case 7: {
          // duplicate initializer / input / node
          const which = r.int(0, 2);
          if (which === 0 && g.initializer.length) g.initializer.push({ ...r.pick(g.initializer as Obj[]) });
          else if (which === 1) g.input.push({ ...r.pick(g.input as Obj[]) });
          else g.node.push(JSON.parse(JSON.stringify(node())));
          what.push(`duplicate ${['initializer', 'input', 'node'][which]}`);
          break;
        }
        case 8: {
          // remove a node / initializer / all outputs
          const which = r.int(0, 2);
          if (which === 0) g.node.splice(r.int(0, g.node.length - 1), 1);
          else if (which === 1 && g.initializer.length) g.initializer.splice(r.int(0, g.initializer.length - 1), 1);
          else g.output = r.next() < 0.5 ? [] : [{ name: r.pick(all) }];
          what.push(`remove ${['node', 'initializer', 'outputs'][which]}`);
          break;
        }
        case 9: {
          // another op type
          const n = node();
          const ops = [...registry.keys(), ...foldableOps()];
          n.opType = r.next() < 0.9 ? r.pick(ops) : r.pick(['', 'Loop', 'If', 'Scan', 'NotAnOp', 'conv']);
          what.push(`op of ${n.name} = ${n.opType}`);
          break;
        }
        case 10:
        case 11:
        case 12: {
          // hostile attribute value
          const n = node();
          const name = n.attribute.length && r.next() < 0.6 ? r.pick(n.attribute as Obj[]).name : r.pick(ATTR_NAMES);
          n.attribute = [...n.attribute.filter((a: Obj) => a.name !== name), hostileAttr(name, r)];
          what.push(`attribute ${name} of ${n.name}`);
          break;
        }
        case 13: {
          // giant attribute list: thousands of attributes on one node
          const n = node();
          const count = r.pick([1000, 20000]);
          for (let a = 0; a < count; a++) n.attribute.push({ name: `a${a}`, type: 2, i: a });
          what.push(`${count} attributes on ${n.name}`);
          break;
        }
        case 14: {
          // opset
          const v = r.pick([0, -1, 1, 8, 9, 10, 11, 17, 25, 26, 2 ** 31, 2 ** 53 - 1]);
          const how = r.int(0, 2);
          if (how === 0) m.opsetImport[0].version = v;
          else if (how === 1) m.opsetImport = [];
          else m.opsetImport.push({ domain: r.pick(['', 'ai.onnx', 'com.microsoft']), version: v });
          what.push(`opset ${['=', 'removed', 'extra'][how]} ${v}`);
          break;
        }
        case 15:
          m.irVersion = r.pick([0, 1, 2, 3, 100, -1]);
          what.push(`ir_version ${m.irVersion}`);
          break;
        case 16: {
          // hostile values in an int64 initializer (sizes, pads, repeats, indices)
          const t = r.pick((g.initializer as Obj[]).filter((x) => x.dataType === 7));
          if (!t?.rawData) break;
          const v = new BigInt64Array(new Uint8Array(t.rawData).buffer.slice(0));
          const i = r.int(0, Math.max(0, v.length - 1));
          if (v.length) v[i] = BigInt(Math.trunc(r.pick([...HOSTILE_DIMS, -(2 ** 31), 2 ** 62, -1, 0])));
          t.rawData = new Uint8Array(v.buffer);
          what.push(`int64 ${t.name}[${i}] = ${v[i]}`);
          break;
        }
        case 17: {
          // a long chain of nodes (time bound, planner)
          const count = r.pick([500, 3000]);
          let prev = g.output[0]?.name ?? all[0];
          for (let c = 0; c < count; c++)
            g.node.push({
              opType: r.pick(['Relu', 'Identity', 'Neg']),
              name: `chain${c}`,
              input: [prev],
              output: [`chain${c}`],
              attribute: [],
            }),
              (prev = `chain${c}`);
          g.output = [{ name: prev }];
          what.push(`chain of ${count} nodes`);
          break;
        }
        case 18: {
          // many inputs to one node
          const n = node();
          n.input = Array.from({ length: r.pick([64, 5000]) }, () => r.pick(all));
          what.push(`${n.input.length} inputs on ${n.name}`);
          break;
        }
        case 19: {
          // a Constant node with a hostile value
          const out = r.pick(all);
          g.node.unshift({
            opType: 'Constant',
            name: 'const_fuzz',
            input: [],
            output: [`${out}_c`],
            attribute: [hostileAttr(r.pick(['value', 'value_ints', 'value_floats', 'value_int', 'sparse_value']), r)],
          });
          g.node[r.int(1, g.node.length - 1)].input[0] = `${out}_c`;
          what.push('hostile Constant');
          break;
        }
        case 20:
          nested = r.pick([50, 99, 101, 1000, 5000]);
          what.push(`graph attribute nested ${nested} deep`);
          break;
        case 22: {
          // a valid but big input: spatial dims scaled up (the plan must be refused before any buffer exists)
          const v = r.pick(g.input as Obj[]);
          const dims = v?.type?.tensorType?.shape?.dim as Obj[] | undefined;
          if (!dims || dims.length < 3) break;
          const k = r.pick([8, 64, 256, 1024]);
          for (const d of dims.slice(2)) if (typeof d.dimValue === 'number') d.dimValue *= k;
          what.push(`input ${v.name} spatial dims x${k}`);
          break;
        }
        default: {
          // names: empty, huge, non-UTF-8-ish
          const n = node();
          const name = r.pick(['', 'x'.repeat(100000), '\u0000', '../../etc/passwd', 'y']);
          if (r.next() < 0.5) n.name = name;
          else n.output[0] = name;
          what.push(`name "${name.slice(0, 12)}" on ${n.opType}`);
        }
      }
    } catch {
      what.push(`step ${k} skipped`);
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeObj(m);
  } catch (e) {
    // the encoder refused a value (e.g. an int64 out of range): keep the seed with a byte-level note
    return { bytes: seed, what: `onnx ${what.join('; ')} (not encodable: ${(e as Error).message}; seed unchanged)` };
  }
  if (nested !== null) {
    // append the nested attribute to the first node: NodeProto.attribute inside GraphProto.node inside ModelProto.graph
    bytes = appendNestedToFirstNode(m, nested);
  }
  return { bytes, what: `onnx ${what.join('; ')}` };
}

/** The model with a deeply nested graph attribute on its first node, written as raw protobuf. */
function appendNestedToFirstNode(m: Obj, depth: number): Uint8Array {
  const g = m.graph as Obj;
  const NT = onnxType('NodeProto'),
    GT = onnxType('GraphProto'),
    MT = onnxType('ModelProto');
  const nodeBytes = NT.encode(NT.fromObject(g.node[0] ?? { opType: 'If', output: ['y'] })).finish();
  const attr = nestedGraphAttr(depth);
  const node = Uint8Array.from([...nodeBytes, 0x2a, ...varint(attr.length), ...attr]); // NodeProto.attribute = 5
  const graphRest = GT.encode(GT.fromObject({ ...g, node: g.node.slice(1) })).finish();
  const graph = Uint8Array.from([0x0a, ...varint(node.length), ...node, ...graphRest]); // GraphProto.node = 1 (first)
  const head = MT.encode(MT.fromObject({ ...m, graph: undefined })).finish();
  return Uint8Array.from([...head, 0x3a, ...varint(graph.length), ...graph]); // ModelProto.graph = 7
}
