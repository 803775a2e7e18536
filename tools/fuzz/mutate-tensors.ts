import type { Rng } from '../../test/helpers/random';
import { INTERESTING, type Mutated } from './mutate-bytes';
import { HOSTILE_DIMS } from './mutate-onnx';

/**
 * Structure-aware mutations of the two tensor container formats: the safetensors JSON header
 * (dtype, shape, data_offsets, the header length, duplicate keys, deep nesting, non-JSON) and the
 * .npy header dict (descr, shape, fortran_order, version, header length) with their data.
 */

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const enc = new TextEncoder();

const cat = (...ps: Uint8Array[]) => {
  const out = new Uint8Array(ps.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of ps) out.set(p, o), (o += p.length);
  return out;
};

function hostileShape(r: Rng): unknown {
  return r.pick<unknown>([
    [r.pick(HOSTILE_DIMS)],
    [2, r.pick(HOSTILE_DIMS)],
    [],
    [0],
    [-1, 4],
    [1.5],
    ['3'],
    [[2]],
    null,
    'x',
    7,
    Array.from({ length: 40 }, () => 2),
    [2 ** 31, 2 ** 31],
    [2 ** 53, 2 ** 53],
  ]);
}

export function mutateSafetensors(seed: Uint8Array, r: Rng): Mutated {
  const dv = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(seed.subarray(8, 8 + hlen))) as Obj;
  let data = seed.subarray(8 + hlen);
  const keys = Object.keys(header).filter((k) => k !== '__metadata__');
  const key = () => r.pick(keys);
  let json: string | null = null;
  let lenField: bigint | null = null;
  const what: string[] = [];
  switch (r.int(0, 12)) {
    case 0: {
      const k = key();
      header[k].dtype = r.pick(['F32', 'F16', 'BF16', 'F64', 'I64', 'U64', 'F8_E4M3', 'bool', 'f32', '', 5, null]);
      what.push(`${k} dtype ${header[k].dtype}`);
      break;
    }
    case 1: {
      const k = key();
      header[k].shape = hostileShape(r);
      what.push(`${k} shape ${JSON.stringify(header[k].shape)}`);
      break;
    }
    case 2: {
      // data_offsets past the end, reversed, negative, huge, fractional, missing
      const k = key();
      const [b, e] = header[k].data_offsets as number[];
      header[k].data_offsets = r.pick<unknown>([
        [b, e + 4],
        [e, b],
        [-4, e],
        [b, 2 ** 53],
        [b + 0.5, e + 0.5],
        [b],
        null,
        [b, data.length + 1024],
        [2 ** 62, 2 ** 62 + (e - b)],
      ]);
      what.push(`${k} data_offsets ${JSON.stringify(header[k].data_offsets)}`);
      break;
    }
    case 3: {
      const k = key();
      header[k] = r.pick<unknown>([null, 1, 'x', [], {}, { dtype: 'F32' }]);
      what.push(`${k} entry ${JSON.stringify(header[k])}`);
      break;
    }
    case 4: {
      // two tensors over the same bytes, or a tensor renamed / removed / added
      const k = key(),
        other = key();
      const how = r.int(0, 3);
      if (how === 0)
        (header[k].data_offsets = header[other].data_offsets),
          (header[k].shape = header[other].shape),
          (header[k].dtype = header[other].dtype);
      else if (how === 1) (header[`${k}_renamed`] = header[k]), delete header[k];
      else if (how === 2) delete header[k];
      else header.extra = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
      what.push(['aliased offsets', 'renamed', 'removed', 'extra tensor'][how]);
      break;
    }
    case 5:
      header.__metadata__ = r.pick<unknown>([null, 5, [], { a: { b: { c: 1 } } }, 'x'.repeat(1000)]);
      what.push('metadata');
      break;
    case 6:
      lenField = BigInt.asUintN(64, BigInt(r.pick([0, 1, 2 ** 31, 2 ** 53 - 1, hlen + 1, hlen - 1, -1])));
      what.push(`header length ${lenField}`);
      break;
    case 7: {
      // duplicate keys in the JSON text (JSON.parse keeps the last)
      const k = key();
      json = JSON.stringify(header).replace(
        /^\{/,
        `{"${k}":{"dtype":"F32","shape":[${r.pick(HOSTILE_DIMS)}],"data_offsets":[0,4]},`,
      );
      what.push(`duplicate key ${k}`);
      break;
    }
    case 8: {
      const depth = r.pick([100, 10000, 200000]);
      json = `{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      what.push(`JSON nested ${depth} deep`);
      break;
    }
    case 9:
      json = r.pick([
        '',
        'null',
        '[]',
        '"x"',
        '{',
        '{"a":1,}',
        '\ufeff{}',
        '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
      ]);
      what.push(`header text ${json.slice(0, 20)}`);
      break;
    case 10:
      data = data.subarray(0, r.int(0, data.length));
      what.push(`data cut to ${data.length}`);
      break;
    case 11: {
      // a huge tensor count
      for (let i = 0; i < r.pick([1000, 50000]); i++)
        header[`t${i}`] = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
      what.push('many tensors');
      break;
    }
    default: {
      const k = key();
      header[k].shape = [r.pick(INTERESTING)];
      what.push(`${k} shape [${header[k].shape}]`);
    }
  }
  const hb = enc.encode(json ?? JSON.stringify(header));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, lenField ?? BigInt(hb.length), true);
  return { bytes: cat(len, hb, data), what: `safetensors ${what.join('; ')}` };
}

/** Parse the seed's header dict (as the seeds write it) to rebuild it edited. */
function npyParts(seed: Uint8Array) {
  const major = seed[6];
  const pre = major === 1 ? 10 : 12;
  const hl = major === 1 ? seed[8] | (seed[9] << 8) : new DataView(seed.buffer, seed.byteOffset).getUint32(8, true);
  const text = new TextDecoder('latin1').decode(seed.subarray(pre, pre + hl));
  return { major, text, data: seed.subarray(pre + hl) };
}

function npyBytes(major: number, header: string, data: Uint8Array, lenOverride?: number): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const hb = Uint8Array.from(header, (c) => c.charCodeAt(0) & 0xff);
  const head = new Uint8Array(pre);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(head.buffer);
  if (pre === 10) dv.setUint16(8, (lenOverride ?? hb.length) & 0xffff, true);
  else dv.setUint32(8, (lenOverride ?? hb.length) >>> 0, true);
  return cat(head, hb, data);
}

export function mutateNpy(seed: Uint8Array, r: Rng): Mutated {
  const { major, text, data } = npyParts(seed);
  let header = text,
    d = data,
    m = major;
  let lenOverride: number | undefined;
  const what: string[] = [];
  const shapeTuple = () =>
    r.pick([
      '()',
      '(0,)',
      `(${r.pick(HOSTILE_DIMS)},)`,
      `(2, ${r.pick(HOSTILE_DIMS)})`,
      '(-1,)',
      '(1.5,)',
      "('a',)",
      '((2,),)',
      '(2,3',
      `(${Array(64).fill(1).join(',')},)`,
      '(99999999999999999999,)',
      '(2**31,)',
      '[2, 3]',
      '(0x10,)',
    ]);
  switch (r.int(0, 11)) {
    case 10: {
      // a valid reshape: the same element count in another rank (runs, with other dims)
      const dims =
        /'shape': *\(([^)]*)\)/
          .exec(header)?.[1]
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .map(Number) ?? [];
      const n = dims.reduce((a, b) => a * b, 1);
      const shape = r.pick([[n], [1, n], [n, 1, 1], [1, 1, 1, 1, 1, n], n % 2 ? [n] : [2, n / 2]]);
      header = header.replace(/'shape': *\([^)]*\)/, `'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
      what.push(`reshape to (${shape})`);
      break;
    }
    case 11: {
      // another dtype of the same item size (the bytes read as ints, floats, bools or big-endian)
      const m = /'descr': *'([<>|=])([a-z])(\d+)'/.exec(header);
      if (!m) break;
      const size = Number(m[3]);
      const same = {
        1: ['|u1', '|i1', '|b1'],
        2: ['<f2', '<i2', '<u2', '>i2'],
        4: ['<f4', '<i4', '<u4', '>f4'],
        8: ['<f8', '<i8', '>i8', '>f8'],
      }[size as 1 | 2 | 4 | 8] ?? ['<f4'];
      const v = r.pick(same);
      header = header.replace(/'descr': *'[^']*'/, `'descr': '${v}'`);
      what.push(`descr ${v} (same size)`);
      break;
    }
    case 0: {
      const v = r.pick([
        "'<f4'",
        "'>f8'",
        "'|b1'",
        "'<c8'",
        "'<U4'",
        "'O'",
        "'|V8'",
        "'<f16'",
        "[('a', '<f4')]",
        "'<i8'",
        "'|u1'",
        "'<u8'",
        "'f4'",
        "''",
        "'<f4' ",
      ]);
      header = header.replace(/'descr': *('[^']*'|\[[^\]]*\])/, `'descr': ${v}`);
      what.push(`descr ${v}`);
      break;
    }
    case 1:
    case 2: {
      const v = shapeTuple();
      header = header.replace(/'shape': *\([^)]*\)/, `'shape': ${v}`);
      what.push(`shape ${v}`);
      break;
    }
    case 3:
      header = header.replace('False', r.pick(['True', 'false', '0', 'None']));
      what.push('fortran_order');
      break;
    case 4:
      header = r.pick([
        header.replace(/'shape'[^)]*\),?/, ''),
        header.replace("'descr'", "'descr2'"),
        header.replace('{', "{'extra': 1, "),
        header.replace('{', '').replace('}', ''),
        header + header,
        '',
      ]);
      what.push('dict keys');
      break;
    case 5:
      lenOverride = r.pick([0, 1, 0xffff, 0x7fffffff, 0xffffffff, header.length + 64]);
      what.push(`header_len ${lenOverride}`);
      break;
    case 6:
      m = r.pick([0, 2, 3, 4, 255]);
      what.push(`version ${m}`);
      break;
    case 7:
      d = r.next() < 0.5 ? d.subarray(0, r.int(0, d.length)) : cat(d, new Uint8Array(r.pick([1, 8, 1024])));
      what.push(`data ${d.length} bytes`);
      break;
    case 8:
      header = header.replace(/ +\n$/, '\u00ff\u0000\n');
      what.push('non-ASCII header bytes');
      break;
    default:
      header = header.replace(
        /'shape': *\([^)]*\)/,
        `'shape': (${Array.from({ length: r.pick([3, 5]) }, () => r.pick([2 ** 20, 2 ** 16, 3])).join(', ')})`,
      );
      what.push('product overflow shape');
  }
  return { bytes: npyBytes(m, header, d, lenOverride), what: `npy ${what.join('; ')}` };
}
