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
      const table = decodeFields(slice);
      Object.defineProperty(table, RAW, { value: Buffer.from(slice), enumerable: false });
      return table;
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
