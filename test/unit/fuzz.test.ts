/**
 * Property-based fuzzing of warren's parsers of outside input: NDJSON envelope lines,
 * `--match` expressions, durations and rates, and raw field tables. Each may fail only with
 * its documented error; anything else (TypeError, RangeError, a hang) is a bug. Seeds are
 * fixed, so a failure replays: fast-check prints the seed and path that found it.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFieldTable,
  type FieldTable,
  FieldValueError,
  MAX_FIELD_DEPTH,
  readHeaders,
} from '../../src/broker/fieldTable.js';
import { encodableHeaders, encodedTableSize, MAX_HEADERS_BYTES } from '../../src/broker/fieldTableEncode.js';
import { type MessageProperties, PROPERTY_KINDS, type ReceivedMessage } from '../../src/broker/message.js';
import { fieldTableEntries } from '../../src/broker/rawFieldTable.js';
import { formatDuration, parseDuration } from '../../src/duration.js';
import {
  envelopeFromMessage,
  type MessageOverrides,
  messageFromEnvelopeLine,
  recordedFromEnvelopeLine,
} from '../../src/envelope.js';
import { DataError, UsageError } from '../../src/errors.js';
import { compileMatch, compileMatches } from '../../src/match/predicate.js';
import { parseArgs } from '../../src/program.js';
import { fakeIo } from '../helpers/fakeIo.js';
import { depthOf, hostileTable, withBytes } from '../helpers/hostileTables.js';
import { known } from '../helpers/parsed.js';

// amqplib's own encoders: what the decoders' output must get through to reach the wire.
const require = createRequire(import.meta.url);
const lib = join(dirname(require.resolve('amqplib')), 'lib');
const defs = require(join(lib, 'defs.js')) as {
  BasicPublish: number;
  BasicProperties: number;
  encodeMethod(id: number, channel: number, fields: object): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: object): Buffer;
};
const codec = require(join(lib, 'codec.js')) as {
  encodeTable(buffer: Buffer, value: unknown, offset: number): number;
};

const SEED = 0x5eed_2026;
/** Runs per property: a few thousand, the whole file in a few seconds. */
const RUNS = 2000;
const run = (numRuns = RUNS) => ({ seed: SEED, numRuns });

const NO_OVERRIDES: MessageOverrides = { properties: {}, headers: {} };
const PROPERTY_NAMES = PROPERTY_KINDS.map(([name]) => name);

/** Any string: printable ASCII, any code point (lone surrogates too), or full graphemes. */
const anyString = (maxLength = 60) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
  );

/** Runs `body`; a throw other than the one `allowed` accepts is rethrown (and fails the property). */
function onlyThrows(allowed: (error: unknown) => boolean, body: () => void): void {
  try {
    body();
  } catch (error) {
    if (!allowed(error)) throw error;
  }
}

// ---------------------------------------------------------------------------------------
// The NDJSON envelope decoder.

const LINE = 17;

/** The documented failure: a DataError, exit 65, naming the line. */
const isLineError = (error: unknown): boolean =>
  error instanceof DataError && error.exitCode === 65 && error.message.startsWith(`line ${LINE}: `);

/** What amqplib would write for a decoded message: it must not throw on anything accepted. */
function encodeForWire(exchange: string, routingKey: string, body: Buffer, fields: object): void {
  defs.encodeMethod(defs.BasicPublish, 1, {
    exchange,
    routingKey,
    mandatory: true,
    immediate: false,
    ticket: 0,
  });
  defs.encodeProperties(defs.BasicProperties, 1, body.length, fields);
}

/** Decodes a line every way warren does; anything accepted must be sendable as it is. */
function decodeEveryWay(line: string): void {
  onlyThrows(isLineError, () => {
    const message = messageFromEnvelopeLine(line, LINE, NO_OVERRIDES);
    encodeForWire(message.exchange, message.routingKey, message.body, {
      ...message.properties,
      headers: message.headers,
    });
  });
  onlyThrows(isLineError, () => {
    const { message, recordedAt } = recordedFromEnvelopeLine(line, LINE, true);
    // Plain checks, not expect(): this runs thousands of times.
    if (!Buffer.isBuffer(message.body) || Number.isNaN(message.receivedAt.getTime()))
      throw new Error(`a broken message from ${line}`);
    if (recordedAt !== undefined && !Number.isFinite(recordedAt)) throw new Error(`recordedAt ${recordedAt}`);
  });
}

/** Valid property values, kind by kind. */
const propertyValue: Record<string, fc.Arbitrary<unknown>> = {
  shortstr: fc.string({ maxLength: 40 }),
  octet: fc.integer({ min: 0, max: 255 }),
  deliveryMode: fc.constantFrom(1, 2),
  timestamp: fc.nat(),
  expiration: fc.nat().map(String),
};
const properties: fc.Arbitrary<MessageProperties> = fc.record(
  Object.fromEntries(
    PROPERTY_KINDS.map(([name, kind]) => [name, propertyValue[kind] as fc.Arbitrary<unknown>]),
  ),
  { requiredKeys: [] },
) as fc.Arbitrary<MessageProperties>;

/** Header values of simple types: they pass through the decoder as they are. */
const simpleHeaderValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.boolean(),
  fc.constant(null),
);
const headerKey = fc.string({ minLength: 1, maxLength: 20 });
const simpleHeaders = fc.dictionary(headerKey, simpleHeaderValue, { maxKeys: 6, noNullPrototype: true });

const body = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'grapheme', maxLength: 64 }).map((s) => Buffer.from(s)),
);

/** A valid envelope line's object: every optional field present or not. */
const validEnvelope = fc
  .record(
    {
      exchange: fc.string({ maxLength: 30 }),
      routingKey: fc.string({ maxLength: 30 }),
      redelivered: fc.boolean(),
      properties,
      headers: simpleHeaders,
      body,
      base64: fc.boolean(),
      receivedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    },
    { requiredKeys: ['body', 'base64'] },
  )
  .map(({ body: bytes, base64, ...rest }) => {
    const utf8 = !base64 && Buffer.from(bytes.toString('utf8')).equals(bytes);
    return {
      bytes,
      envelope: {
        ...rest,
        body: bytes.toString(utf8 ? 'utf8' : 'base64'),
        ...(utf8 && !base64 ? {} : { bodyEncoding: 'base64' }),
      } as Record<string, unknown>,
    };
  });

/** The fields of an envelope (the SPEC's list, kept here apart from the decoder's own). */
const ENVELOPE_FIELDS = [
  'exchange',
  'routingKey',
  'redelivered',
  'properties',
  'headers',
  'body',
  'bodyEncoding',
  'receivedAt',
];

/** Where a near-valid envelope gets its one bad field. */
const MUTATION_PATHS = [
  ...ENVELOPE_FIELDS,
  'unknownField',
  ...PROPERTY_NAMES.map((name) => `properties.${name}`),
  'headers.x-plain',
  'headers.x-new',
  'headers.x-typed',
  'headers.x-typed.!',
  'headers.x-typed.value',
  'headers.x-list',
  'headers.x-table.inner',
];

/** A valid envelope with typed headers, the value at `path` replaced (or removed). */
function mutated(base: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const envelope = JSON.parse(
    JSON.stringify({
      ...base,
      headers: {
        ...(base['headers'] as object | undefined),
        'x-plain': 'v',
        'x-typed': { '!': 'int64', value: '42' },
        'x-list': ['a', 1, { '!': 'uint8', value: 200 }],
        'x-table': { inner: { '!': 'timestamp', value: 1795770000 } },
      },
    }),
  );
  const keys = path.split('.');
  let target = envelope as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    const next = target[key];
    if (next === null || typeof next !== 'object') target[key] = {};
    target = target[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return envelope;
}

describe('fuzz: NDJSON envelope lines', () => {
  it('a random string is decoded or refused with a DataError naming the line', () => {
    fc.assert(
      fc.property(anyString(120), (line) => decodeEveryWay(line)),
      run(),
    );
  });

  it('any JSON value is decoded or refused with a DataError naming the line', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => decodeEveryWay(JSON.stringify(value))),
      run(),
    );
  });

  it('a JSON object with envelope keys and random values: decoded or a DataError', () => {
    const keys = fc.constantFrom(...ENVELOPE_FIELDS);
    fc.assert(
      fc.property(fc.dictionary(keys, fc.jsonValue({ maxDepth: 3 })), (record) =>
        decodeEveryWay(JSON.stringify(record)),
      ),
      run(),
    );
  });

  it('a valid envelope with one field set to random JSON (or removed): decoded or a DataError', () => {
    fc.assert(
      fc.property(
        validEnvelope,
        fc.constantFrom(...MUTATION_PATHS),
        fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined, freq: 5 }),
        ({ envelope }, path, value) => decodeEveryWay(JSON.stringify(mutated(envelope, path, value))),
      ),
      run(),
    );
  });

  it('a valid envelope cut short, or with a character changed: decoded or a DataError', () => {
    fc.assert(
      fc.property(
        validEnvelope,
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 1 }),
        ({ envelope }, at, c) => {
          const line = JSON.stringify(mutated(envelope, 'headers.x-new', 'n'));
          const i = at % line.length;
          decodeEveryWay(line.slice(0, i));
          decodeEveryWay(line.slice(0, i) + c + line.slice(i + 1));
        },
      ),
      run(),
    );
  });

  it('round trip: a valid envelope decodes to its body bytes, properties and headers', () => {
    fc.assert(
      fc.property(validEnvelope, ({ bytes, envelope }) => {
        const line = JSON.stringify(envelope);
        const message = messageFromEnvelopeLine(line, LINE, NO_OVERRIDES);
        const { message: recorded } = recordedFromEnvelopeLine(line, LINE, true);
        const expected = {
          exchange: envelope['exchange'] ?? '',
          routingKey: envelope['routingKey'] ?? '',
          properties: envelope['properties'] ?? {},
          headers: envelope['headers'],
          body: bytes.toString('hex'),
        };
        expect({
          published: { ...message, body: message.body.toString('hex') },
          recorded: {
            exchange: recorded.exchange,
            routingKey: recorded.routingKey,
            properties: recorded.properties,
            headers: recorded.headers,
            body: recorded.body.toString('hex'),
            redelivered: recorded.redelivered,
            receivedAt: envelope['receivedAt'] === undefined ? undefined : recorded.receivedAt.toISOString(),
          },
        }).toEqual({
          published: expected,
          recorded: {
            ...expected,
            redelivered: envelope['redelivered'] === true,
            receivedAt: envelope['receivedAt'],
          },
        });
      }),
      run(),
    );
  });

  it('round trip: a received message written as an envelope reads back the same', () => {
    fc.assert(
      fc.property(validEnvelope, fc.date({ noInvalidDate: true }), ({ bytes, envelope }, at) => {
        const received: ReceivedMessage = {
          exchange: (envelope['exchange'] as string | undefined) ?? '',
          routingKey: (envelope['routingKey'] as string | undefined) ?? '',
          redelivered: envelope['redelivered'] === true,
          properties: (envelope['properties'] as MessageProperties | undefined) ?? {},
          headers: envelope['headers'] as FieldTable | undefined,
          body: bytes,
          receivedAt: at,
        };
        const line = JSON.stringify(envelopeFromMessage(received));
        const back = recordedFromEnvelopeLine(line, LINE, true).message;
        expect(back.body.equals(bytes)).toBe(true);
        expect({ ...back, body: undefined }).toEqual({
          ...received,
          headers:
            received.headers && Object.keys(received.headers).length > 0 ? received.headers : undefined,
          body: undefined,
        });
      }),
      run(),
    );
  });
});

// ---------------------------------------------------------------------------------------
// The `--match` parser (src/match/predicate.ts).

/** The documented failure: a UsageError (exit 2) quoting the expression. */
const isMatchUsageError = (expr: string) => (error: unknown) =>
  error instanceof UsageError && error.exitCode === 2 && error.message.startsWith(`--match '${expr}': `);

const typedForm = fc.record({
  '!': fc.constantFrom('int64', 'timestamp', 'uint8', 'double', 'float', 'bytes', 'decimal', 'table', 'x'),
  value: fc.jsonValue({ maxDepth: 2 }),
});
const headerValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), typedForm, fc.array(typedForm, { maxLength: 3 }));

/** A message as the broker (or a recorded line) hands it over: anything goes in the headers. */
const receivedMessage: fc.Arbitrary<ReceivedMessage> = fc.record({
  exchange: fc.string({ maxLength: 20 }),
  routingKey: fc.string({ maxLength: 20 }),
  redelivered: fc.boolean(),
  properties,
  headers: fc.option(
    fc.dictionary(fc.constantFrom('x-id', 'a.b', 'a b', 'x!y', '__proto__', 'k', ''), headerValue, {
      maxKeys: 4,
    }),
    { nil: undefined },
  ) as fc.Arbitrary<FieldTable | undefined>,
  body: fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v))),
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => Buffer.from(s)),
  ),
  receivedAt: fc.constant(new Date(0)),
});

/** Compiles `expr`; a compiled predicate must give a boolean for every message, never throw. */
function compileAndEvaluate(expr: string, messages: ReceivedMessage[]): void {
  onlyThrows(isMatchUsageError(expr), () => {
    const predicate = compileMatch(expr);
    for (const message of messages) expect(typeof predicate(message)).toBe('boolean');
  });
}

/** A name step: anything but . [ ] " = ! ~ < > and white space. */
const plainName = anyString(12).filter((s) => s.length > 0 && !/[.[\]"=!~<>\s]/.test(s));
/** A header name written raw: anything up to the operator, dots included. */
const rawHeaderName = anyString(12).filter((s) => s.length > 0 && !/["=!~<>\s]/.test(s));
const quote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
const step = fc.oneof(
  plainName.map((n) => `.${n}`),
  anyString(12).map((n) => `.${quote(n)}`),
  fc.nat(30).map((i) => `[${i}]`),
);
const steps = (minLength: number) => fc.array(step, { minLength, maxLength: 3 }).map((s) => s.join(''));

/** Fields that can be tested for presence, and those every message has. */
const optionalField = fc.oneof(
  steps(1).map((s) => `body${s}`),
  fc.constantFrom(...PROPERTY_NAMES).map((name) => `properties.${name}`),
  rawHeaderName.map((name) => `headers.${name}`),
  fc.tuple(anyString(12), steps(0)).map(([name, s]) => `headers.${quote(name)}${s}`),
);
const alwaysPresentField = fc.constantFrom('exchange', 'routingKey', 'redelivered', 'bodySize', 'body');
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const regexValue = fc.oneof(
  anyString(12).map(escapeRegex),
  fc.constantFrom('', '^a', 'b$', '\\d+', '(x|y)', '^order\\.', '[0-9a-f]{2}', '"id":\\s*42'),
);
const textValue = anyString(20).filter((s) => !/^[=~<>]/.test(s));
const numberValue = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.constantFrom('0', '-1', '+2', '1.5', '.5', '5.', '1e3', '-2E-3', '007'),
);

/** A well-formed expression and the field and operator it was built from. */
const validExpression = fc.oneof(
  optionalField.map((field) => ({ expr: field, field, op: '', value: '' })),
  optionalField.map((field) => ({ expr: `!${field}`, field, op: '!', value: '' })),
  fc
    .tuple(fc.oneof(optionalField, alwaysPresentField), fc.constantFrom('=', '!='), textValue)
    .map(([field, op, value]) => ({ expr: `${field}${op}${value}`, field, op, value })),
  fc
    .tuple(fc.oneof(optionalField, alwaysPresentField), fc.constantFrom('~', '!~'), regexValue)
    .map(([field, op, value]) => ({ expr: `${field}${op}${value}`, field, op, value })),
  fc
    .tuple(fc.oneof(optionalField, alwaysPresentField), fc.constantFrom('<', '<=', '>', '>='), numberValue)
    .map(([field, op, value]) => ({ expr: `${field}${op}${value}`, field, op, value })),
);

const MATCH_TOKENS = [
  'exchange',
  'routingKey',
  'redelivered',
  'bodySize',
  'body',
  'properties',
  'headers',
  'contentType',
  'messageid',
  'x-id',
  'id',
  '.',
  '.',
  '[',
  ']',
  '[0]',
  '[01]',
  '[-1]',
  '"',
  '\\',
  '=',
  '!',
  '~',
  '!=',
  '!~',
  '==',
  '=~',
  '<',
  '>',
  '<=',
  '>=',
  '=<',
  '1e3',
  '-1.5',
  'NaN',
  ' ',
  '\t',
  '(',
  ')',
  '*',
  '+',
  '^',
  '$',
  '0',
  '42',
  'é',
  '\u2028',
  '\ud800',
];
const tokenSoup = fc.array(fc.constantFrom(...MATCH_TOKENS), { maxLength: 10 }).map((t) => t.join(''));

describe('fuzz: --match expressions', () => {
  it('a random string compiles (and evaluates) or is a UsageError quoting it', () => {
    fc.assert(
      fc.property(anyString(40), fc.array(receivedMessage, { maxLength: 2 }), (expr, messages) =>
        compileAndEvaluate(expr, messages),
      ),
      run(),
    );
  });

  it('a soup of the grammar’s tokens compiles (and evaluates) or is a UsageError quoting it', () => {
    fc.assert(
      fc.property(tokenSoup, fc.array(receivedMessage, { maxLength: 2 }), (expr, messages) =>
        compileAndEvaluate(expr, messages),
      ),
      run(),
    );
  });

  it('a well-formed expression compiles and gives a boolean on any message', () => {
    fc.assert(
      fc.property(validExpression, receivedMessage, ({ expr }, message) => {
        const predicate = compileMatch(expr);
        expect(typeof predicate(message)).toBe('boolean');
        expect(compileMatches([expr, expr])(message)).toBe(predicate(message));
      }),
      run(),
    );
  });

  it('a comparison and its negation are never both true; presence and absence never both', () => {
    fc.assert(
      fc.property(validExpression, receivedMessage, ({ field, op, value }, message) => {
        if (op === '' || op === '!') {
          expect(compileMatch(field)(message) && compileMatch(`!${field}`)(message)).toBe(false);
          return;
        }
        if (op.startsWith('<') || op.startsWith('>')) {
          const opposite = { '<': '>=', '<=': '>', '>': '<=', '>=': '<' }[op];
          const both =
            compileMatch(`${field}${op}${value}`)(message) &&
            compileMatch(`${field}${opposite}${value}`)(message);
          expect(both).toBe(false);
          return;
        }
        const positive = op.replace('!', '');
        const both =
          compileMatch(`${field}${positive}${value}`)(message) &&
          compileMatch(`${field}!${positive}${value}`)(message);
        expect(both).toBe(false);
      }),
      run(),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Durations (src/duration.ts) and rates (`replay --rate`, parsed by the command line).

const isDurationError = (error: unknown) =>
  error instanceof UsageError && error.exitCode === 2 && error.message.startsWith('--timeout: ');
const DURATION_TOKENS = [
  '0',
  '1',
  '5',
  '10',
  '99',
  '.',
  '.5',
  'ms',
  's',
  'm',
  'h',
  'd',
  ' ',
  '-',
  '+',
  'e3',
  'x',
];
const durationSoup = fc.array(fc.constantFrom(...DURATION_TOKENS), { maxLength: 8 }).map((t) => t.join(''));
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

describe('fuzz: durations and rates', () => {
  it('a random string is a whole, safe number of milliseconds or a UsageError', () => {
    fc.assert(
      fc.property(fc.oneof(anyString(20), durationSoup, fc.stringMatching(/^\d{1,400}(ms|s|m|h)$/)), (text) =>
        onlyThrows(isDurationError, () => {
          const ms = parseDuration(text, '--timeout');
          expect(Number.isSafeInteger(ms) && ms >= 0).toBe(true);
        }),
      ),
      run(),
    );
  });

  it('a sum of parts is parsed to its milliseconds', () => {
    const part = fc.tuple(
      fc.nat(100_000),
      fc.option(fc.stringMatching(/^\d{1,3}$/), { nil: undefined }),
      fc.constantFrom('ms', 's', 'm', 'h'),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (parts) => {
        let total = 0;
        for (const [whole, fraction, unit] of parts) {
          total +=
            Number(fraction === undefined ? `${whole}` : `${whole}.${fraction}`) * (UNIT_MS[unit] as number);
        }
        const text = parts.map(([w, f, u]) => (f === undefined ? `${w}${u}` : `${w}.${f}${u}`)).join('');
        expect(parseDuration(text)).toBe(Math.round(total));
      }),
      run(),
    );
  });

  it('what formatDuration writes parses back to about the same duration', () => {
    fc.assert(
      fc.property(fc.nat(48 * 3_600_000), (ms) => {
        const back = parseDuration(formatDuration(ms));
        // formatDuration keeps 2 decimals below 10s, 1 below a minute, whole seconds above.
        const tolerance = ms < 10_000 ? 5 : ms < 60_000 ? 50 : 500;
        expect(Math.abs(back - ms)).toBeLessThanOrEqual(tolerance);
      }),
      run(),
    );
  });

  /** `replay FILE --rate=TEXT`: the rate in messages per second, or the UsageError. */
  async function rateOf(text: string): Promise<number | UsageError> {
    try {
      const parsed = known(await parseArgs(['replay', 'capture.ndjson', `--rate=${text}`], fakeIo().io));
      if (parsed?.command !== 'replay') throw new Error(`not a replay: ${JSON.stringify(parsed)}`);
      return parsed.options.rate as number;
    } catch (error) {
      if (error instanceof UsageError && error.exitCode === 2 && error.message.includes('--rate'))
        return error;
      throw error;
    }
  }

  it('a random --rate is a positive, finite number of messages per second or a UsageError', async () => {
    const rateSoup = fc
      .array(fc.constantFrom('0', '1', '7', '30', '.', '/', 's', 'm', 'h', 'd', ' ', '-', 'e2', 'x'), {
        maxLength: 6,
      })
      .map((t) => t.join(''));
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyString(12), rateSoup), async (text) => {
        const rate = await rateOf(text);
        if (rate instanceof UsageError) return;
        expect(rate > 0 && Number.isFinite(rate)).toBe(true);
      }),
      run(1000),
    );
  });

  it('N, N/s, N/m and N/h are N per second, minute and hour', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom('', '/s', '/m', '/h'),
        async (n, per) => {
          const seconds = { '': 1, '/s': 1, '/m': 60, '/h': 3600 }[per] as number;
          expect(await rateOf(`${n}${per}`)).toBe(n / seconds);
        },
      ),
      run(500),
    );
  });

  // Was a bug: 400 digits are a number, Infinity, and it was taken as a rate.
  it('a rate too large to be a number is refused', async () => {
    expect(await rateOf('9'.repeat(400))).toBeInstanceOf(UsageError);
  });
});

// ---------------------------------------------------------------------------------------
// The field-table decoder (src/broker/fieldTable.ts).

const isTableError = (error: unknown) => error instanceof FieldValueError;

/** What amqplib writes for an encodable table: its bytes without the 4-byte length. */
function encodeTable(table: Record<string, unknown>): Buffer {
  const buffer = Buffer.alloc(MAX_HEADERS_BYTES);
  const length = codec.encodeTable(buffer, table, 0);
  return Buffer.from(buffer.subarray(4, length));
}

const nonFinite = (n: number) =>
  Number.isNaN(n) ? 'NaN' : Object.is(n, -0) ? '-0' : Number.isFinite(n) ? n : String(n);
const typedLeaf = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -128, max: 127 }).map((value) => ({ '!': 'int8', value })),
  fc.integer({ min: 0, max: 255 }).map((value) => ({ '!': 'uint8', value })),
  fc.integer({ min: -32768, max: 32767 }).map((value) => ({ '!': 'int16', value })),
  fc.integer({ min: 0, max: 65535 }).map((value) => ({ '!': 'uint16', value })),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => ({ '!': 'int32', value })),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((value) => ({ '!': 'uint32', value })),
  fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map((v) => ({ '!': 'int64', value: v.toString() })),
  fc.bigInt(0n, 2n ** 64n - 1n).map((v) => ({ '!': 'timestamp', value: v.toString() })),
  fc.double().map((v) => ({ '!': 'double', value: nonFinite(v) })),
  fc.float().map((v) => ({ '!': 'float', value: nonFinite(v) })),
  fc
    .record({ places: fc.integer({ min: 0, max: 255 }), digits: fc.integer({ min: 0, max: 2 ** 32 - 1 }) })
    .map((value) => ({ '!': 'decimal', value })),
  fc.uint8Array({ maxLength: 12 }).map((b) => ({ '!': 'bytes', value: Buffer.from(b).toString('base64') })),
);
const tableKey = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('!', '__proto__', 'value'));
const { typedTable } = fc.letrec((tie) => ({
  typedValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    typedLeaf,
    fc.array(tie('typedValue'), { maxLength: 3 }),
    // A nested table with a "!" key is written in the typed form, as the decoder writes it.
    tie('typedTable').map((value) => (Object.hasOwn(value as object, '!') ? { '!': 'table', value } : value)),
    tie('typedTable').map((value) => ({ '!': 'table', value })),
  ),
  typedTable: fc.dictionary(tableKey, tie('typedValue'), { maxKeys: 4 }),
}));

describe('fuzz: decodeFieldTable', () => {
  it('random bytes decode or fail with a FieldValueError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) =>
        onlyThrows(isTableError, () => {
          decodeFieldTable(Buffer.from(bytes));
        }),
      ),
      run(),
    );
  });

  it('a real table cut short or with a byte changed decodes or fails with a FieldValueError', () => {
    fc.assert(
      fc.property(typedTable, fc.nat(), fc.integer({ min: 0, max: 255 }), (table, at, byte) => {
        const bytes = encodeTable(encodableHeaders(table as Record<string, unknown>));
        if (bytes.length === 0) return;
        const i = at % bytes.length;
        onlyThrows(isTableError, () => {
          decodeFieldTable(bytes.subarray(0, i));
        });
        const changed = Buffer.from(bytes);
        changed[i] = byte;
        onlyThrows(isTableError, () => {
          decodeFieldTable(changed);
        });
      }),
      run(),
    );
  });

  it('whatever it decodes is accepted again as headers, and amqplib encodes that', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        let table: FieldTable;
        try {
          table = decodeFieldTable(Buffer.from(bytes));
        } catch (error) {
          if (isTableError(error)) return;
          throw error;
        }
        encodeTable(encodableHeaders(table));
      }),
      run(),
    );
  });

  it('round trip: bytes amqplib wrote decode, and re-encode to the same bytes', () => {
    fc.assert(
      fc.property(typedTable, (table) => {
        const encodable = encodableHeaders(table as Record<string, unknown>);
        const bytes = encodeTable(encodable);
        expect(encodedTableSize(encodable)).toBe(bytes.length + 4);
        const again = encodeTable(encodableHeaders(decodeFieldTable(bytes)));
        expect(again.toString('hex')).toBe(bytes.toString('hex'));
      }),
      run(),
    );
  });
});

describe('fuzz: hostile field tables of any depth (what another client may send)', () => {
  it('readHeaders never throws or overflows: deeper than 100 levels is a warning, the rest decodes and re-encodes byte for byte', () => {
    fc.assert(
      fc.property(hostileTable, (generated) => {
        const { table, bytes, depth } = withBytes(generated);
        const read = readHeaders(bytes);
        expect(read.warning === undefined).toBe(depth <= MAX_FIELD_DEPTH);
        const entries = Array.from(fieldTableEntries(bytes));
        expect(entries.map((entry) => entry.key)).toEqual(Object.keys(table));
        expect(entries.map((entry) => entry.depth)).toEqual(Object.values(table).map(depthOf));
        // The headers it could decode are exactly the shallow ones, and go out as they came.
        const shallow = entries.filter((entry) => entry.depth <= MAX_FIELD_DEPTH);
        expect(Object.keys(read.headers)).toEqual(shallow.map((entry) => entry.key));
        const again = encodeTable(encodableHeaders(read.headers));
        expect(again).toEqual(Buffer.concat(shallow.map((entry) => bytes.subarray(entry.start, entry.end))));
      }),
      run(100),
    );
  });

  it('any damage to a hostile table is a FieldValueError or a warning, never another error', () => {
    fc.assert(
      fc.property(hostileTable, fc.nat(), fc.integer({ min: 0, max: 255 }), (generated, at, byte) => {
        const { bytes } = withBytes(generated);
        const i = at % bytes.length;
        const changed = Buffer.from(bytes);
        changed[i] = byte;
        for (const damaged of [bytes.subarray(0, i), changed]) {
          readHeaders(damaged);
          onlyThrows(isTableError, () => Array.from(fieldTableEntries(damaged)));
        }
      }),
      run(100),
    );
  });
});

// ---------------------------------------------------------------------------------------
// What the properties above found, pinned as examples.

describe('fuzz findings, pinned', () => {
  it('a plain number amqplib would write as an int64 but cannot (a fraction, below -2^63) goes as a double', () => {
    for (const n of [2 ** 50 + 0.5, -(2 ** 50) - 0.5, -1e19, -1e300]) {
      const headers = encodableHeaders({ n });
      expect(headers).toEqual({ n: { '!': 'double', value: n } });
      expect(decodeFieldTable(encodeTable(headers))).toEqual({ n: { '!': 'double', value: n } });
    }
    // Integers amqplib writes as int64 stay plain.
    expect(encodableHeaders({ n: -(2 ** 63) })).toEqual({ n: -(2 ** 63) });
    expect(encodableHeaders({ n: 2 ** 52 })).toEqual({ n: 2 ** 52 });
  });

  it('a typed table with both a "!" and a "__proto__" key keeps both', () => {
    const value = JSON.parse('{"!":"bang","__proto__":"proto","k":1}');
    const bytes = encodeTable(encodableHeaders({ t: { '!': 'table', value } }));
    const decoded = decodeFieldTable(bytes)['t'] as { '!': string; value: Record<string, unknown> };
    expect(decoded['!']).toBe('table');
    expect(Object.keys(decoded.value).sort()).toEqual(['!', '__proto__', 'k']);
    expect(Object.getOwnPropertyDescriptor(decoded.value, '__proto__')?.value).toBe('proto');
  });

  it('headers that amqplib cannot encode (over 64 KiB) are a DataError naming the line', () => {
    const line = JSON.stringify({ body: 'x', headers: { big: 'h'.repeat(70_000) } });
    expect(() => messageFromEnvelopeLine(line, LINE, NO_OVERRIDES)).toThrow(
      /^line 17: headers: 70\d{3} bytes encoded, over the 65536/,
    );
    // Just under the limit is fine, and amqplib encodes it.
    const fits = { body: 'x', headers: { big: 'h'.repeat(MAX_HEADERS_BYTES - 4 - 1 - 3 - 5) } };
    const message = messageFromEnvelopeLine(JSON.stringify(fits), LINE, NO_OVERRIDES);
    encodeForWire('', '', message.body, { headers: message.headers });
  });

  it('a deliveryMode other than 1 or 2 is a DataError, not a channel closed by the broker', () => {
    for (const mode of [0, 3, 7, 255]) {
      const line = JSON.stringify({ body: 'x', properties: { deliveryMode: mode } });
      expect(() => messageFromEnvelopeLine(line, LINE, NO_OVERRIDES)).toThrow(DataError);
    }
  });

  it('a field table cut short is a FieldValueError, not a RangeError', () => {
    const bytes = encodeTable({ n: { '!': 'int64', value: '5' }, s: 'text' });
    // 11 bytes hold the whole first entry: key length, key, tag, 8 bytes.
    expect(decodeFieldTable(bytes.subarray(0, 11))).toEqual({ n: { '!': 'int64', value: 5 } });
    for (let i = 1; i < bytes.length; i += 1) {
      if (i !== 11) expect(() => decodeFieldTable(bytes.subarray(0, i))).toThrow(/cut short/);
    }
  });

  it('a duration too long to be a number of milliseconds is a UsageError', () => {
    expect(() => parseDuration(`${'9'.repeat(400)}h`, '--timeout')).toThrow(UsageError);
    expect(() => parseDuration('99999999999999999999h', '--timeout')).toThrow(/too long/);
  });
});
