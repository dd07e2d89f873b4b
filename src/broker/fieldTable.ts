/**
 * AMQP field tables (message headers, arguments) as JSON, without losing the wire type.
 *
 * amqplib decodes every integer and float tag to a plain JS number and re-encodes numbers
 * by guessing from their magnitude, so a header that arrived as int64 `2` would leave as
 * int8 `2`. warren decodes the raw table bytes itself and writes a value in the typed form
 * `{"!": type, "value": …}` whenever the plain JSON value would come back as another type.
 */

import { unsendableText } from './wireText.js';

/** A header value as it appears in the NDJSON envelope. */
export type TypedValue =
  | string
  | number
  | boolean
  | null
  | TypedValue[]
  | { [key: string]: TypedValue }
  | { '!': string; value: unknown };

export type FieldTable = Record<string, TypedValue>;

/** Property under which the session keeps the raw bytes of a table amqplib decoded. */
export const RAW_TABLE: unique symbol = Symbol('warren.rawFieldTable');

/**
 * Sets a key as an own property, even `__proto__`: a header may have any name, and plain
 * assignment would change the object's prototype instead of adding the header.
 */
export function setField(table: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
  else table[key] = value;
}

/** Raised for a header value that cannot be encoded; the caller adds the line number. */
export class FieldValueError extends Error {}

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

const TYPE_ALIASES: Record<string, string> = {
  byte: 'int8',
  unsignedbyte: 'uint8',
  short: 'int16',
  unsignedshort: 'uint16',
  int: 'int32',
  unsignedint: 'uint32',
  long: 'int64',
  float64: 'double',
  float32: 'float',
};

const INT64_MIN = -(2 ** 63);

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  '-0': -0,
};

/** The type amqplib's encoder picks for a plain JS number. */
function guessedNumberType(n: number): string {
  const floating = n >= 0x8000000000000000 || (Math.abs(n) < 0x4000000000000 && Math.floor(n) !== n);
  if (floating) return 'double';
  if (n >= -128 && n < 128) return 'int8';
  if (n >= -0x8000 && n < 0x8000) return 'int16';
  if (n >= -0x80000000 && n < 0x80000000) return 'int32';
  return 'int64';
}

function numberOrTyped(type: string, n: number): TypedValue {
  if (!Number.isFinite(n) || Object.is(n, -0))
    return { '!': type, value: Object.is(n, -0) ? '-0' : String(n) };
  return guessedNumberType(n) === type ? n : { '!': type, value: n };
}

function bigOrTyped(type: string, n: bigint): TypedValue {
  const asNumber = Number(n);
  const value = Number.isSafeInteger(asNumber) ? asNumber : n.toString();
  if (type === 'int64' && typeof value === 'number' && guessedNumberType(value) === 'int64') return value;
  return { '!': type, value };
}

/**
 * How deep warren decodes header values: arrays and tables in one another, this many
 * levels (far beyond real headers, well within the stack and the JSON warren reads back).
 * A table with a deeper value is delivered raw (see readHeaders).
 */
export const MAX_FIELD_DEPTH = 100;

/**
 * Decodes the bytes of an AMQP field table (without its length prefix). Throws
 * FieldValueError for bytes that are not one (an unknown tag, a value cut short) or that
 * nest deeper than MAX_FIELD_DEPTH.
 */
export function decodeFieldTable(bytes: Buffer): FieldTable {
  const state = { offset: 0 };
  let table: FieldTable;
  try {
    table = readTable(bytes, state, bytes.length, 0);
  } catch (error) {
    // Buffer reads past the end throw RangeError (ERR_OUT_OF_RANGE).
    if (error instanceof RangeError) throw new FieldValueError('field table cut short inside a value');
    throw error;
  }
  if (state.offset !== bytes.length) throw new FieldValueError('field table cut short inside a value');
  return table;
}

/** A message's headers as decoded; when some could not be, `warning` says which and why. */
export interface ReadHeaders {
  headers: FieldTable;
  warning: string | undefined;
}

/**
 * Decodes a message's headers. A table warren cannot decode whole (a value nested deeper
 * than MAX_FIELD_DEPTH, or bytes that are no field table) still gives the headers it can,
 * and a warning; the caller keeps the raw bytes, which are the message's real headers.
 */
export function readHeaders(raw: Buffer): ReadHeaders {
  try {
    return { headers: decodeFieldTable(raw), warning: undefined };
  } catch (error) {
    if (!(error instanceof FieldValueError)) throw error;
  }
  const headers: FieldTable = {};
  const deep: string[] = [];
  try {
    for (const entry of fieldTableEntries(raw)) {
      if (entry.depth > MAX_FIELD_DEPTH) deep.push(JSON.stringify(entry.key.slice(0, 60)));
      else setField(headers, entry.key, readValue(raw, { offset: entry.valueStart }, 0));
    }
  } catch (error) {
    if (!(error instanceof FieldValueError)) throw error;
    return {
      headers,
      warning: `the headers are not a valid AMQP field table (${error.message}): ${KEPT_RAW}`,
    };
  }
  return {
    headers,
    warning: `${deep.length === 1 ? 'header' : 'headers'} ${deep.join(', ')} nested deeper than ${MAX_FIELD_DEPTH} levels: ${KEPT_RAW}`,
  };
}

const KEPT_RAW = 'all headers kept as they came, base64, in rawHeaders';

/** One top-level entry of a field table: where it is, and how deep its value nests. */
interface TableEntry {
  key: string;
  /** Offset of the entry (its key's length byte). */
  start: number;
  valueStart: number;
  end: number;
  /** Arrays and tables in one another in the value; 0 for a plain value. */
  depth: number;
}

const VALUE_SIZES: Record<string, number> = {
  t: 1,
  V: 0,
  b: 1,
  B: 1,
  s: 2,
  u: 2,
  I: 4,
  i: 4,
  l: 8,
  T: 8,
  f: 4,
  d: 8,
  D: 5,
};

/**
 * The top-level entries of a field table (without its length prefix), one by one, each
 * value checked to its end without recursion, whatever its depth. Throws FieldValueError
 * where the bytes stop being a field table.
 */
export function* fieldTableEntries(bytes: Buffer): Generator<TableEntry> {
  const cutShort = () => new FieldValueError('field table cut short inside a value');
  let offset = 0;
  /** Where each array or table open around `offset` ends, and whether it is a table. */
  const open: { end: number; table: boolean }[] = [];
  const limit = () => open.at(-1)?.end ?? bytes.length;
  const readKey = (): string => {
    const length = bytes[offset];
    if (length === undefined || offset + 1 + length > limit()) throw cutShort();
    const key = bytes.toString('utf8', offset + 1, offset + 1 + length);
    offset += 1 + length;
    return key;
  };
  while (offset < bytes.length) {
    const start = offset;
    const key = readKey();
    const valueStart = offset;
    let depth = 0;
    do {
      if (offset >= limit()) throw cutShort();
      const tag = String.fromCharCode(bytes[offset] as number);
      offset += 1;
      const size = VALUE_SIZES[tag];
      if (size !== undefined) offset += size;
      else if (tag === 'S' || tag === 'x' || tag === 'A' || tag === 'F') {
        if (offset + 4 > limit()) throw cutShort();
        const length = bytes.readUInt32BE(offset);
        offset += 4;
        if (offset + length > limit()) throw cutShort();
        if (tag === 'A' || tag === 'F') {
          open.push({ end: offset + length, table: tag === 'F' });
          depth = Math.max(depth, open.length);
        } else offset += length;
      } else throw new FieldValueError(`unknown field type tag '${tag}'`);
      if (offset > limit()) throw cutShort();
      // Close what ends here; inside a table, the next value comes after its key.
      for (let inner = open.at(-1); inner; inner = open.at(-1)) {
        if (offset < inner.end) {
          if (inner.table) readKey();
          break;
        }
        open.pop();
      }
    } while (open.length > 0);
    yield { key, start, valueStart, end: offset, depth };
  }
}

/**
 * A field table's bytes with the entries named in `replaced` left out and `added` (encoded
 * entries) after the rest: how headers are changed without decoding them.
 */
export function spliceFieldTable(raw: Buffer, replaced: ReadonlySet<string>, added: Buffer): Buffer {
  const kept = Array.from(fieldTableEntries(raw))
    .filter((entry) => !replaced.has(entry.key))
    .map((entry) => raw.subarray(entry.start, entry.end));
  return Buffer.concat([...kept, added]);
}

/** A field table's bytes without its entry `key`. */
export function withoutEntry(raw: Buffer, key: string): Buffer {
  return spliceFieldTable(raw, new Set([key]), Buffer.alloc(0));
}

/**
 * On an outgoing headers object: a field table to send as these bytes, as it came. The
 * object's own keys replace its entries of the same name (undefined removes one). The
 * patched encoder writes it (see amqplibPatch.ts).
 */
export const VERBATIM_TABLE: unique symbol = Symbol('warren.verbatimFieldTable');

/**
 * Headers to send as the raw table `raw` (as it came), with `changes` made to its entries.
 * Throws FieldValueError when they cannot go (another client may send up to the broker's
 * frame size; amqplib encodes headers into 64 KiB).
 */
export function verbatimHeaders(raw: Buffer, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const headers: Record<string | symbol, unknown> = {};
  for (const key of Object.keys(changes)) setField(headers, key, changes[key]);
  headers[VERBATIM_TABLE] = raw;
  const size = encodedTableSize(headers);
  if (size > MAX_HEADERS_BYTES)
    throw new FieldValueError(`headers: ${size} bytes, over the ${MAX_HEADERS_BYTES} a message may carry`);
  return headers;
}

/** The raw table of headers made by verbatimHeaders, if they are. */
export function verbatimTableOf(headers: unknown): Buffer | undefined {
  const raw = (headers as { [VERBATIM_TABLE]?: unknown } | null | undefined)?.[VERBATIM_TABLE];
  return Buffer.isBuffer(raw) ? raw : undefined;
}

function readTable(bytes: Buffer, state: { offset: number }, end: number, depth: number): FieldTable {
  const table: FieldTable = {};
  while (state.offset < end) {
    const keyLength = bytes.readUInt8(state.offset);
    state.offset += 1;
    const key = bytes.toString('utf8', state.offset, state.offset + keyLength);
    state.offset += keyLength;
    setField(table, key, readValue(bytes, state, depth));
  }
  return table;
}

/** Reads one value, inside `depth` arrays and tables (0 for a header's own value). */
function readValue(bytes: Buffer, state: { offset: number }, depth: number): TypedValue {
  if (state.offset >= bytes.length) throw new FieldValueError('field table cut short before a value');
  const tag = String.fromCharCode(bytes[state.offset] as number);
  const at = state.offset + 1;
  state.offset = at;
  switch (tag) {
    case 'S': {
      const length = bytes.readUInt32BE(at);
      state.offset = at + 4 + length;
      return bytes.toString('utf8', at + 4, at + 4 + length);
    }
    case 't':
      state.offset = at + 1;
      return bytes[at] !== 0;
    case 'V':
      return null;
    case 'b':
      state.offset = at + 1;
      return numberOrTyped('int8', bytes.readInt8(at));
    case 'B':
      state.offset = at + 1;
      return { '!': 'uint8', value: bytes.readUInt8(at) };
    case 's':
      state.offset = at + 2;
      return numberOrTyped('int16', bytes.readInt16BE(at));
    case 'u':
      state.offset = at + 2;
      return { '!': 'uint16', value: bytes.readUInt16BE(at) };
    case 'I':
      state.offset = at + 4;
      return numberOrTyped('int32', bytes.readInt32BE(at));
    case 'i':
      state.offset = at + 4;
      return { '!': 'uint32', value: bytes.readUInt32BE(at) };
    case 'l':
      state.offset = at + 8;
      return bigOrTyped('int64', bytes.readBigInt64BE(at));
    case 'T':
      state.offset = at + 8;
      return bigOrTyped('timestamp', bytes.readBigUInt64BE(at));
    case 'f': {
      state.offset = at + 4;
      const n = bytes.readFloatBE(at);
      return {
        '!': 'float',
        value: Number.isFinite(n) && !Object.is(n, -0) ? n : Object.is(n, -0) ? '-0' : String(n),
      };
    }
    case 'd':
      state.offset = at + 8;
      return numberOrTyped('double', bytes.readDoubleBE(at));
    case 'D':
      state.offset = at + 5;
      return { '!': 'decimal', value: { places: bytes.readUInt8(at), digits: bytes.readUInt32BE(at + 1) } };
    case 'x': {
      const length = bytes.readUInt32BE(at);
      state.offset = at + 4 + length;
      return { '!': 'bytes', value: bytes.toString('base64', at + 4, at + 4 + length) };
    }
    case 'A': {
      if (depth >= MAX_FIELD_DEPTH) throw new FieldValueError(`nested deeper than ${MAX_FIELD_DEPTH} levels`);
      const length = bytes.readUInt32BE(at);
      state.offset = at + 4;
      const end = at + 4 + length;
      const items: TypedValue[] = [];
      while (state.offset < end) items.push(readValue(bytes, state, depth + 1));
      return items;
    }
    case 'F': {
      if (depth >= MAX_FIELD_DEPTH) throw new FieldValueError(`nested deeper than ${MAX_FIELD_DEPTH} levels`);
      const length = bytes.readUInt32BE(at);
      state.offset = at + 4;
      const table = readTable(bytes, state, at + 4 + length, depth + 1);
      // A nested table with a "!" key would read back as a typed value: wrap it.
      return Object.hasOwn(table, '!') ? { '!': 'table', value: table } : table;
    }
    default:
      throw new FieldValueError(`unknown field type tag '${tag}'`);
  }
}

/** A number header, plain or in typed form (`{"!":"int64","value":"12"}`); else undefined. */
export function typedNumber(value: TypedValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object' && !Array.isArray(value) && '!' in value) {
    const n = Number(value['value']);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Converts what amqplib decoded (no raw bytes available) to the typed JSON form. */
export function typedFromDecoded(value: unknown): TypedValue {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return { '!': 'bytes', value: value.toString('base64') };
  if (Array.isArray(value)) return value.map(typedFromDecoded);
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['!'] === 'string' && 'value' in record)
      return record as { '!': string; value: unknown };
    const table: FieldTable = {};
    for (const key of Object.keys(record)) setField(table, key, typedFromDecoded(record[key]));
    return table;
  }
  return value as TypedValue;
}

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
    case 'decimal': {
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
    case 'bytes': {
      if (typeof value !== 'string' || !isBase64(value)) throw fail('is not base64');
      return Buffer.from(value, 'base64');
    }
    case 'table': {
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
