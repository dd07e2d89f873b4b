/**
 * Seeing AMQP field tables (message headers) as they were on the wire, independently of
 * warren's own decoder: amqplib decodes every integer to a JS number, so it cannot tell an
 * int64 `2` from an int8 `2`. Here a second copy of amqplib is loaded whose decoder also
 * keeps the raw bytes of each table, and a small decoder of our own turns those bytes into
 * a tree that names every value's wire tag.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Amqp from 'amqplib';

const require = createRequire(import.meta.url);
const AMQPLIB_DIR = dirname(require.resolve('amqplib'));
const RAW = Symbol('test.rawFieldTable');
/** On a headers object given to `rawCapturingAmqplib`'s publish: write these bytes as the table. */
const VERBATIM = Symbol('test.verbatimFieldTable');

type Codec = {
  decodeFields: (slice: Buffer) => Record<string | symbol, unknown>;
  encodeTable: (buffer: Buffer, value: unknown, offset: number) => number;
};

let rawAmqplib: typeof Amqp | undefined;

/**
 * A separate instance of amqplib (its own module objects) whose decoded header tables
 * carry their raw bytes; read them with `rawHeaderBytes`. The shared instance other
 * helpers import is left exactly as it was.
 */
export function rawCapturingAmqplib(): typeof Amqp {
  if (rawAmqplib) return rawAmqplib;
  const saved = new Map<string, NodeJS.Module>();
  for (const [key, module] of Object.entries(require.cache)) {
    if (module && key.startsWith(AMQPLIB_DIR)) {
      saved.set(key, module);
      delete require.cache[key];
    }
  }
  try {
    const codec = require(join(AMQPLIB_DIR, 'lib', 'codec.js')) as Codec;
    const decodeFields = codec.decodeFields;
    codec.decodeFields = (slice: Buffer) => {
      let table: Record<string | symbol, unknown>;
      try {
        table = decodeFields(slice);
      } catch {
        // Nested too deep for amqplib's recursive decoder: the raw bytes say it all.
        table = {};
      }
      Object.defineProperty(table, RAW, { value: Buffer.from(slice), enumerable: false });
      return table;
    };
    const encodeTable = codec.encodeTable;
    codec.encodeTable = (buffer: Buffer, value: unknown, offset: number) => {
      const verbatim = (value as Record<symbol, unknown> | null)?.[VERBATIM];
      if (!Buffer.isBuffer(verbatim)) return encodeTable(buffer, value, offset);
      buffer.writeUInt32BE(verbatim.length, offset);
      verbatim.copy(buffer, offset + 4);
      return 4 + verbatim.length;
    };
    rawAmqplib = require(AMQPLIB_DIR) as typeof Amqp;
  } finally {
    for (const key of Object.keys(require.cache)) {
      if (key.startsWith(AMQPLIB_DIR)) delete require.cache[key];
    }
    for (const [key, module] of saved) require.cache[key] = module;
  }
  return rawAmqplib;
}

/** The raw bytes (without length prefix) of a message's headers table, read by `rawCapturingAmqplib`. */
export function rawHeaderBytes(message: Amqp.Message): Buffer | undefined {
  const headers = message.properties.headers as Record<string | symbol, unknown> | undefined;
  if (!headers) return undefined;
  const raw = headers[RAW];
  if (!Buffer.isBuffer(raw)) throw new Error('headers were not decoded by rawCapturingAmqplib()');
  return raw;
}

/**
 * A headers object that `rawCapturingAmqplib()`'s publish writes as exactly these table
 * bytes (without length prefix; at most 64 KiB, amqplib's buffer for headers), so a test
 * can send what another client could, however deep, without amqplib's encoder in the way.
 */
export function verbatimHeaders(bytes: Buffer): Record<string, unknown> {
  return { [VERBATIM]: bytes };
}

/** How amqplib's encoder writes a headers object (without the length prefix). */
export function encodeHeaders(headers: Record<string, unknown>): Buffer {
  const codec = require(join(AMQPLIB_DIR, 'lib', 'codec.js')) as Codec;
  const buffer = Buffer.alloc(4 * 1024 * 1024);
  const size = codec.encodeTable(buffer, headers, 0);
  return Buffer.from(buffer.subarray(4, size));
}

/** A field value with its wire tag; numbers are kept as the exact bytes (hex). */
export type WireValue =
  | { tag: 'S'; value: string }
  | { tag: 't'; value: boolean }
  | { tag: 'V' }
  | { tag: string; hex: string }
  | { tag: 'A'; items: WireValue[] }
  | { tag: 'F'; table: WireTable };

export type WireTable = Record<string, WireValue>;

const FIXED_SIZE: Record<string, number> = {
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

/** Decodes field-table bytes (without length prefix) into a tree naming each wire tag. */
export function wireTable(bytes: Buffer): WireTable {
  const state = { offset: 0 };
  return readTable(bytes, state, bytes.length);
}

function readTable(bytes: Buffer, state: { offset: number }, end: number): WireTable {
  const table: WireTable = {};
  while (state.offset < end) {
    const keyLength = bytes.readUInt8(state.offset);
    const key = bytes.toString('utf8', state.offset + 1, state.offset + 1 + keyLength);
    state.offset += 1 + keyLength;
    if (Object.hasOwn(table, key)) throw new Error(`duplicate key '${key}' in a field table`);
    table[key] = readValue(bytes, state);
  }
  if (state.offset !== end) throw new Error('field table overran its length');
  return table;
}

function readValue(bytes: Buffer, state: { offset: number }): WireValue {
  const tag = String.fromCharCode(bytes.readUInt8(state.offset));
  const at = state.offset + 1;
  const size = FIXED_SIZE[tag];
  if (size !== undefined) {
    state.offset = at + size;
    return { tag, hex: bytes.toString('hex', at, at + size) };
  }
  switch (tag) {
    case 'S': {
      const length = bytes.readUInt32BE(at);
      state.offset = at + 4 + length;
      return { tag, value: bytes.toString('utf8', at + 4, at + 4 + length) };
    }
    case 'x': {
      const length = bytes.readUInt32BE(at);
      state.offset = at + 4 + length;
      return { tag, hex: bytes.toString('hex', at + 4, at + 4 + length) };
    }
    case 't':
      state.offset = at + 1;
      return { tag, value: bytes.readUInt8(at) !== 0 };
    case 'V':
      state.offset = at;
      return { tag };
    case 'A': {
      const length = bytes.readUInt32BE(at);
      const end = at + 4 + length;
      state.offset = at + 4;
      const items: WireValue[] = [];
      while (state.offset < end) items.push(readValue(bytes, state));
      if (state.offset !== end) throw new Error('field array overran its length');
      return { tag, items };
    }
    case 'F': {
      const length = bytes.readUInt32BE(at);
      state.offset = at + 4;
      return { tag, table: readTable(bytes, state, at + 4 + length) };
    }
    default:
      throw new Error(`unknown field tag '${tag}'`);
  }
}

/** The bytes of a table (without length prefix) holding `key`: `depth` arrays, one in another, around `leaf`. */
export function nestedArrayTable(key: string, depth: number, leaf: WireValue = { tag: 'V' }): Buffer {
  return encodeWireTable({ [key]: nestedArrays(depth, leaf) });
}

export function nestedArrays(depth: number, leaf: WireValue = { tag: 'V' }): WireValue {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = { tag: 'A', items: [value] };
  return value;
}

/**
 * Encodes a WireTable to field-table bytes (without length prefix), without recursion, so
 * that a table of any depth can be written: what another client may send and RabbitMQ accepts.
 */
export function encodeWireTable(table: WireTable): Buffer {
  let buffer = Buffer.alloc(1024);
  let at = 0;
  const room = (size: number) => {
    if (at + size <= buffer.length) return;
    const bigger = Buffer.alloc(Math.max(buffer.length * 2, at + size));
    buffer.copy(bigger, 0, 0, at);
    buffer = bigger;
  };
  type Open = { entries: [string | undefined, WireValue][]; next: number; lengthAt: number };
  const stack: Open[] = [{ entries: Object.entries(table), next: 0, lengthAt: -1 }];
  for (;;) {
    const open = stack.at(-1) as Open;
    const entry = open.entries[open.next];
    if (!entry) {
      stack.pop();
      if (open.lengthAt < 0) return Buffer.from(buffer.subarray(0, at));
      buffer.writeUInt32BE(at - open.lengthAt - 4, open.lengthAt);
      continue;
    }
    open.next += 1;
    const [key, value] = entry;
    if (key !== undefined) {
      const keyBytes = Buffer.from(key);
      room(1 + keyBytes.length);
      buffer.writeUInt8(keyBytes.length, at);
      keyBytes.copy(buffer, at + 1);
      at += 1 + keyBytes.length;
    }
    room(5);
    buffer.write(value.tag, at, 'latin1');
    at += 1;
    if ('items' in value || 'table' in value) {
      const entries: [string | undefined, WireValue][] =
        'items' in value ? value.items.map((item) => [undefined, item]) : Object.entries(value.table);
      stack.push({ entries, next: 0, lengthAt: at });
      at += 4;
    } else if ('value' in value && typeof value.value === 'string') {
      const text = Buffer.from(value.value);
      room(4 + text.length);
      buffer.writeUInt32BE(text.length, at);
      text.copy(buffer, at + 4);
      at += 4 + text.length;
    } else if ('value' in value) {
      room(1);
      buffer.writeUInt8(value.value ? 1 : 0, at);
      at += 1;
    } else if ('hex' in value) {
      const bytes = Buffer.from(value.hex, 'hex');
      const sized = value.tag === 'x';
      room(4 + bytes.length);
      if (sized) buffer.writeUInt32BE(bytes.length, at);
      bytes.copy(buffer, sized ? at + 4 : at);
      at += (sized ? 4 : 0) + bytes.length;
    }
  }
}
