import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WgsegError } from '../../src/core/errors';
import { readNpy, writeNpy } from '../../src/import/npy';

// Byte layouts written by hand from the NPY format spec
// (numpy.org/doc/stable/reference/generated/numpy.lib.format.html), not produced by our writer.
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const MAGIC = [0x93, ...ascii('NUMPY')];
/** magic, version, little-endian header length, header text (padded with spaces + '\n' to `align`), data */
function file(major: number, dict: string, data: number[], align = 64, utf8 = false): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const head = utf8 ? [...new TextEncoder().encode(dict)] : ascii(dict);
  const len = Math.ceil((pre + head.length + 1) / align) * align - pre;
  const text = [...head, ...Array(len - head.length - 1).fill(0x20), 0x0a];
  const lenBytes =
    major === 1 ? [len & 0xff, len >> 8] : [len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >>> 24];
  return new Uint8Array([...MAGIC, major, 0, ...lenBytes, ...text, ...data]);
}
const dict = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

describe('readNpy: every dtype from hand-written bytes', () => {
  // [descr, data bytes (little-endian unless '>'), expected dtype, expected values]
  const cases: [string, number[], string, (number | bigint)[]][] = [
    ['<f4', [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0], 'float32', [1, -2]],
    ['<f8', [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0x04, 0xc0], 'float64', [1, -2.5]],
    [
      '<i8',
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00],
      'int64',
      [-1n, 4294967296n],
    ],
    ['<i4', [0xfe, 0xff, 0xff, 0xff, 0x07, 0x00, 0x00, 0x00], 'int32', [-2, 7]],
    ['|u1', [0x00, 0xff], 'uint8', [0, 255]],
    ['|b1', [0x01, 0x00], 'bool', [1, 0]],
    ['<f2', [0x00, 0x3c, 0x00, 0xc0], 'float16', [1, -2]],
    ['|i1', [0xff, 0x05], 'int8', [-1, 5]],
    ['<i2', [0xfe, 0xff, 0x00, 0x01], 'int16', [-2, 256]],
    ['<u2', [0xff, 0xff, 0x02, 0x00], 'uint16', [65535, 2]],
    ['<u4', [0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00], 'uint32', [4294967295, 1]],
    ['>f4', [0x3f, 0x80, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00], 'float32', [1, -2]],
    [
      '>i8',
      [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
      'int64',
      [3n, -2n],
    ],
    ['=f4', [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40], 'float32', [1, 2]],
  ];
  for (const [descr, bytes, dtype, want] of cases) {
    it(`${descr} -> ${dtype}`, () => {
      const a = readNpy(file(1, dict(descr, '(2,)'), bytes));
      expect(a.dtype).toBe(dtype);
      expect(a.shape).toEqual([2]);
      expect([...a.data]).toEqual(want);
    });
  }
});

describe('readNpy: header versions and shapes', () => {
  const f4 = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40, 0, 0, 0xc0, 0x40]; // 1..6
  it('v1.0, 64-byte and old 16-byte alignment', () => {
    for (const align of [64, 16])
      expect(readNpy(file(1, dict('<f4', '(2, 3)'), f4, align))).toMatchObject({
        shape: [2, 3],
        data: Float32Array.from([1, 2, 3, 4, 5, 6]),
      });
  });
  it('v2.0 (4-byte header length)', () => {
    expect(readNpy(file(2, dict('<f4', '(3, 2)'), f4))).toMatchObject({
      shape: [3, 2],
      data: Float32Array.from([1, 2, 3, 4, 5, 6]),
    });
  });
  it('v3.0 (UTF-8 header)', () => {
    expect(readNpy(file(3, dict('<f4', '(1, 2, 3)'), f4, 64, true))).toMatchObject({ shape: [1, 2, 3] });
  });
  it('keys in any order, no trailing comma, Python 2 long dims, scalar and empty shapes', () => {
    const d = "{'shape': (6L,), 'fortran_order': False, 'descr': '<f4'}";
    expect(readNpy(file(1, d, f4)).shape).toEqual([6]);
    expect(readNpy(file(1, dict('<f4', '()'), f4.slice(0, 4)))).toMatchObject({
      shape: [],
      data: Float32Array.from([1]),
    });
    expect(readNpy(file(1, dict('<f4', '(0, 3)'), []))).toMatchObject({ shape: [0, 3], data: new Float32Array(0) });
  });
  it('fortran_order with at most one non-unit dim is the same layout and is accepted', () => {
    expect(readNpy(file(1, dict('<f4', '(1, 6)', 'True'), f4)).shape).toEqual([1, 6]);
  });
  it('an unaligned view of the file bytes reads the same', () => {
    const f = file(1, dict('<f4', '(6,)'), f4);
    const shifted = new Uint8Array(f.length + 1);
    shifted.set(f, 1);
    expect(readNpy(shifted.subarray(1)).data).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6]));
  });
});

describe('readNpy: clear errors', () => {
  const err = (bytes: Uint8Array) => {
    try {
      readNpy(bytes, 'x.npy');
    } catch (e) {
      expect(e).toBeInstanceOf(WgsegError);
      return `${(e as WgsegError).code}: ${(e as Error).message}`;
    }
    throw new Error('no error');
  };
  const ok = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40];
  it.each([
    ['empty file', new Uint8Array(0), /MALFORMED_FILE: x\.npy: not a \.npy file/],
    ['text file', new TextEncoder().encode('hello world, not numpy'), /not a \.npy file/],
    [
      'version 4',
      (() => {
        const f = file(1, dict('<f4', '(4,)'), ok);
        f[6] = 4;
        return f;
      })(),
      /version 4\.0 is not supported/,
    ],
    [
      'header length past the end',
      file(1, dict('<f4', '(4,)'), ok).slice(0, 40),
      /MALFORMED_FILE: x\.npy: truncated \.npy header/,
    ],
    [
      'truncated data',
      file(1, dict('<f4', '(4,)'), ok.slice(0, 10)),
      /truncated data: shape \(4\) of '<f4' needs 16 bytes, file has 10/,
    ],
    ['extra data', file(1, dict('<f4', '(3,)'), ok), /4 unexpected bytes/],
    [
      'fortran order 2-D',
      file(1, dict('<f4', '(2, 2)', 'True'), ok),
      /BAD_INPUT: x\.npy: Fortran-order arrays are not supported/,
    ],
    ['object dtype', file(1, dict('|O', '(4,)'), ok), /UNSUPPORTED_DTYPE: x\.npy: dtype '\|O'/],
    ['unicode dtype', file(1, dict('<U1', '(4,)'), ok), /UNSUPPORTED_DTYPE: x\.npy: dtype '<U1'/],
    ['complex dtype', file(1, dict('<c8', '(2,)'), ok), /UNSUPPORTED_DTYPE/],
    [
      'structured dtype',
      file(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", ok),
      /structured/,
    ],
    ['negative dim', file(1, dict('<f4', '(-4,)'), ok), /MALFORMED_FILE: x\.npy: bad \.npy header \(dimension "-4"\)/],
    ['missing key', file(1, "{'descr': '<f4', 'shape': (4,), }", ok), /needs descr, fortran_order and shape/],
    ['not a dict', file(1, "['<f4', (4,)]", ok), /not a dict/],
  ])('%s', (_, bytes, want) => {
    expect(err(bytes)).toMatch(want);
  });
});

describe('writeNpy', () => {
  it('float32 C order, byte for byte as the spec lays it out', () => {
    const got = writeNpy('float32', [2, 1], [1, -2]);
    expect(got).toEqual(file(1, dict('<f4', '(2, 1)'), [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]));
    expect((10 + (got[8] | (got[9] << 8))) % 64).toBe(0);
  });
  it('int64 from numbers and from BigInt64Array; 1-D tuple has the trailing comma', () => {
    const want = file(
      1,
      dict('<i8', '(2,)'),
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0, 0, 0, 0, 0, 0, 0],
    );
    expect(writeNpy('int64', [2], Int32Array.from([-1, 5]))).toEqual(want);
    expect(writeNpy('int64', [2], BigInt64Array.from([-1n, 5n]))).toEqual(want);
  });
  it('round trips through readNpy (scalar, empty, 4-D)', () => {
    for (const shape of [[], [0], [2, 3, 4, 5]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
      expect(readNpy(writeNpy('float32', shape, data))).toEqual({ dtype: 'float32', shape, data });
      const ints = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 3_000_000_000n - 7n);
      expect(readNpy(writeNpy('int64', shape, ints))).toEqual({ dtype: 'int64', shape, data: ints });
    }
  });
  it('a header too long for v1 switches to v2', () => {
    const shape = Array(25000).fill(1) as number[];
    const got = writeNpy('float32', shape, [4]);
    expect(got[6]).toBe(2);
    expect(readNpy(got)).toEqual({ dtype: 'float32', shape, data: Float32Array.from([4]) });
  });
  it('rejects a data length that does not match the shape, and non-integer int64', () => {
    expect(() => writeNpy('float32', [2, 2], [1, 2, 3])).toThrow(/3 values for shape \(2, 2\)/);
    expect(() => writeNpy('int64', [1], [1.5])).toThrow(/not an integer/);
  });
});

// numpy itself, when /usr/bin/python3 has it: files numpy writes read back, files we write load there.
const python = '/usr/bin/python3';
const hasNumpy = spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
describe.skipIf(!hasNumpy)('interop with numpy (skipped when /usr/bin/python3 lacks numpy)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgseg-npy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('reads what numpy.save writes (every dtype, v1/v2/v3, big-endian, Fortran 1-D)', () => {
    const script = `
import numpy as np, numpy.lib.format as f, sys
d = sys.argv[1]
a = np.arange(24).reshape(2, 3, 4) - 5
for t in ['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', '?']:
    np.save(f'{d}/{t}.npy', (a % 7 == 0) if t == '?' else (a if t[0] != 'u' else a + 5).astype(t))
np.save(f'{d}/be.npy', (a * 0.25).astype('>f4'))
np.save(f'{d}/fort1d.npy', np.asfortranarray(np.arange(5, dtype='f4')))
for v in [(1, 0), (2, 0), (3, 0)]:
    with open(f'{d}/v{v[0]}.npy', 'wb') as fh: f.write_array(fh, (a * 1.5).astype('f4'), version=v)
`;
    execFileSync(python, ['-c', script, dir]);
    // readFileSync gives Node Buffers, often views into a shared pool: the reader must copy
    const ramp = Array.from({ length: 24 }, (_, i) => i - 5);
    for (const [t, dtype] of [
      ['f2', 'float16'],
      ['f4', 'float32'],
      ['f8', 'float64'],
      ['i1', 'int8'],
      ['i2', 'int16'],
      ['i4', 'int32'],
      ['i8', 'int64'],
      ['u1', 'uint8'],
      ['u2', 'uint16'],
      ['u4', 'uint32'],
      ['?', 'bool'],
    ]) {
      const a = readNpy(readFileSync(join(dir, `${t}.npy`)), `${t}.npy`);
      expect(a.dtype).toBe(dtype);
      expect(a.shape).toEqual([2, 3, 4]);
      const want =
        t === '?' ? ramp.map((v) => (((v % 7) + 7) % 7 === 0 ? 1 : 0)) : t[0] === 'u' ? ramp.map((v) => v + 5) : ramp;
      expect([...a.data].map(Number)).toEqual(want);
    }
    expect([...readNpy(readFileSync(join(dir, 'be.npy'))).data]).toEqual(ramp.map((v) => v * 0.25));
    expect(readNpy(readFileSync(join(dir, 'fort1d.npy'))).data).toEqual(Float32Array.from([0, 1, 2, 3, 4]));
    for (const v of [1, 2, 3]) {
      const a = readNpy(readFileSync(join(dir, `v${v}.npy`)));
      expect(a.shape).toEqual([2, 3, 4]);
      expect([...a.data]).toEqual(ramp.map((x) => x * 1.5));
    }
  });
  it('numpy.load reads what writeNpy writes', () => {
    writeFileSync(join(dir, 'w32.npy'), writeNpy('float32', [2, 3], [0.5, -1, 2, 3, 4, 1e-3]));
    writeFileSync(join(dir, 'w64.npy'), writeNpy('int64', [3], BigInt64Array.from([-9007199254740993n, 0n, 7n])));
    const out = execFileSync(python, [
      '-c',
      `
import numpy as np, sys, json
a = np.load(sys.argv[1] + '/w32.npy'); b = np.load(sys.argv[1] + '/w64.npy')
print(json.dumps([str(a.dtype), a.shape, a.flags.c_contiguous, a.ravel().tolist(), str(b.dtype), b.shape, [str(x) for x in b]]))
`,
      dir,
    ]).toString();
    expect(JSON.parse(out)).toEqual([
      'float32',
      [2, 3],
      true,
      [...Float32Array.from([0.5, -1, 2, 3, 4, 1e-3])],
      'int64',
      [3],
      ['-9007199254740993', '0', '7'],
    ]);
  });
});
