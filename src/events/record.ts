/**
 * The broker's events (plugin rabbitmq_event_exchange) as records for `warren events`. The
 * plugin publishes each event to the topic exchange `amq.rabbitmq.event`, with the event's
 * type as the routing key (`queue.created`), its fields as headers and an empty body. A
 * record is plain JSON: the type, the time, then every field under a camelCase name.
 */
import { setField, type TypedValue } from '../broker/fieldTable.js';
import type { ReceivedMessage } from '../broker/message.js';
import { printedTable } from './erlangTerm.js';

/** Where the plugin publishes (in vhost `/` unless its `event_exchange.vhost` setting says otherwise). */
export const EVENT_EXCHANGE = 'amq.rabbitmq.event';

export type EventValue = string | number | boolean | null | EventValue[] | { [key: string]: EventValue };

/** One event: `event` and `time` always, then the event's own fields. */
export interface EventRecord {
  event: string;
  time: string;
  [field: string]: EventValue;
}

/** The record's own names: a field that would take one keeps the name the broker gave it. */
const RESERVED = new Set(['event', 'time', 'warning']);

/** Fields that hold a field table: empty, it is still one (`{}`), not a list. */
const TABLE_FIELDS = new Set(['arguments', 'client_properties']);

/** Fields that hold an address, which the plugin sends as Erlang's tuple for it: `{127,0,0,1}`. */
const ADDRESS_FIELDS = new Set(['host', 'peer_host']);

/** `{127,0,0,1}` → `127.0.0.1`; eight IPv6 groups → `0:0:0:0:0:0:0:1`; else as it is. */
function addressText(value: EventValue): EventValue {
  if (typeof value !== 'string') return value;
  const parts = /^\{(\d+(?:,\d+)*)\}$/.exec(value)?.[1]?.split(',').map(Number);
  if (parts?.length === 4 && parts.every((n) => n <= 255)) return parts.join('.');
  if (parts?.length === 8 && parts.every((n) => n <= 0xffff))
    return parts.map((n) => n.toString(16)).join(':');
  return value;
}

/** The header holding the event's time in milliseconds; it becomes `time`. */
const TIME_HEADER = 'timestamp_in_ms';

/** `user_who_performed_action` → `userWhoPerformedAction`; a leading or doubled `_` stays. */
export function camelCase(name: string): string {
  return name.replace(/(?<=[A-Za-z0-9])_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

function isTyped(value: object): value is { '!': string; value: unknown } {
  return Object.hasOwn(value, '!');
}

/** Milliseconds since the epoch as ISO 8601, or undefined where no date can show them. */
function isoTime(ms: number): string | undefined {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * An Erlang string: the plugin cannot tell one from a list of integers, and sends a list
 * (`error` of user.authentication.failure). A list of character codes is read as the text.
 */
function charlistText(items: readonly EventValue[]): string | undefined {
  if (items.length === 0) return undefined;
  for (const item of items) {
    if (typeof item !== 'number' || !Number.isInteger(item)) return undefined;
    const printable = item === 9 || item === 10 || item === 13 || (item >= 32 && item <= 0x10ffff);
    if (!printable || (item >= 0xd800 && item <= 0xdfff)) return undefined;
  }
  return String.fromCodePoint(...(items as number[]));
}

function plainTable(table: Record<string, unknown>): { [key: string]: EventValue } {
  const out: { [key: string]: EventValue } = {};
  for (const [key, value] of Object.entries(table)) setField(out, key, plainValue(value as TypedValue));
  return out;
}

/**
 * A header value as plain JSON: the typed forms of the envelope (docs/headers.md) are for
 * publishing again, which an event is not. Integers are numbers (strings beyond 2^53),
 * timestamps ISO 8601 text, byte arrays base64 text.
 */
export function plainValue(value: TypedValue): EventValue {
  if (Array.isArray(value)) {
    const items = value.map(plainValue);
    return charlistText(items) ?? printedTable(items) ?? items;
  }
  if (value === null || typeof value !== 'object') return value;
  if (!isTyped(value)) return plainTable(value);
  const inner = value.value;
  switch (value['!']) {
    case 'table':
      return plainTable(inner as Record<string, unknown>);
    case 'timestamp':
      return (typeof inner === 'number' && isoTime(inner * 1000)) || String(inner);
    default:
      // Numbers (or their text, beyond 2^53 and for NaN), base64 bytes, a decimal's parts.
      return inner as EventValue;
  }
}

/** When the broker emitted the event: its milliseconds, else the timestamp property, else arrival. */
function eventTime(message: ReceivedMessage): string {
  const header = message.headers?.[TIME_HEADER];
  const ms = plainValue(header ?? null);
  const fromHeader = typeof ms === 'number' ? isoTime(ms) : undefined;
  if (fromHeader) return fromHeader;
  const seconds = message.properties.timestamp;
  const fromProperty = seconds === undefined ? undefined : isoTime(seconds * 1000);
  return fromProperty ?? message.receivedAt.toISOString();
}

/** The first name of `name`'s camelCase form, the name itself, or either with `_` added, that is free. */
function freeName(record: Record<string, unknown>, name: string): string {
  for (const candidate of [camelCase(name), name]) {
    if (!RESERVED.has(candidate) && !Object.hasOwn(record, candidate)) return candidate;
  }
  let candidate = `${name}_`;
  while (RESERVED.has(candidate) || Object.hasOwn(record, candidate)) candidate += '_';
  return candidate;
}

/**
 * An event message as its record: `event` (the routing key), `time`, `vhost` and `name`
 * first where the event has them, then the other fields in the order the broker sent them.
 */
export function eventRecord(message: ReceivedMessage): EventRecord {
  const record: EventRecord = { event: message.routingKey, time: eventTime(message) };
  const headers = message.headers ?? {};
  const first = ['vhost', 'name'].filter((key) => Object.hasOwn(headers, key));
  const rest = Object.keys(headers).filter((key) => key !== TIME_HEADER && !first.includes(key));
  for (const key of [...first, ...rest]) {
    let value = plainValue(headers[key] as TypedValue);
    if (ADDRESS_FIELDS.has(key)) value = addressText(value);
    const table = TABLE_FIELDS.has(key) && Array.isArray(value) && value.length === 0;
    setField(record, freeName(record, key), table ? {} : value);
  }
  // Headers warren could not decode whole: what it could, and why.
  if (message.warning) record.warning = message.warning;
  return record;
}
