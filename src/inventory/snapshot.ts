/**
 * One vhost's topology as the management API shows it now: its exchanges, queues and
 * bindings (and consumers, when asked), as records. `info`, `route` and `export` work on it.
 */
import type { ManagementApi, Query } from '../api/client.js';
import { BrokerRefusedError, WarrenError } from '../errors.js';
import {
  type BindingRecord,
  bindingRecord,
  type ConsumerRecord,
  consumerRecord,
  type ExchangeRecord,
  exchangeRecord,
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

async function all<T>(
  api: ManagementApi,
  path: string,
  record: (item: Record<string, unknown>) => T,
  query: Query = {},
): Promise<T[]> {
  const out: T[] = [];
  for await (const item of api.items<Record<string, unknown>>(path, query)) out.push(record(item));
  return out;
}

export async function loadSnapshot(
  api: ManagementApi,
  vhost: string,
  parts: SnapshotParts = {},
): Promise<Snapshot> {
  await ensureVhost(api, vhost);
  const v = encodeURIComponent(vhost);
  const statistics = parts.statistics === false ? { disable_stats: true } : {};
  const [exchanges, queues, bindings, consumers] = await Promise.all([
    all(api, `exchanges/${v}`, exchangeRecord, statistics),
    parts.queues === false ? Promise.resolve([]) : all(api, `queues/${v}`, queueRecord, statistics),
    all(api, `bindings/${v}`, bindingRecord),
    parts.consumers ? all(api, `consumers/${v}`, consumerRecord) : Promise.resolve([]),
  ]);
  return { vhost, exchanges, queues, bindings, consumers };
}
