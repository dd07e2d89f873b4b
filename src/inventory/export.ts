/**
 * A vhost's snapshot as a warren topology file (docs/topology.md), for `warren export`: what
 * `declare --file` reads back to make the same exchanges, queues and bindings. Pure: a
 * snapshot in, the file's object and what was left out (and why) out.
 *
 * The file is the same bytes for the same broker: entities sorted by name, keys in a fixed
 * order, fields at the file's defaults left out, argument tables sorted by key.
 */
import { unsendableText } from '../broker/wireText.js';
import { OVERFLOW_MODES, QUEUE_ARGUMENTS, QUEUE_TYPES, type QueueOptionName } from '../topology/spec.js';
import type { BindingRecord, ExchangeRecord, QueueRecord } from './records.js';
import type { Snapshot } from './snapshot.js';

type Json = Record<string, unknown>;

/** The topology file, as `declare --file` reads it. */
export interface TopologyFile {
  exchanges: Json[];
  queues: Json[];
  bindings: Json[];
}

/** Entities not exported for one reason: their kind, the reason, and their names. */
export interface LeftOut {
  kind: 'exchange' | 'queue' | 'binding';
  reason: string;
  names: string[];
}

export interface ExportChoices {
  /** Exchanges and queues whose names it matches (all when undefined). */
  match?: RegExp | undefined;
  /** Keep auto-delete exchanges and queues (left out unless asked). */
  includeAutoDelete?: boolean;
}

export interface Export {
  topology: TopologyFile;
  leftOut: LeftOut[];
}

export const REASONS = {
  brokersOwn: "the broker's own (the default exchange and amq.*), on every broker already",
  autoDeleteExchange: 'auto-delete, gone with their last binding (--include-auto-delete keeps them)',
  serverNamed: 'server-named (amq.*), declared anew by a client each time',
  exclusive: 'exclusive, owned by the connection that declared them',
  autoDeleteQueue: 'auto-delete, gone with their last consumer (--include-auto-delete keeps them)',
  unknownType: 'of a queue type warren cannot declare',
  binding: 'to or from an exchange or queue left out',
} as const;

/** The broker's own exchanges: the default one and amq.* (no client may declare them). */
export const brokersOwn = (exchange: string): boolean => exchange === '' || exchange.startsWith('amq.');

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function exportTopology(snapshot: Snapshot, choices: ExportChoices = {}): Export {
  const matches = (name: string) => choices.match === undefined || choices.match.test(name);
  const includeAutoDelete = choices.includeAutoDelete === true;
  const left = new Map<string, LeftOut>();
  const leave = (kind: LeftOut['kind'], reason: string, name: string) => {
    const key = `${kind}\u0000${reason}`;
    const entry = left.get(key) ?? { kind, reason, names: [] };
    entry.names.push(name);
    left.set(key, entry);
  };
  const exchanges = sift(
    snapshot.exchanges.filter((r) => matches(r.name)),
    {
      reason: (record) =>
        brokersOwn(record.name)
          ? REASONS.brokersOwn
          : record.autoDelete && !includeAutoDelete
            ? REASONS.autoDeleteExchange
            : undefined,
      entry: exchangeEntry,
      leave: (reason, name) => leave('exchange', reason, name),
    },
  );
  const queues = sift(
    snapshot.queues.filter((r) => matches(r.name)),
    {
      reason: (record) => queueLeftOut(record, includeAutoDelete),
      entry: queueEntry,
      leave: (reason, name) => leave('queue', reason, name),
    },
  );

  const bindings: Json[] = [];
  const end = (name: string, queue: boolean) => {
    const side = queue ? queues : exchanges;
    // The broker's own amq.* exchanges are on every broker: a binding to or from one is kept.
    const available = side.exported.has(name) || (!queue && brokersOwn(name));
    return { exported: side.exported.has(name), available, left: side.left.has(name) };
  };
  for (const record of snapshot.bindings) {
    // The default exchange's bindings (one per queue) are the broker's, not declared.
    if (record.source === '') continue;
    const source = end(record.source, false);
    const destination = end(record.destination, record.destinationType === 'queue');
    if (source.available && destination.available && (source.exported || destination.exported)) {
      bindings.push(bindingEntry(record));
    } else if (
      (source.left || destination.left) &&
      (source.available || source.left) &&
      (destination.available || destination.left)
    ) {
      leave('binding', REASONS.binding, bindingName(record));
    }
  }
  bindings.sort(compareBindings);
  return {
    topology: { exchanges: exchanges.entries, queues: queues.entries, bindings },
    leftOut: [...left.values()],
  };
}

/** Records sorted by name, each made an entry or left out for a reason. */
function sift<R extends { name: string }>(
  records: R[],
  how: {
    reason: (record: R) => string | undefined;
    entry: (record: R) => Json;
    leave: (reason: string, name: string) => void;
  },
): { entries: Json[]; exported: Set<string>; left: Set<string> } {
  const out = { entries: [] as Json[], exported: new Set<string>(), left: new Set<string>() };
  for (const record of [...records].sort((a, b) => compare(a.name, b.name))) {
    const reason = how.reason(record);
    if (reason) {
      how.leave(reason, record.name);
      out.left.add(record.name);
    } else {
      out.exported.add(record.name);
      out.entries.push(how.entry(record));
    }
  }
  return out;
}

/** The file's text: two-space JSON and a final newline. */
export function topologyText(topology: TopologyFile): string {
  return `${JSON.stringify(topology, null, 2)}\n`;
}

function queueLeftOut(record: QueueRecord, includeAutoDelete: boolean): string | undefined {
  if (record.name.startsWith('amq.')) return REASONS.serverNamed;
  if (record.exclusive) return REASONS.exclusive;
  if (record.autoDelete && !includeAutoDelete) return REASONS.autoDeleteQueue;
  if (!(QUEUE_TYPES as readonly string[]).includes(record.type)) return REASONS.unknownType;
  return undefined;
}

function exchangeEntry(record: ExchangeRecord): Json {
  const entry: Json = { name: record.name, type: record.type };
  if (!record.durable) entry['durable'] = false;
  if (record.autoDelete) entry['autoDelete'] = true;
  if (record.internal) entry['internal'] = true;
  const args = { ...record.arguments };
  const alternate = args['alternate-exchange'];
  if (isShortString(alternate)) {
    entry['alternateExchange'] = alternate;
    delete args['alternate-exchange'];
  }
  return withArguments(entry, args);
}

/** Whether an argument's value fits its named field (else it stays in `arguments`). */
const NAMED_FIELD_FITS: Record<QueueOptionName, (value: unknown, type: string) => boolean> = {
  deadLetterExchange: isShortString,
  deadLetterRoutingKey: isShortString,
  messageTtl: (value) => wholeNumber(value, 0),
  expires: (value) => wholeNumber(value, 1),
  maxLength: (value) => wholeNumber(value, 0),
  maxLengthBytes: (value) => wholeNumber(value, 0),
  overflow: (value) => (OVERFLOW_MODES as readonly unknown[]).includes(value),
  maxPriority: (value) => wholeNumber(value, 1, 255),
  deliveryLimit: (value) => wholeNumber(value, 0),
  singleActiveConsumer: (value) => typeof value === 'boolean',
  maxAge: (value, type) => type === 'stream' && typeof value === 'string' && /^\d+(Y|M|D|h|m|s)$/.test(value),
};

function queueEntry(record: QueueRecord): Json {
  const entry: Json = { name: record.name, type: record.type };
  if (!record.durable) entry['durable'] = false;
  if (record.autoDelete) entry['autoDelete'] = true;
  const args = { ...record.arguments };
  // The type is the `type` field: the file sends it as x-queue-type.
  delete args['x-queue-type'];
  for (const [field, argument] of Object.entries(QUEUE_ARGUMENTS) as [QueueOptionName, string][]) {
    const value = args[argument];
    if (value === undefined || !NAMED_FIELD_FITS[field](value, record.type)) continue;
    entry[field] = value;
    delete args[argument];
  }
  return withArguments(entry, args);
}

function bindingEntry(record: BindingRecord): Json {
  const entry: Json = { source: record.source };
  entry[record.destinationType] = record.destination;
  if (record.routingKey !== '') entry['key'] = record.routingKey;
  return withArguments(entry, record.arguments);
}

function bindingName(record: BindingRecord): string {
  return `'${record.source}' → ${record.destinationType} '${record.destination}'`;
}

function withArguments(entry: Json, args: Json): Json {
  if (Object.keys(args).length > 0) entry['arguments'] = fileTable(args);
  return entry;
}

/**
 * An argument table as the file writes it: keys sorted, values as the API gave them (JSON).
 * A table with a "!" key would read as warren's typed form: it is written typed.
 */
function fileTable(table: Json): Json {
  const out: Json = {};
  for (const key of Object.keys(table).sort(compare)) {
    const value = fileValue(table[key]);
    if (key === '__proto__')
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

function fileValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fileValue);
  if (value === null || typeof value !== 'object') return value;
  const table = fileTable(value as Json);
  return Object.hasOwn(table, '!') ? { '!': 'table', value: table } : table;
}

function compareBindings(a: Json, b: Json): number {
  const key = (entry: Json) => [
    String(entry['source']),
    'queue' in entry ? 'q' : 'e',
    String(entry['queue'] ?? entry['exchange']),
    String(entry['key'] ?? ''),
    JSON.stringify(entry['arguments'] ?? {}),
  ];
  const [left, right] = [key(a), key(b)];
  for (let i = 0; i < left.length; i++) {
    const order = compare(left[i] as string, right[i] as string);
    if (order !== 0) return order;
  }
  return 0;
}

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && Buffer.byteLength(value) <= 255 && !unsendableText(value);
}

function wholeNumber(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
