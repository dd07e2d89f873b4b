import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeFieldTable,
  FieldValueError,
  readHeaders,
  typedFromDecoded,
} from '../../src/broker/fieldTable.js';
import { encodableFromTyped, encodableHeaders } from '../../src/broker/fieldTableEncode.js';
import { fieldTableEntries, spliceFieldTable, withoutEntry } from '../../src/broker/rawFieldTable.js';
import { seededRandom } from '../helpers/random.js';

// amqplib's own codec: not in its package "exports", so loaded by absolute path. This is the
// encoder that really writes warren's headers on the wire.
const require = createRequire(import.meta.url);
const codec = require(join(dirname(require.resolve('amqplib')), 'lib', 'codec.js')) as {
  encodeTable(buffer: Buffer, value: unknown, offset: number): number;
};

// ---------------------------------------------------------------------------------------
// Raw AMQP field-table bytes, built by hand (RabbitMQ tag set).

type Raw = Buffer;
const u8 = (n: number) => Buffer.from([n]);
const tag = (t: string) => Buffer.from(t, 'latin1');
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const V = {
  S: (text: string | Buffer) => {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    return Buffer.concat([tag('S'), u32(bytes.length), bytes]);
  },
  t: (value: boolean) => Buffer.concat([tag('t'), u8(value ? 1 : 0)]),
  V: () => tag('V'),
  b: (n: number) => {
    const b = Buffer.alloc(2);
    b.write('b', 'latin1');
    b.writeInt8(n, 1);
    return b;
  },
  B: (n: number) => Buffer.concat([tag('B'), u8(n)]),
  s: (n: number) => {
    const b = Buffer.alloc(3);
    b.write('s', 'latin1');
    b.writeInt16BE(n, 1);
    return b;
  },
  u: (n: number) => {
    const b = Buffer.alloc(3);
    b.write('u', 'latin1');
    b.writeUInt16BE(n, 1);
    return b;
  },
  I: (n: number) => {
    const b = Buffer.alloc(5);
    b.write('I', 'latin1');
    b.writeInt32BE(n, 1);
    return b;
  },
  i: (n: number) => {
    const b = Buffer.alloc(5);
    b.write('i', 'latin1');
    b.writeUInt32BE(n, 1);
    return b;
  },
  l: (n: bigint) => {
    const b = Buffer.alloc(9);
    b.write('l', 'latin1');
    b.writeBigInt64BE(n, 1);
    return b;
  },
  T: (n: bigint) => {
    const b = Buffer.alloc(9);
    b.write('T', 'latin1');
    b.writeBigUInt64BE(n, 1);
    return b;
  },
  f: (n: number) => {
    const b = Buffer.alloc(5);
    b.write('f', 'latin1');
    b.writeFloatBE(n, 1);
    return b;
  },
  d: (n: number) => {
    const b = Buffer.alloc(9);
    b.write('d', 'latin1');
    b.writeDoubleBE(n, 1);
    return b;
  },
  D: (places: number, digits: number) => Buffer.concat([tag('D'), u8(places), u32(digits)]),
  x: (bytes: Buffer) => Buffer.concat([tag('x'), u32(bytes.length), bytes]),
  A: (...values: Raw[]) => {
    const inner = Buffer.concat(values);
    return Buffer.concat([tag('A'), u32(inner.length), inner]);
  },
  F: (...entries: [string, Raw][]) => {
    const inner = table(...entries);
    return Buffer.concat([tag('F'), u32(inner.length), inner]);
  },
};

/** The bytes of a field table without its 4-byte length prefix (what decodeFieldTable reads). */
function table(...entries: [string, Raw][]): Buffer {
  return Buffer.concat(
    entries.flatMap(([key, value]) => {
      const k = Buffer.from(key, 'utf8');
      return [u8(k.length), k, value];
    }),
  );
}

/** What `publish` sends for a decoded table: through the NDJSON text, then amqplib's encoder. */
function reencode(original: Buffer): Buffer {
  const typed = decodeFieldTable(original);
  const viaNdjson = JSON.parse(JSON.stringify(typed)) as Record<string, unknown>;
  const encodable = encodableHeaders(viaNdjson);
  const buffer = Buffer.alloc(original.length * 2 + 1024);
  const length = codec.encodeTable(buffer, encodable, 0);
  expect(buffer.readUInt32BE(0)).toBe(length - 4);
  return buffer.subarray(4, length);
}

function expectByteRoundTrip(original: Buffer): void {
  expect(reencode(original).toString('hex')).toBe(original.toString('hex'));
}

/** Decodes a one-entry table and returns the typed JSON value of the entry. */
function decodeOne(value: Raw): unknown {
  return JSON.parse(JSON.stringify(decodeFieldTable(table(['h', value])))).h;
}

// ---------------------------------------------------------------------------------------

describe('decodeFieldTable: the typed JSON form of every tag', () => {
  const cases: [string, Raw, unknown][] = [
    ['S longstr is a plain string', V.S('héllo ✓'), 'héllo ✓'],
    ['S empty longstr is an empty string', V.S(''), ''],
    ['t true is a plain boolean', V.t(true), true],
    ['t false is a plain boolean', V.t(false), false],
    ['V void is null', V.V(), null],
    ['b int8 is a plain number (amqplib guesses int8)', V.b(-128), -128],
    ['b int8 127 is plain', V.b(127), 127],
    ['B uint8 is typed (amqplib never guesses uint8)', V.B(200), { '!': 'uint8', value: 200 }],
    ['s int16 in int8 range is typed', V.s(5), { '!': 'int16', value: 5 }],
    ['s int16 outside int8 range is plain', V.s(-1000), -1000],
    ['u uint16 is typed', V.u(65535), { '!': 'uint16', value: 65535 }],
    ['I int32 in int16 range is typed', V.I(300), { '!': 'int32', value: 300 }],
    ['I int32 outside int16 range is plain', V.I(-2147483648), -2147483648],
    ['i uint32 is typed', V.i(4294967295), { '!': 'uint32', value: 4294967295 }],
    ['l int64 small is typed', V.l(2n), { '!': 'int64', value: 2 }],
    ['l int64 beyond int32 is plain', V.l(2n ** 40n), 2 ** 40],
    ['l int64 negative beyond int32 is plain', V.l(-(2n ** 52n)), -(2 ** 52)],
    ['l int64 at 2^53 is a string', V.l(2n ** 53n), { '!': 'int64', value: '9007199254740992' }],
    ['l int64 beyond 2^53 is a string', V.l(2n ** 53n + 1n), { '!': 'int64', value: '9007199254740993' }],
    ['l int64 minimum is a string', V.l(-(2n ** 63n)), { '!': 'int64', value: '-9223372036854775808' }],
    ['T timestamp is typed', V.T(1795770000n), { '!': 'timestamp', value: 1795770000 }],
    [
      'T timestamp beyond 2^53 is a string',
      V.T(2n ** 64n - 1n),
      { '!': 'timestamp', value: '18446744073709551615' },
    ],
    ['f float is typed', V.f(1.5), { '!': 'float', value: 1.5 }],
    ['f float NaN is a string', V.f(Number.NaN), { '!': 'float', value: 'NaN' }],
    ['f float Infinity is a string', V.f(Infinity), { '!': 'float', value: 'Infinity' }],
    ['f float -0 is a string', V.f(-0), { '!': 'float', value: '-0' }],
    ['d double with a fraction is plain', V.d(1.25), 1.25],
    ['d double without a fraction is typed', V.d(2), { '!': 'double', value: 2 }],
    ['d double 2^60 (no fraction, int64 guess) is typed', V.d(2 ** 60), { '!': 'double', value: 2 ** 60 }],
    ['d double at or above 2^63 is plain', V.d(1e19), 1e19],
    ['d double NaN is a string', V.d(Number.NaN), { '!': 'double', value: 'NaN' }],
    ['d double -Infinity is a string', V.d(-Infinity), { '!': 'double', value: '-Infinity' }],
    ['d double -0 is a string', V.d(-0), { '!': 'double', value: '-0' }],
    ['D decimal is typed', V.D(2, 12345), { '!': 'decimal', value: { places: 2, digits: 12345 } }],
    ['x byte array is base64', V.x(Buffer.from([0, 1, 2, 255])), { '!': 'bytes', value: 'AAEC/w==' }],
    ['x empty byte array', V.x(Buffer.alloc(0)), { '!': 'bytes', value: '' }],
    ['A array holds typed items', V.A(V.b(1), V.S('a'), V.B(2)), [1, 'a', { '!': 'uint8', value: 2 }]],
    ['A empty array', V.A(), []],
    ['F nested table is a plain object', V.F(['a', V.b(1)], ['b', V.S('x')]), { a: 1, b: 'x' }],
    [
      'F nested table with a "!" key is wrapped as a typed table',
      V.F(['a', V.b(1)], ['!', V.S('bang')]),
      { '!': 'table', value: { a: 1, '!': 'bang' } },
    ],
  ];

  it.each(cases)('%s', (_name, raw, expected) => {
    expect(decodeOne(raw)).toEqual(expected);
    // -0 and NaN must not survive as numbers: JSON would print them as 0 and null.
    expect(JSON.stringify(decodeOne(raw))).toBe(JSON.stringify(expected));
  });

  it('decodes several keys in order, including an empty table', () => {
    expect(decodeFieldTable(Buffer.alloc(0))).toEqual({});
    const decoded = decodeFieldTable(table(['x-tenant', V.S('acme')], ['x-attempt', V.b(2)]));
    expect(decoded).toEqual({ 'x-tenant': 'acme', 'x-attempt': 2 });
    expect(Object.keys(decoded)).toEqual(['x-tenant', 'x-attempt']);
  });

  it('rejects an unknown tag with a FieldValueError naming it', () => {
    expect(() => decodeFieldTable(table(['h', tag('Z')]))).toThrow(FieldValueError);
    expect(() => decodeFieldTable(table(['h', tag('Z')]))).toThrow(/'Z'/);
  });

  it('keeps a header named "__proto__" as an ordinary header', () => {
    const decoded = decodeFieldTable(table(['__proto__', V.S('x')], ['a', V.b(1)]));
    expect(Object.hasOwn(decoded, '__proto__')).toBe(true);
    expect(JSON.parse(JSON.stringify(decoded))).toEqual(JSON.parse('{"__proto__":"x","a":1}'));
  });
});

describe('decode → typed JSON → encode reproduces the wire bytes', () => {
  const cases: [string, Raw][] = [
    ['S', V.S('héllo')],
    ['t', V.t(true)],
    ['V', V.V()],
    ['b', V.b(-5)],
    ['B', V.B(255)],
    ['s small', V.s(1)],
    ['s large', V.s(-32768)],
    ['u', V.u(1)],
    ['I small', V.I(0)],
    ['I large', V.I(2147483647)],
    ['i', V.i(7)],
    ['l small', V.l(-1n)],
    ['l mid', V.l(2n ** 33n)],
    ['l max', V.l(2n ** 63n - 1n)],
    ['l min', V.l(-(2n ** 63n))],
    ['T', V.T(1795770000n)],
    ['T max', V.T(2n ** 64n - 1n)],
    ['f', V.f(Math.fround(0.1))],
    ['f -0', V.f(-0)],
    ['f largest', V.f(Math.fround(3.4e38))],
    ['d fraction', V.d(0.1)],
    ['d integral', V.d(3)],
    ['d huge', V.d(1e300)],
    ['d negative huge', V.d(-1e300)],
    ['d 2^50 + 0.5', V.d(2 ** 50 + 0.5)],
    ['d -0', V.d(-0)],
    ['D', V.D(255, 4294967295)],
    ['x', V.x(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0]))],
    ['x empty', V.x(Buffer.alloc(0))],
    ['A mixed', V.A(V.b(1), V.l(1n), V.d(1), V.A(V.V()), V.F(['k', V.T(1n)]))],
    ['F nested', V.F(['a', V.F(['b', V.F(['c', V.u(9)])])])],
    ['F with "!" as its last key', V.F(['a', V.b(1)], ['!', V.S('bang')])],
    ['F whose "!" key holds a table', V.F(['!', V.F(['!', V.i(1)])])],
  ];

  it.each(cases)('%s', (_name, raw) => {
    expectByteRoundTrip(table(['h', raw], ['next', V.S('after')]));
  });

  it('top-level table with a "!" key', () => {
    expectByteRoundTrip(table(['!', V.S('x')], ['value', V.b(1)]));
  });

  it('nested table whose "!" key is not the last key: republished with that key last (README limit)', () => {
    const original = table(['h', V.F(['!', V.S('bang')], ['a', V.b(1)])], ['z', V.t(true)]);
    const keyMovedLast = table(['h', V.F(['a', V.b(1)], ['!', V.S('bang')])], ['z', V.t(true)]);
    expect(reencode(original).toString('hex')).toBe(keyMovedLast.toString('hex'));
  });

  it('puts integer-like keys first, as JSON objects do (a documented limit)', () => {
    // JavaScript objects (and so JSON.parse) order integer-like keys first; README says so.
    expect(reencode(table(['b', V.S('first')], ['1', V.S('second')])).toString('hex')).toBe(
      table(['1', V.S('second')], ['b', V.S('first')]).toString('hex'),
    );
  });

  it('a header named "__proto__" holding a table', () => {
    expectByteRoundTrip(table(['__proto__', V.F(['x', V.t(true)])], ['a', V.S('b')]));
  });

  it('a "__proto__" header read from NDJSON is published under that name, not merged into the headers', () => {
    const encodable = encodableHeaders(
      JSON.parse('{"__proto__":{"x":1},"a":"b"}') as Record<string, unknown>,
    );
    const buffer = Buffer.alloc(256);
    const length = codec.encodeTable(buffer, encodable, 0);
    expect(buffer.subarray(4, length).toString('hex')).toBe(
      table(['__proto__', V.F(['x', V.b(1)])], ['a', V.S('b')]).toString('hex'),
    );
  });

  it('S longstr holding bytes that are not UTF-8 comes back with replacement characters (a documented limit)', () => {
    // amqplib can only send a long string from a JS string, i.e. as UTF-8; README says so.
    expect(reencode(table(['h', V.S(Buffer.from([0xff, 0xfe, 0x00, 0x41]))])).toString('hex')).toBe(
      table(['h', V.S(Buffer.from('\ufffd\ufffd\u0000A', 'utf8'))]).toString('hex'),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Property-based style: random nested headers of every type, fixed seed.

const mulberry32 = seededRandom;

function generator(seed: number) {
  const random = mulberry32(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  const bigU64 = () => (BigInt(int(0, 0xffffffff)) << 32n) | BigInt(int(0, 0xffffffff));
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(0, 255)));
  const text = () => {
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '\n', 'é', '✓', '😀', '!', '{', '}'];
    return Array.from({ length: int(0, 8) }, () => pick(alphabet)).join('');
  };
  const key = (used: Set<string>) => {
    // Integer-like keys and "__proto__" are left to the dedicated tests above.
    let k: string;
    do k = `${pick(['x-', 'k', 'é', 'a b', 'Z'])}${text()}`.slice(0, 40);
    while (used.has(k) || /^\d+$/.test(k) || k === '__proto__');
    used.add(k);
    return k;
  };
  const double = () =>
    pick([
      () => random() * 1000 - 500,
      () => int(-1000, 1000),
      () => (random() - 0.5) * 2 ** int(0, 1023),
      // No NaN or infinities: they are decoded, but RabbitMQ refuses them (see the bad values).
      () => pick([-0, 0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 63]),
    ])();
  const float = () => Math.fround(pick([random() * 100 - 50, int(-100, 100), -0, 3.4e38, -3.4e38, 1e-40]));

  function value(depth: number): Raw {
    const scalars: (() => Raw)[] = [
      () => V.S(text()),
      () => V.t(random() < 0.5),
      () => V.V(),
      () => V.b(int(-128, 127)),
      () => V.B(int(0, 255)),
      () => V.s(pick([int(-128, 127), int(-32768, 32767)])),
      () => V.u(int(0, 65535)),
      () => V.I(pick([int(-128, 127), int(-2147483648, 2147483647)])),
      () => V.i(pick([int(0, 255), int(0, 4294967295)])),
      () =>
        V.l(BigInt.asIntN(64, pick([bigU64(), BigInt(int(-1000, 1000)), BigInt(int(0, 2 ** 31)) << 20n]))),
      () => V.T(pick([bigU64(), BigInt(int(0, 2 ** 31))])),
      () => V.f(float()),
      () => V.d(double()),
      () => V.D(int(0, 255), int(0, 4294967295)),
      () => V.x(bytes(int(0, 12))),
    ];
    const containers: (() => Raw)[] =
      depth >= 3
        ? []
        : [
            () => V.A(...Array.from({ length: int(0, 4) }, () => value(depth + 1))),
            () => V.F(...entries(depth + 1, random() < 0.2)),
          ];
    return pick([...scalars, ...containers])();
  }

  function entries(depth: number, withBang: boolean): [string, Raw][] {
    const used = new Set<string>(['!']);
    const list: [string, Raw][] = Array.from({ length: int(0, 5) }, () => [key(used), value(depth)]);
    // A literal "!" key: amqplib can only write it last (see the dedicated test above).
    if (withBang) list.push(['!', value(depth)]);
    return list;
  }

  return { table: () => table(...entries(0, false)) };
}

describe('random nested headers of every type (seeded)', () => {
  it('2000 random tables survive decode → typed JSON → encode byte for byte', () => {
    const gen = generator(0x5eed);
    for (let i = 0; i < 2000; i += 1) {
      const original = gen.table();
      const again = reencode(original);
      if (!again.equals(original)) {
        // Show the failing case, not only "false".
        expect({ case: i, typed: decodeFieldTable(original), bytes: again.toString('hex') }).toEqual({
          case: i,
          typed: decodeFieldTable(original),
          bytes: original.toString('hex'),
        });
      }
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('encodableFromTyped / encodableHeaders: bad values name their path', () => {
  const bad: [string, unknown, RegExp][] = [
    ['unknown "!" type', { '!': 'int128', value: 1 }, /headers\.h: unknown type "int128"/],
    ['"!" that is not a string', { '!': 5, value: 1 }, /headers\.h: "!" must name a type/],
    ['int8 above range', { '!': 'int8', value: 128 }, /headers\.h: int8 value 128/],
    ['int8 below range', { '!': 'int8', value: -129 }, /headers\.h: int8 value -129/],
    ['int8 not an integer', { '!': 'int8', value: 1.5 }, /headers\.h: int8 value 1\.5/],
    ['int8 as a string', { '!': 'int8', value: '1' }, /headers\.h: int8 value "1"/],
    ['uint32 above range', { '!': 'uint32', value: 4294967296 }, /headers\.h: uint32 value 4294967296/],
    ['uint32 negative', { '!': 'uint32', value: -1 }, /headers\.h: uint32 value -1/],
    ['int64 above range', { '!': 'int64', value: '9223372036854775808' }, /headers\.h: int64 value/],
    ['int64 not digits', { '!': 'int64', value: '12abc' }, /headers\.h: int64 value "12abc"/],
    ['timestamp negative', { '!': 'timestamp', value: -1 }, /headers\.h: timestamp value -1/],
    ['bytes not base64', { '!': 'bytes', value: 'not base64!' }, /headers\.h: bytes value .* is not base64/],
    ['bytes with bad padding', { '!': 'bytes', value: 'AAA' }, /headers\.h: bytes value "AAA" is not base64/],
    ['bytes not a string', { '!': 'bytes', value: [1, 2] }, /headers\.h: bytes value/],
    ['decimal places over 255', { '!': 'decimal', value: { places: 256, digits: 1 } }, /headers\.h: decimal/],
    ['decimal without digits', { '!': 'decimal', value: { places: 2 } }, /headers\.h: decimal/],
    ['decimal negative digits', { '!': 'decimal', value: { places: 2, digits: -1 } }, /headers\.h: decimal/],
    ['decimal as a number', { '!': 'decimal', value: 1.5 }, /headers\.h: decimal/],
    ['double as a word', { '!': 'double', value: 'big' }, /headers\.h: double value "big" is not a number/],
    ['table that is an array', { '!': 'table', value: [1] }, /headers\.h: table value .* is not an object/],
    ['string that is a number', { '!': 'string', value: 1 }, /headers\.h: string value 1 is not a string/],
    // RabbitMQ closes the connection (INTERNAL_ERROR) on these: refused before sending.
    [
      'double NaN',
      { '!': 'double', value: 'NaN' },
      /headers\.h: double value "NaN" cannot be sent: RabbitMQ refuses NaN/,
    ],
    [
      'double -Infinity',
      { '!': 'double', value: '-Infinity' },
      /headers\.h: double value "-Infinity" cannot be sent/,
    ],
    [
      'float Infinity',
      { '!': 'float', value: 'Infinity' },
      /headers\.h: float value "Infinity" cannot be sent/,
    ],
    [
      'float beyond 32 bits',
      { '!': 'float', value: 3.5e38 },
      /headers\.h: float value 3\.5e\+38 is beyond the range of a 32-bit float/,
    ],
    ['plain NaN', Number.NaN, /headers\.h: NaN is not a finite number/],
    ['plain Infinity', Infinity, /headers\.h: Infinity is not a finite number/],
    ['undefined', undefined, /headers\.h: unsupported value undefined/],
  ];

  it.each(bad)('%s → FieldValueError', (_name, value, message) => {
    let caught: unknown;
    try {
      encodableHeaders({ h: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FieldValueError);
    expect((caught as Error).message).toMatch(message);
  });

  it('names the full path of a bad value deep inside tables and arrays', () => {
    expect(() => encodableHeaders({ outer: { inner: [1, { '!': 'uint8', value: 300 }] } })).toThrowError(
      /^headers\.outer\.inner\[1\]: uint8 value 300/,
    );
    expect(() =>
      encodableFromTyped({ '!': 'table', value: { deep: { '!': 'int16', value: 1e6 } } }, 'x-t'),
    ).toThrowError(/^x-t\.deep: int16 value 1000000/);
  });

  it('rejects a key over 255 bytes', () => {
    expect(() => encodableHeaders({ ['k'.repeat(256)]: 1 })).toThrow(FieldValueError);
    expect(() => encodableHeaders({ a: { ['é'.repeat(128)]: 1 } })).toThrowError(/headers\.a: key/);
  });
});

describe('encodableFromTyped: typed values a person writes by hand', () => {
  function encodeOne(value: unknown): string {
    const buffer = Buffer.alloc(256);
    const length = codec.encodeTable(buffer, { h: encodableFromTyped(value, 'h') }, 0);
    return buffer.subarray(4 + 2, length).toString('hex');
  }

  it('aliases name the same wire types as amqplib', () => {
    expect(encodeOne({ '!': 'long', value: 5 })).toBe(V.l(5n).toString('hex'));
    expect(encodeOne({ '!': 'byte', value: 5 })).toBe(V.b(5).toString('hex'));
    expect(encodeOne({ '!': 'unsignedint', value: 5 })).toBe(V.i(5).toString('hex'));
    expect(encodeOne({ '!': 'float64', value: 5 })).toBe(V.d(5).toString('hex'));
    expect(encodeOne({ '!': 'float32', value: 5 })).toBe(V.f(5).toString('hex'));
  });

  it('int64 and timestamp accept numbers and digit strings', () => {
    expect(encodeOne({ '!': 'int64', value: 7 })).toBe(V.l(7n).toString('hex'));
    expect(encodeOne({ '!': 'int64', value: '-9223372036854775808' })).toBe(
      V.l(-(2n ** 63n)).toString('hex'),
    );
    expect(encodeOne({ '!': 'timestamp', value: '18446744073709551615' })).toBe(
      V.T(2n ** 64n - 1n).toString('hex'),
    );
  });

  it('string and bool typed forms are the plain wire types', () => {
    expect(encodeOne({ '!': 'string', value: 'x' })).toBe(V.S('x').toString('hex'));
    expect(encodeOne({ '!': 'bool', value: false })).toBe(V.t(false).toString('hex'));
    expect(encodeOne({ '!': 'boolean', value: true })).toBe(V.t(true).toString('hex'));
  });
});

describe('typedFromDecoded: headers amqplib decoded without raw bytes', () => {
  it('turns Buffers into bytes, keeps amqplib typed values, walks tables and arrays', () => {
    expect(
      typedFromDecoded({
        b: Buffer.from([1, 2]),
        ts: { '!': 'timestamp', value: 5 },
        list: [Buffer.from([]), null, undefined],
        nested: { n: 1 },
      }),
    ).toEqual({
      b: { '!': 'bytes', value: 'AQI=' },
      ts: { '!': 'timestamp', value: 5 },
      list: [{ '!': 'bytes', value: '' }, null, null],
      nested: { n: 1 },
    });
  });
});

describe('headers nested deeper than warren decodes', () => {
  /** `[[[…null…]]]` `depth` arrays deep, as a header value's bytes (built without recursion). */
  function deepArray(depth: number): Buffer {
    const parts: Buffer[] = [];
    for (let level = depth; level > 0; level -= 1) parts.push(tag('A'), u32(level * 5 - 4));
    parts.push(tag('V'));
    return Buffer.concat(parts);
  }
  const entry = (key: string, value: Buffer) => Buffer.concat([u8(Buffer.byteLength(key)), tag(key), value]);
  const plain = entry('x-tenant', Buffer.concat([tag('S'), u32(4), tag('acme')]));

  it('decodes 100 levels, and refuses 101 with an error of its own, never a stack overflow', () => {
    expect(decodeFieldTable(entry('a', deepArray(100)))).toHaveProperty('a');
    for (const depth of [101, 5_000, 50_000]) {
      expect(() => decodeFieldTable(entry('a', deepArray(depth)))).toThrow(FieldValueError);
    }
  });

  it('readHeaders gives the headers it can decode and a warning naming those it cannot', () => {
    const raw = Buffer.concat([
      plain,
      entry('x-deep', deepArray(50_000)),
      entry('n', Buffer.from([0x62, 7])),
    ]);
    expect(readHeaders(raw)).toEqual({
      headers: { 'x-tenant': 'acme', n: 7 },
      warning:
        'header "x-deep" nested deeper than 100 levels: all headers kept as they came, base64, in rawHeaders',
    });
    expect(readHeaders(plain)).toEqual({ headers: { 'x-tenant': 'acme' }, warning: undefined });
  });

  it('readHeaders warns of bytes that are no field table, keeping the entries before them', () => {
    expect(readHeaders(Buffer.concat([plain, entry('bad', tag('Z'))]))).toEqual({
      headers: { 'x-tenant': 'acme' },
      warning:
        "the headers are not a valid AMQP field table (unknown field type tag 'Z'): all headers kept as they came, base64, in rawHeaders",
    });
  });

  it('fieldTableEntries finds each entry and its depth, however deep, and refuses what is cut short', () => {
    const deep = entry('x-deep', deepArray(50_000));
    const entries = Array.from(fieldTableEntries(Buffer.concat([plain, deep])));
    expect(entries.map(({ key, depth }) => ({ key, depth }))).toEqual([
      { key: 'x-tenant', depth: 0 },
      { key: 'x-deep', depth: 50_000 },
    ]);
    expect(entries[1]).toMatchObject({ start: plain.length, end: plain.length + deep.length });
    for (const cut of [1, 5, plain.length - 1, plain.length + 3, plain.length + 100]) {
      expect(() => Array.from(fieldTableEntries(Buffer.concat([plain, deep]).subarray(0, cut)))).toThrow(
        FieldValueError,
      );
    }
    // An array that claims more than its table holds.
    expect(() =>
      Array.from(fieldTableEntries(entry('a', Buffer.concat([tag('A'), u32(9), tag('V')])))),
    ).toThrow(FieldValueError);
  });

  it('spliceFieldTable replaces and removes entries without decoding the rest', () => {
    const deep = entry('x-deep', deepArray(5_000));
    const added = entry('x-tenant', Buffer.concat([tag('S'), u32(3), tag('ACM')]));
    expect(spliceFieldTable(Buffer.concat([plain, deep]), new Set(['x-tenant']), added)).toEqual(
      Buffer.concat([deep, added]),
    );
    expect(withoutEntry(Buffer.concat([plain, deep]), 'x-deep')).toEqual(plain);
  });
});
