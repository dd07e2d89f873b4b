/** Typed JSON header values made into what amqplib's encoder writes as the same wire type. */

import {
  FieldValueError,
  guessedNumberType,
  INT_RANGES,
  INT64_MIN,
  NON_FINITE,
  setField,
  TYPE_ALIASES,
} from './fieldTable.js';
import { verbatimTableOf } from './rawFieldTable.js';
import { unsendableText } from './wireText.js';

/**
 * Turns a typed JSON header value into what amqplib's encoder writes as the same wire type.
 * Throws FieldValueError naming the path of a value that cannot be encoded.
 */
export function encodableFromTyped(value: unknown, path: string): unknown {
  if (typeof value === 'string') return sendableString(value, path);
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new FieldValueError(`${path}: ${value} is not a finite number`);
    // amqplib writes a number of 2^50 or more without a fraction it can see as an int64,
    // which holds no fraction and nothing below -2^63: send those as the doubles they are.
    if (guessedNumberType(value) === 'int64' && !(Number.isInteger(value) && value >= INT64_MIN))
      return { '!': 'double', value };
    return value;
  }
  if (Array.isArray(value)) return value.map((item, index) => encodableFromTyped(item, `${path}[${index}]`));
  if (typeof value !== 'object') throw new FieldValueError(`${path}: unsupported value ${String(value)}`);
  const record = value as Record<string, unknown>;
  if (!Object.hasOwn(record, '!')) {
    const table: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
      checkKey(key, path);
      setField(table, key, encodableFromTyped(record[key], `${path}.${key}`));
    }
    return table;
  }
  return encodableFromTypedForm(record, path);
}

function checkKey(key: string, path: string): void {
  if (Buffer.byteLength(key) > 255)
    throw new FieldValueError(`${path}: key '${key.slice(0, 20)}…' is over 255 bytes`);
  const problem = unsendableText(key);
  if (problem) throw new FieldValueError(`${path}: key ${JSON.stringify(key)} ${problem}`);
}

function sendableString(value: string, path: string): string {
  const problem = unsendableText(value);
  if (problem) throw new FieldValueError(`${path} ${problem}`);
  return value;
}

function encodableFromTypedForm(record: Record<string, unknown>, path: string): unknown {
  const rawType = record['!'];
  if (typeof rawType !== 'string') throw new FieldValueError(`${path}: "!" must name a type`);
  const type = TYPE_ALIASES[rawType] ?? rawType;
  const value = record['value'];
  const fail = (what: string) =>
    new FieldValueError(`${path}: ${rawType} value ${JSON.stringify(value)} ${what}`);
  const range = INT_RANGES[type];
  if (range) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
      throw fail(`is not an integer from ${range[0]} to ${range[1]}`);
    }
    return { '!': type, value };
  }
  switch (type) {
    case 'int64':
    case 'timestamp': {
      const big = toBigInt(value);
      const [min, max] = type === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      if (big === undefined || big < min || big > max)
        throw fail(`is not ${type === 'int64' ? 'a 64-bit integer' : 'an unsigned 64-bit integer'}`);
      return { '!': type, value: big.toString() };
    }
    case 'double':
    case 'float': {
      const n = typeof value === 'string' ? NON_FINITE[value] : value;
      if (typeof n !== 'number') throw fail('is not a number');
      // RabbitMQ closes the whole connection (INTERNAL_ERROR) on a NaN or an infinity.
      if (!Number.isFinite(type === 'float' ? Math.fround(n) : n)) {
        throw fail(
          Number.isFinite(n)
            ? 'is beyond the range of a 32-bit float'
            : 'cannot be sent: RabbitMQ refuses NaN and infinite numbers',
        );
      }
      return { '!': type, value: n };
    }
    case 'decimal':
      return encodableDecimal(value, fail);
    case 'bytes': {
      if (typeof value !== 'string' || !isBase64(value)) throw fail('is not base64');
      return Buffer.from(value, 'base64');
    }
    case 'table':
      return encodableTable(value, path, fail);
    case 'string':
      if (typeof value !== 'string') throw fail('is not a string');
      return sendableString(value, path);
    case 'bool':
    case 'boolean':
      if (typeof value !== 'boolean') throw fail('is not a boolean');
      return value;
    default:
      throw new FieldValueError(
        `${path}: unknown type "${rawType}" (known: string, bool, int8, uint8, int16, uint16, int32, uint32, int64, float, double, decimal, timestamp, bytes, table)`,
      );
  }
}

/** `{"!": "decimal", "value": {"places", "digits"}}`, checked. */
function encodableDecimal(value: unknown, fail: (what: string) => FieldValueError): unknown {
  const decimal = value as { places?: unknown; digits?: unknown } | null;
  const places = decimal?.places;
  const digits = decimal?.digits;
  if (
    typeof places !== 'number' ||
    typeof digits !== 'number' ||
    !Number.isInteger(places) ||
    !Number.isInteger(digits) ||
    places < 0 ||
    places > 255 ||
    digits < 0 ||
    digits > 4294967295
  ) {
    throw fail('must be {"places": 0..255, "digits": 0..4294967295}');
  }
  return { '!': 'decimal', value: { places, digits } };
}

/** `{"!": "table", "value": {…}}`: a nested table, which may hold a literal "!" key. */
function encodableTable(value: unknown, path: string, fail: (what: string) => FieldValueError): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail('is not an object');
  const table: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    checkKey(key, path);
    setField(table, key, encodableFromTyped((value as Record<string, unknown>)[key], `${path}.${key}`));
  }
  if (!Object.hasOwn(table, '!')) return table;
  // amqplib reads an own "!" key as its type marker but encodes inherited keys too:
  // the literal "!" key rides on the prototype (and so is written last).
  // Keys copied one by one: Object.assign would take a "__proto__" key for the prototype.
  const { '!': bang, ...rest } = table;
  const withBang = Object.create({ '!': bang }) as Record<string, unknown>;
  for (const key of Object.keys(rest)) setField(withBang, key, rest[key]);
  return withBang;
}

function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/** The most bytes a message's headers may take encoded: amqplib encodes them into 64 KiB. */
export const MAX_HEADERS_BYTES = 65536;

/** Encodes a whole headers object; the keys and the encoded size are checked here too. */
export function encodableHeaders(
  headers: Record<string, unknown>,
  path = 'headers',
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(headers)) {
    checkKey(key, path);
    setField(out, key, encodableFromTyped(headers[key], `${path}.${key}`));
  }
  const size = encodedTableSize(out);
  if (size > MAX_HEADERS_BYTES) {
    throw new FieldValueError(
      `${path}: ${size} bytes encoded, over the ${MAX_HEADERS_BYTES} a message may carry`,
    );
  }
  return out;
}

/** Bytes of the value after its tag, by amqplib's type name, for the fixed-size types. */
const FIXED_SIZES: Record<string, number> = {
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  timestamp: 8,
  double: 8,
  float: 4,
  decimal: 5,
};

/**
 * The bytes amqplib writes for an encodable table (what encodableFromTyped returns), its
 * 4-byte length included. Inherited keys count: amqplib encodes them too.
 */
export function encodedTableSize(table: Record<string, unknown>): number {
  // A verbatim table: its bytes, and at most the entries that change it.
  let size = 4 + (verbatimTableOf(table)?.length ?? 0);
  for (const key in table) {
    const value = table[key];
    if (value !== undefined) size += 1 + Buffer.byteLength(key) + encodedValueSize(value);
  }
  return size;
}

function encodedValueSize(value: unknown): number {
  if (value === null) return 1;
  switch (typeof value) {
    case 'string':
      return 5 + Buffer.byteLength(value);
    case 'boolean':
      return 2;
    case 'number':
      return 1 + (FIXED_SIZES[guessedNumberType(value)] as number);
  }
  if (Buffer.isBuffer(value)) return 5 + value.length;
  if (Array.isArray(value)) {
    let size = 5;
    for (const item of value) size += encodedValueSize(item);
    return size;
  }
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, '!')) return 1 + (FIXED_SIZES[record['!'] as string] ?? 0);
  return 1 + encodedTableSize(record);
}
