/** Field tables as bytes: walking their entries, splicing them, sending them as they came. */

import { FieldValueError, setField } from './fieldTable.js';
import { encodedTableSize, MAX_HEADERS_BYTES } from './fieldTableEncode.js';

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
