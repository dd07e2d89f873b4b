/**
 * amqplib, loaded with warren's changes to its field-table codec: the decoder keeps the raw
 * bytes of every table (so headers can be read again with their wire types, fieldTable.ts),
 * and the encoder writes verbatim tables as they came.
 */
import type * as Amqp from 'amqplib';
import codec from 'amqplib-codec';
import { RAW_TABLE } from './fieldTable.js';
import { MAX_HEADERS_BYTES } from './fieldTableEncode.js';
import type { ProtocolDefinitions } from './frameBatch.js';
import { spliceFieldTable, verbatimTableOf } from './rawFieldTable.js';

export type AmqpModule = typeof Amqp;
let amqplib: AmqpModule | undefined;
let protocol: ProtocolDefinitions | undefined;

/** amqplib's protocol definitions, once loadAmqplib has loaded them. */
export function protocolDefinitions(): ProtocolDefinitions | undefined {
  return protocol;
}

/**
 * Loads amqplib with one change: its field-table decoder also keeps the raw bytes of each
 * table it decodes, so that message headers can be read again with their wire types
 * (see fieldTable.ts). amqplib's protocol definitions take the decoder from the codec
 * module when they load, so the wrapper must be in place before amqplib is imported.
 */
export async function loadAmqplib(): Promise<AmqpModule> {
  if (amqplib) return amqplib;
  const decodeFields = codec.decodeFields;
  codec.decodeFields = (slice: Buffer) => {
    let table: Record<string | symbol, unknown>;
    try {
      table = decodeFields(slice);
    } catch {
      // amqplib's decoder recurses, and another client may send headers nested deep enough
      // to overflow the stack (or bytes it cannot read): thrown here, that would end the
      // connection, and the message would come back and do it again. warren reads the raw
      // bytes itself (readHeaders), without recursing past a bound.
      table = {};
    }
    table[RAW_TABLE] = slice;
    return table;
  };
  const encodeTable = codec.encodeTable;
  codec.encodeTable = (buffer: Buffer, value: unknown, offset: number) => {
    const raw = verbatimTableOf(value);
    if (!raw) return encodeTable(buffer, value, offset);
    return writeVerbatimTable(buffer, offset, raw, value as Record<string, unknown>, encodeTable);
  };
  const loaded = await import('amqplib');
  // amqplib is CommonJS: its exports arrive as the default export.
  amqplib = (loaded as unknown as { default: AmqpModule }).default;
  protocol = (await import('amqplib-defs')).default;
  return amqplib;
}

/**
 * Writes a verbatim table (see verbatimHeaders) where amqplib's encoder would write a table:
 * its bytes as they came, with the entries its own keys give in place of theirs.
 */
function writeVerbatimTable(
  buffer: Buffer,
  offset: number,
  raw: Buffer,
  changes: Record<string, unknown>,
  encodeTable: typeof codec.encodeTable,
): number {
  let bytes = raw;
  // As amqplib's own encoder reads a table: every enumerable key, inherited too, that has a
  // value. channel.publish hands the headers on as the prototype of a table of its own.
  const changed: string[] = [];
  for (const key in changes) if (changes[key] !== undefined) changed.push(key);
  if (changed.length > 0) {
    const added = Buffer.alloc(MAX_HEADERS_BYTES);
    const size = encodeTable(added, changes, 0);
    bytes = spliceFieldTable(raw, new Set(changed), added.subarray(4, size));
  }
  if (offset + 4 + bytes.length > buffer.length) {
    throw new RangeError(`Encoded field table (headers) exceeds the ${buffer.length} byte encoding buffer`);
  }
  buffer.writeUInt32BE(bytes.length, offset);
  bytes.copy(buffer, offset + 4);
  return 4 + bytes.length;
}
