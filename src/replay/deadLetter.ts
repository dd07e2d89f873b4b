import type { FieldTable, TypedValue } from '../broker/fieldTable.js';

/** Where a dead-lettered message was first published: the exchange and routing key. */
export interface DeadLetterOrigin {
  exchange: string;
  routingKey: string;
  /** The queue it first died in, and why (for messages). */
  queue: string | undefined;
  reason: string | undefined;
}

function text(value: TypedValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  // A string that was not UTF-8 on the wire is kept in typed form.
  if (value && typeof value === 'object' && !Array.isArray(value) && value['!'] === 'string') {
    return typeof value['value'] === 'string' ? value['value'] : undefined;
  }
  return undefined;
}

function table(value: TypedValue | undefined): FieldTable | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (typeof value['!'] === 'string') {
    const inner = value['value'];
    return value['!'] === 'table' && inner && typeof inner === 'object' ? (inner as FieldTable) : undefined;
  }
  return value as FieldTable;
}

/**
 * The first death of a dead-lettered message, read from its `x-death` header. RabbitMQ puts
 * the latest death first and keeps one entry per queue and reason, naming the first death
 * in `x-first-death-queue`/`-reason`; that entry's exchange and first routing key are
 * where the message was published. (Further routing keys came from its CC header, which
 * the message still carries, so publishing it with the first key routes it as before.)
 * Undefined when the message was never dead-lettered.
 */
export function deadLetterOrigin(headers: FieldTable | undefined): DeadLetterOrigin | undefined {
  const deaths = headers?.['x-death'];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const entries = deaths.map(table).filter((entry): entry is FieldTable => entry !== undefined);
  const firstQueue = text(headers?.['x-first-death-queue']);
  const firstReason = text(headers?.['x-first-death-reason']);
  const first =
    entries.find((e) => text(e['queue']) === firstQueue && text(e['reason']) === firstReason) ??
    entries[entries.length - 1];
  if (!first) return undefined;
  const exchange = text(first['exchange']) ?? text(headers?.['x-first-death-exchange']);
  const keys = first['routing-keys'];
  const routingKey = Array.isArray(keys) ? text(keys[0]) : undefined;
  if (exchange === undefined || routingKey === undefined) return undefined;
  return { exchange, routingKey, queue: text(first['queue']), reason: text(first['reason']) };
}
