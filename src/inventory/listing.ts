/**
 * What `warren ls` knows of each kind beyond its records (records.ts): the field the
 * management API sorts by for each record field, how names are filtered, and the columns a
 * table shows by default, with their labels and how their values read.
 */
import { fieldsOf, type Kind } from './records.js';

/** How a value reads in a table: text, an exchange's name ('' is the default exchange), a count, a rate per second, bytes, bytes per second, a share. */
export type ValueStyle = 'text' | 'exchange' | 'count' | 'rate' | 'bytes' | 'byteRate' | 'share';

export interface FieldView {
  label: string;
  style: ValueStyle;
}

/**
 * Record field → the API's field to `sort` by (a dotted path into its JSON); null where the
 * value is an object or a list, which the API cannot order in a useful way. A field whose
 * API name is its own name in snake_case is not listed.
 */
const SORT_FIELDS: Record<Kind, Record<string, string | null>> = {
  queues: {
    arguments: null,
    consumerUtilisation: 'consumer_utilisation',
    publishRate: 'message_stats.publish_details.rate',
    deliverRate: 'message_stats.deliver_get_details.rate',
  },
  exchanges: {
    arguments: null,
    publishInRate: 'message_stats.publish_in_details.rate',
    publishOutRate: 'message_stats.publish_out_details.rate',
  },
  bindings: { arguments: null },
  consumers: {
    queue: 'queue.name',
    vhost: 'queue.vhost',
    connection: 'channel_details.connection_name',
    channel: 'channel_details.name',
    user: 'channel_details.user',
    arguments: null,
  },
  connections: {
    clientName: 'client_properties.connection_name',
    tls: 'ssl',
    receiveRate: 'recv_oct_details.rate',
    sendRate: 'send_oct_details.rate',
  },
  channels: {
    connection: 'connection_details.name',
    consumers: 'consumer_count',
    publishRate: 'message_stats.publish_details.rate',
    deliverRate: 'message_stats.deliver_get_details.rate',
  },
  vhosts: {
    tags: null,
    publishRate: 'message_stats.publish_details.rate',
    deliverRate: 'message_stats.deliver_get_details.rate',
  },
};

/**
 * What the records of a kind read of the API's JSON (records.ts), asked for with `columns`:
 * the API then sends a queue in a fifth of the bytes (no backing queue status, no
 * garbage-collection settings, …), and warren parses a fifth. test/unit/lsTable.test.ts
 * checks that the mappers read nothing else.
 */
const RATE = (name: string) => `message_stats.${name}_details.rate`;
export const API_COLUMNS: Record<Kind, string[]> = {
  queues: [
    'name',
    'vhost',
    'type',
    'durable',
    'auto_delete',
    'exclusive',
    'arguments',
    'state',
    'messages',
    'messages_ready',
    'messages_unacknowledged',
    'consumers',
    'consumer_utilisation',
    'consumer_capacity',
    RATE('publish'),
    RATE('deliver_get'),
    'memory',
    'node',
    'leader',
    'policy',
    'idle_since',
  ],
  exchanges: [
    'name',
    'vhost',
    'type',
    'durable',
    'auto_delete',
    'internal',
    'arguments',
    'policy',
    RATE('publish_in'),
    RATE('publish_out'),
  ],
  bindings: [
    'source',
    'vhost',
    'destination',
    'destination_type',
    'routing_key',
    'arguments',
    'properties_key',
  ],
  consumers: [
    'queue.name',
    'queue.vhost',
    'consumer_tag',
    'channel_details.connection_name',
    'channel_details.name',
    'channel_details.user',
    'ack_required',
    'prefetch_count',
    'exclusive',
    'active',
    'arguments',
  ],
  connections: [
    'name',
    'client_properties.connection_name',
    'user_provided_name',
    'vhost',
    'user',
    'state',
    'protocol',
    'peer_host',
    'peer_port',
    'ssl',
    'channels',
    'connected_at',
    'recv_oct_details.rate',
    'send_oct_details.rate',
    'node',
  ],
  channels: [
    'name',
    'connection_details.name',
    'number',
    'vhost',
    'user',
    'state',
    'consumer_count',
    'prefetch_count',
    'messages_unacknowledged',
    'messages_unconfirmed',
    'confirm',
    'transactional',
    RATE('publish'),
    RATE('deliver_get'),
  ],
  vhosts: [
    'name',
    'description',
    'tags',
    'default_queue_type',
    'messages',
    'messages_ready',
    'messages_unacknowledged',
    RATE('publish'),
    RATE('deliver_get'),
  ],
};

const snakeCase = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The API's sort key for a record field; null when it cannot be sorted by. */
export function apiSortField(kind: Kind, field: string): string | null {
  const special = SORT_FIELDS[kind][field];
  return special === undefined ? snakeCase(field) : special;
}

/** The fields of a kind the API can sort by. */
export function sortableFields(kind: Kind): string[] {
  return fieldsOf(kind).filter((field) => apiSortField(kind, field) !== null);
}

/**
 * The record fields warren filters names on itself, for the lists the API sends whole, which
 * its `name` filter does not apply to: bindings (a binding matches when its source or its
 * destination does), consumers (their queue), and a vhost's connections and channels (their
 * name; the lists of all vhosts are paged and filtered by the API). Undefined: the API filters.
 */
export function clientNameFields(kind: Kind, vhost: string | undefined): string[] | undefined {
  if (kind === 'bindings') return ['source', 'destination'];
  if (kind === 'consumers') return ['queue'];
  if ((kind === 'connections' || kind === 'channels') && vhost !== undefined) return ['name'];
  return undefined;
}

/** The columns of a table when --columns is not given; `vhost` joins them with --all-vhosts. */
export const DEFAULT_COLUMNS: Record<Kind, string[]> = {
  queues: [
    'name',
    'type',
    'state',
    'messages',
    'messagesReady',
    'messagesUnacknowledged',
    'consumers',
    'publishRate',
    'deliverRate',
    'memory',
  ],
  exchanges: ['name', 'type', 'durable', 'autoDelete', 'internal', 'publishInRate', 'publishOutRate'],
  bindings: ['source', 'destinationType', 'destination', 'routingKey', 'arguments'],
  consumers: ['queue', 'consumerTag', 'clientName', 'connection', 'ackRequired', 'prefetchCount', 'active'],
  connections: ['name', 'clientName', 'user', 'state', 'protocol', 'channels', 'receiveRate', 'sendRate'],
  channels: [
    'name',
    'user',
    'state',
    'consumers',
    'prefetchCount',
    'messagesUnacknowledged',
    'publishRate',
    'deliverRate',
  ],
  vhosts: [
    'name',
    'defaultQueueType',
    'messages',
    'messagesReady',
    'messagesUnacknowledged',
    'publishRate',
    'deliverRate',
  ],
};

/** Short headings and value styles; any other field is text headed by its own name. */
const VIEWS: Record<string, FieldView> = {
  messages: { label: 'messages', style: 'count' },
  messagesReady: { label: 'ready', style: 'count' },
  messagesUnacknowledged: { label: 'unacked', style: 'count' },
  messagesUnconfirmed: { label: 'unconfirmed', style: 'count' },
  consumers: { label: 'consumers', style: 'count' },
  channels: { label: 'channels', style: 'count' },
  number: { label: 'number', style: 'count' },
  prefetchCount: { label: 'prefetch', style: 'count' },
  peerPort: { label: 'peerPort', style: 'count' },
  consumerUtilisation: { label: 'utilisation', style: 'share' },
  publishRate: { label: 'in/s', style: 'rate' },
  deliverRate: { label: 'out/s', style: 'rate' },
  publishInRate: { label: 'in/s', style: 'rate' },
  publishOutRate: { label: 'out/s', style: 'rate' },
  receiveRate: { label: 'recv/s', style: 'byteRate' },
  sendRate: { label: 'send/s', style: 'byteRate' },
  memory: { label: 'memory', style: 'bytes' },
  destinationType: { label: 'to', style: 'text' },
  defaultQueueType: { label: 'queueType', style: 'text' },
  ackRequired: { label: 'ack', style: 'text' },
  autoDelete: { label: 'autoDelete', style: 'text' },
};

export function fieldView(kind: Kind, field: string): FieldView {
  if ((kind === 'exchanges' && field === 'name') || (kind === 'bindings' && field === 'source')) {
    return { label: field, style: 'exchange' };
  }
  return VIEWS[field] ?? { label: field, style: 'text' };
}
