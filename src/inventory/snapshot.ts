/**
 * One vhost's topology as the management API shows it now: its exchanges, queues and
 * bindings (and consumers, when asked), as records. `info`, `route` and `export` work on it.
 */
import type { ManagementApi, Query } from '../api/client.js';
import { BrokerRefusedError, ExitCode, WarrenError } from '../errors.js';
import {
  type BindingRecord,
  bindingRecord,
  type ConsumerRecord,
  connectionRecord,
  consumerRecord,
  type ExchangeRecord,
  exchangeRecord,
  KIND_SOURCES,
  type QueueRecord,
  queueRecord,
} from './records.js';

export interface Snapshot {
  vhost: string;
  exchanges: ExchangeRecord[];
  queues: QueueRecord[];
  bindings: BindingRecord[];
  /** Only when asked for (`consumers: true`). */
  consumers: ConsumerRecord[];
}

export interface SnapshotParts {
  consumers?: boolean;
  /** Message counts and rates of the queues; without them the API answers faster. */
  statistics?: boolean;
  /** The queues (the default); `route` needs them only for the default exchange. */
  queues?: boolean;
}

/** A vhost the API does not have is exit 5, naming it; any other failure is the API's. */
export async function ensureVhost(api: ManagementApi, vhost: string): Promise<void> {
  try {
    await api.get(`vhosts/${encodeURIComponent(vhost)}`, { columns: 'name' });
  } catch (error) {
    if (error instanceof WarrenError && /\(404\)$/.test(error.message)) {
      throw new BrokerRefusedError(`vhost '${vhost}' does not exist on ${api.target.masked}`, {
        hint: "the vhost is the broker URL's path (amqp://host/VHOST, %2F for /), or --vhost",
      });
    }
    throw error;
  }
}

/**
 * A whole list in one request: pages read one after another would skip or repeat the items
 * of a list that changes in between, and the API refuses a page past an end that moved
 * ("Page out of range", 400) while queues come and go.
 */
async function all<T>(
  api: ManagementApi,
  path: string,
  record: (item: Record<string, unknown>) => T,
  query: Query = {},
): Promise<T[]> {
  const items = await api.get<unknown>(path, query);
  if (!Array.isArray(items))
    throw new WarrenError(`${api.target.masked}/api/${path} sent no list`, ExitCode.unreachable);
  return items.map((item) => record(item as Record<string, unknown>));
}

/**
 * The names clients gave their connections (`warren consume`), by the API's name of each (a
 * vhost's, or all of them): a consumer's channel names its connection only as the API does
 * (`127.0.0.1:50412 -> 127.0.0.1:5672`), and people know it by the other.
 */
export async function connectionClientNames(
  api: ManagementApi,
  vhost: string | undefined,
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const query = { columns: 'name,client_properties.connection_name' };
  for await (const item of api.items<Record<string, unknown>>(KIND_SOURCES.connections.path(vhost), query)) {
    const { name, clientName } = connectionRecord(item);
    if (clientName !== null) names.set(name, clientName);
  }
  return names;
}

export async function loadSnapshot(
  api: ManagementApi,
  vhost: string,
  parts: SnapshotParts = {},
): Promise<Snapshot> {
  await ensureVhost(api, vhost);
  const v = encodeURIComponent(vhost);
  const statistics = parts.statistics === false ? { disable_stats: true } : {};
  // Without statistics the queues still come with their message counts, which cost little.
  const totals = parts.statistics === false ? { enable_queue_totals: true } : {};
  const [exchanges, queues, bindings, consumers, clientNames] = await Promise.all([
    all(api, `exchanges/${v}`, exchangeRecord, statistics),
    parts.queues === false
      ? Promise.resolve([])
      : all(api, `queues/${v}`, queueRecord, { ...statistics, ...totals }),
    all(api, `bindings/${v}`, bindingRecord),
    parts.consumers ? all(api, `consumers/${v}`, consumerRecord) : Promise.resolve([]),
    parts.consumers ? connectionClientNames(api, vhost) : Promise.resolve(new Map<string, string>()),
  ]);
  for (const consumer of consumers) consumer.clientName = clientNames.get(consumer.connection ?? '') ?? null;
  if (parts.consumers && parts.statistics === false) {
    // Without statistics the API counts no consumers: the list just read does.
    const counts = new Map<string, number>();
    for (const consumer of consumers) counts.set(consumer.queue, (counts.get(consumer.queue) ?? 0) + 1);
    for (const queue of queues) queue.consumers ??= counts.get(queue.name) ?? 0;
  }
  return { vhost, exchanges, queues, bindings, consumers };
}
