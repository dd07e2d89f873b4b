/**
 * Hostile header tables for property tests: random AMQP field tables of every tag that
 * RabbitMQ accepts, of any depth (chains of thousands of arrays or tables) and up to 120 KB,
 * written to bytes by the test's own encoder (wire.ts), not by amqplib's or warren's.
 */
import fc from 'fast-check';
import { encodeWireTable, type WireTable, type WireValue } from './wire.js';

/** A value, where a long run of nesting is one `chain` (so fast-check can print and shrink it). */
export type HostileValue =
  | WireValue
  | { tag: 'A'; items: HostileValue[] }
  | { tag: 'F'; table: HostileTable }
  | { chain: 'A' | 'F'; depth: number; inner: HostileValue };

export type HostileTable = Record<string, HostileValue>;

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes });
const fixed = (tag: string, bytes: number) =>
  hex(bytes).map((b): WireValue => ({ tag, hex: Buffer.from(b).toString('hex') }));
const numberBytes = (write: (buffer: Buffer) => void, size: number) => {
  const buffer = Buffer.alloc(size);
  write(buffer);
  return buffer.toString('hex');
};

/** Keys and strings that survive warren's JSON form unchanged (see README's limits). */
const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);

const scalar: fc.Arbitrary<WireValue> = fc.oneof(
  fc.string({ maxLength: 30 }).map((value): WireValue => ({ tag: 'S', value })),
  fc.boolean().map((value): WireValue => ({ tag: 't', value })),
  fc.constant<WireValue>({ tag: 'V' }),
  fixed('b', 1),
  fixed('B', 1),
  fixed('s', 2),
  fixed('u', 2),
  fixed('I', 4),
  fixed('i', 4),
  fixed('l', 8),
  fixed('T', 8),
  fixed('D', 5),
  // RabbitMQ takes NaN and infinities, but warren refuses to send them (they close the
  // connection): finite floats only, so that every table can be published again.
  fc
    .float({ noNaN: true, noDefaultInfinity: true })
    .map((n): WireValue => ({ tag: 'f', hex: numberBytes((b) => b.writeFloatBE(n), 4) })),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .map((n): WireValue => ({ tag: 'd', hex: numberBytes((b) => b.writeDoubleBE(n), 8) })),
  fc.uint8Array({ maxLength: 20 }).map((b): WireValue => ({ tag: 'x', hex: Buffer.from(b).toString('hex') })),
);

/** Depths around warren's bound (100) and far beyond it. */
const chainDepth = fc.oneof(
  fc.integer({ min: 1, max: 4 }),
  fc.integer({ min: 97, max: 103 }),
  fc.integer({ min: 1_000, max: 20_000 }),
);

const { value } = fc.letrec<{ value: HostileValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }).map((items): HostileValue => ({ tag: 'A', items })),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }).map((table): HostileValue => ({ tag: 'F', table })),
    fc
      .record({ chain: fc.constantFrom<'A' | 'F'>('A', 'F'), depth: chainDepth, inner: tie('value') })
      .map((chain): HostileValue => chain),
  ),
}));

/** How deep a value nests: arrays and tables in one another. */
export function depthOf(value: HostileValue): number {
  if ('chain' in value) return value.depth + depthOf(value.inner);
  if ('items' in value) return 1 + Math.max(0, ...value.items.map(depthOf));
  if ('table' in value) return 1 + Math.max(0, ...Object.values(value.table).map(depthOf));
  return 0;
}

/** The deepest header of a table (0 for scalars only). */
export function tableDepth(table: HostileTable): number {
  return Math.max(0, ...Object.values(table).map(depthOf));
}

function expand(value: HostileValue): WireValue {
  if ('chain' in value) {
    let wire = expand(value.inner);
    for (let level = 0; level < value.depth; level += 1)
      wire = value.chain === 'A' ? { tag: 'A', items: [wire] } : { tag: 'F', table: { k: wire } };
    return wire;
  }
  if ('items' in value) return { tag: 'A', items: value.items.map(expand) };
  if ('table' in value) return { tag: 'F', table: expandTable(value.table) };
  return value;
}

function expandTable(table: HostileTable): WireTable {
  const wire: WireTable = {};
  for (const [name, item] of Object.entries(table)) wire[name] = expand(item);
  return wire;
}

/** The bytes of a table (without length prefix). */
export function hostileTableBytes(table: HostileTable): Buffer {
  return encodeWireTable(expandTable(table));
}

/** The most header bytes the tests send: RabbitMQ's default frame (128 KiB), less room for the rest. */
const MAX_BYTES = 120_000;

/** A random header table (its bytes made by `withBytes`, so that a failure prints the table, not them). */
export const hostileTable: fc.Arbitrary<HostileTable> = fc
  .dictionary(key, value, { minKeys: 1, maxKeys: 5 })
  .filter((table) => hostileTableBytes(table).length <= MAX_BYTES);

/** A table with its bytes and depth. */
export function withBytes(table: HostileTable): { table: HostileTable; bytes: Buffer; depth: number } {
  return { table, bytes: hostileTableBytes(table), depth: tableDepth(table) };
}
