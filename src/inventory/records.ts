/**
 * What warren prints of the broker's inventory: one record per queue, exchange, binding,
 * consumer, connection, channel or vhost, made from the management API's JSON. The field
 * names are camelCase, as the message envelope's, stable and documented
 * (docs/commands/ls.md); a field the API does not give (statistics not yet collected, a
 * classic queue's leader) is null, never missing, so that every record of a kind has the
 * same fields in the same order.
 *
 * `ls`, `info`, `route` and `export` all read the inventory through these records.
 */

export const KINDS = [
  'queues',
  'exchanges',
  'bindings',
  'consumers',
  'connections',
  'channels',
  'vhosts',
] as const;
export type Kind = (typeof KINDS)[number];

type Json = Record<string, unknown>;

export interface QueueRecord {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  exclusive: boolean;
  arguments: Json;
  state: string | null;
  messages: number | null;
  messagesReady: number | null;
  messagesUnacknowledged: number | null;
  consumers: number | null;
  consumerUtilisation: number | null;
  /** Messages per second published to the queue, and delivered (or got) from it. */
  publishRate: number | null;
  deliverRate: number | null;
  memory: number | null;
  node: string | null;
  policy: string | null;
  idleSince: string | null;
}

export interface ExchangeRecord {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: Json;
  policy: string | null;
  /** Messages per second published into the exchange, and routed out of it. */
  publishInRate: number | null;
  publishOutRate: number | null;
}

export interface BindingRecord {
  /** The exchange bound from; '' is the default exchange. */
  source: string;
  vhost: string;
  destination: string;
  destinationType: 'queue' | 'exchange';
  routingKey: string;
  arguments: Json;
  /** What names this binding in the API (`/api/bindings/…/props/KEY`). */
  propertiesKey: string;
}

export interface ConsumerRecord {
  queue: string;
  vhost: string;
  consumerTag: string;
  /** The API's name of the connection (`127.0.0.1:50412 -> 127.0.0.1:5672`). */
  connection: string | null;
  /**
   * The name the client gave that connection (`warren consume`), when the connections were
   * read too (loadSnapshot with consumers does); else null.
   */
  clientName: string | null;
  channel: string | null;
  user: string | null;
  ackRequired: boolean;
  prefetchCount: number;
  exclusive: boolean;
  active: boolean | null;
  arguments: Json;
}

export interface ConnectionRecord {
  name: string;
  /** The name the client gave (client property connection_name). */
  clientName: string | null;
  vhost: string;
  user: string;
  state: string | null;
  protocol: string | null;
  peerHost: string | null;
  peerPort: number | null;
  tls: boolean;
  channels: number | null;
  connectedAt: string | null;
  /** Bytes per second received from and sent to the client. */
  receiveRate: number | null;
  sendRate: number | null;
  node: string | null;
}

export interface ChannelRecord {
  name: string;
  connection: string | null;
  number: number;
  vhost: string;
  user: string;
  state: string | null;
  consumers: number | null;
  prefetchCount: number | null;
  messagesUnacknowledged: number | null;
  messagesUnconfirmed: number | null;
  confirm: boolean;
  transactional: boolean;
  publishRate: number | null;
  deliverRate: number | null;
}

export interface VhostRecord {
  name: string;
  description: string | null;
  tags: string[];
  defaultQueueType: string | null;
  messages: number | null;
  messagesReady: number | null;
  messagesUnacknowledged: number | null;
  publishRate: number | null;
  deliverRate: number | null;
}

export type InventoryRecord =
  | QueueRecord
  | ExchangeRecord
  | BindingRecord
  | ConsumerRecord
  | ConnectionRecord
  | ChannelRecord
  | VhostRecord;

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const number = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;
const object = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
/** `message_stats.<name>_details.rate`, when the API has collected it. */
const rate = (item: Json, name: string): number | null =>
  number(object(object(item['message_stats'])[`${name}_details`])['rate']);
/** The API gives dates as '2026-12-05 10:01:02' (UTC, no zone) or epoch milliseconds. */
function time(value: unknown): string | null {
  if (typeof value === 'number') return new Date(value).toISOString();
  if (typeof value !== 'string' || value === '') return null;
  const parsed = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(parsed.getTime()) ? value : parsed.toISOString();
}

export function queueRecord(item: Json): QueueRecord {
  return {
    name: String(item['name']),
    vhost: String(item['vhost']),
    type: text(item['type']) ?? 'classic',
    durable: item['durable'] === true,
    autoDelete: item['auto_delete'] === true,
    exclusive: item['exclusive'] === true,
    arguments: object(item['arguments']),
    state: text(item['state']),
    messages: number(item['messages']),
    messagesReady: number(item['messages_ready']),
    messagesUnacknowledged: number(item['messages_unacknowledged']),
    consumers: number(item['consumers']),
    consumerUtilisation: number(item['consumer_utilisation'] ?? item['consumer_capacity']),
    publishRate: rate(item, 'publish'),
    deliverRate: rate(item, 'deliver_get'),
    memory: number(item['memory']),
    node: text(item['node'] ?? item['leader']),
    policy: text(item['policy']),
    idleSince: time(item['idle_since']),
  };
}

export function exchangeRecord(item: Json): ExchangeRecord {
  return {
    name: String(item['name']),
    vhost: String(item['vhost']),
    type: String(item['type']),
    durable: item['durable'] === true,
    autoDelete: item['auto_delete'] === true,
    internal: item['internal'] === true,
    arguments: object(item['arguments']),
    policy: text(item['policy']),
    publishInRate: rate(item, 'publish_in'),
    publishOutRate: rate(item, 'publish_out'),
  };
}

export function bindingRecord(item: Json): BindingRecord {
  return {
    source: String(item['source']),
    vhost: String(item['vhost']),
    destination: String(item['destination']),
    destinationType: item['destination_type'] === 'exchange' ? 'exchange' : 'queue',
    routingKey: String(item['routing_key'] ?? ''),
    arguments: object(item['arguments']),
    propertiesKey: String(item['properties_key'] ?? ''),
  };
}

export function consumerRecord(item: Json): ConsumerRecord {
  const queue = object(item['queue']);
  const channel = object(item['channel_details']);
  return {
    queue: String(queue['name']),
    vhost: String(queue['vhost']),
    consumerTag: String(item['consumer_tag']),
    connection: text(channel['connection_name']),
    clientName: null,
    channel: text(channel['name']),
    user: text(channel['user']),
    ackRequired: item['ack_required'] === true,
    prefetchCount: number(item['prefetch_count']) ?? 0,
    exclusive: item['exclusive'] === true,
    active: typeof item['active'] === 'boolean' ? item['active'] : null,
    arguments: object(item['arguments']),
  };
}

export function connectionRecord(item: Json): ConnectionRecord {
  return {
    name: String(item['name']),
    clientName:
      text(object(item['client_properties'])['connection_name']) ?? text(item['user_provided_name']),
    vhost: String(item['vhost']),
    user: String(item['user']),
    state: text(item['state']),
    protocol: text(item['protocol']),
    peerHost: text(item['peer_host']),
    peerPort: number(item['peer_port']),
    tls: item['ssl'] === true,
    channels: number(item['channels']),
    connectedAt: time(item['connected_at']),
    receiveRate: number(object(item['recv_oct_details'])['rate']),
    sendRate: number(object(item['send_oct_details'])['rate']),
    node: text(item['node']),
  };
}

export function channelRecord(item: Json): ChannelRecord {
  return {
    name: String(item['name']),
    connection: text(object(item['connection_details'])['name']),
    number: number(item['number']) ?? 0,
    vhost: String(item['vhost']),
    user: String(item['user']),
    state: text(item['state']),
    consumers: number(item['consumer_count']),
    prefetchCount: number(item['prefetch_count']),
    messagesUnacknowledged: number(item['messages_unacknowledged']),
    messagesUnconfirmed: number(item['messages_unconfirmed']),
    confirm: item['confirm'] === true,
    transactional: item['transactional'] === true,
    publishRate: rate(item, 'publish'),
    deliverRate: rate(item, 'deliver_get'),
  };
}

export function vhostRecord(item: Json): VhostRecord {
  const tags = item['tags'];
  return {
    name: String(item['name']),
    description: text(item['description']) || null,
    tags: Array.isArray(tags) ? tags.map(String) : typeof tags === 'string' && tags ? tags.split(',') : [],
    defaultQueueType:
      text(item['default_queue_type']) === 'undefined' ? null : text(item['default_queue_type']),
    messages: number(item['messages']),
    messagesReady: number(item['messages_ready']),
    messagesUnacknowledged: number(item['messages_unacknowledged']),
    publishRate: rate(item, 'publish'),
    deliverRate: rate(item, 'deliver_get'),
  };
}

/** Each kind: its API list (of a vhost, or of all of them), its record, its fields in order. */
export const KIND_SOURCES: Record<
  Kind,
  {
    path: (vhost: string | undefined) => string;
    record: (item: Json) => InventoryRecord;
    vhostScoped: boolean;
  }
> = {
  queues: { path: (v) => scoped('queues', v), record: queueRecord, vhostScoped: true },
  exchanges: { path: (v) => scoped('exchanges', v), record: exchangeRecord, vhostScoped: true },
  bindings: { path: (v) => scoped('bindings', v), record: bindingRecord, vhostScoped: true },
  consumers: { path: (v) => scoped('consumers', v), record: consumerRecord, vhostScoped: true },
  connections: {
    path: (v) => (v === undefined ? 'connections' : `vhosts/${encodeURIComponent(v)}/connections`),
    record: connectionRecord,
    vhostScoped: true,
  },
  channels: {
    path: (v) => (v === undefined ? 'channels' : `vhosts/${encodeURIComponent(v)}/channels`),
    record: channelRecord,
    vhostScoped: true,
  },
  vhosts: { path: () => 'vhosts', record: vhostRecord, vhostScoped: false },
};

function scoped(kind: string, vhost: string | undefined): string {
  return vhost === undefined ? kind : `${kind}/${encodeURIComponent(vhost)}`;
}

/** The field names of a kind's records, in order: for --columns, --sort and --match. */
export function fieldsOf(kind: Kind): string[] {
  return Object.keys(KIND_SOURCES[kind].record(SAMPLE));
}

const SAMPLE: Json = { name: '', vhost: '', queue: {}, source: '', destination: '' };
