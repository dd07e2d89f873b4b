/**
 * AMQP field tables (message headers, arguments) as JSON, without losing the wire type.
 *
 * amqplib decodes every integer and float tag to a plain JS number and re-encodes numbers
 * by guessing from their magnitude, so a header that arrived as int64 `2` would leave as
 * int8 `2`. warren decodes the raw table bytes itself and writes a value in the typed form
 * `{"!": type, "value": …}` whenever the plain JSON value would come back as another type.
 */

import { fieldTableEntries } from './rawFieldTable.js';

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

export const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

export const TYPE_ALIASES: Record<string, string> = {
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

export const INT64_MIN = -(2 ** 63);

export const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  '-0': -0,
};

/** The type amqplib's encoder picks for a plain JS number. */
export function guessedNumberType(n: number): string {
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
