/**
 * What `route` reads from the management API: the vhost's exchanges, then the bindings of
 * only those exchanges a message could reach from the one published to (following bindings
 * to exchanges and alternate exchanges, whatever the key), one small request each. The
 * vhost's whole binding list holds a binding per queue from the default exchange: tens of
 * thousands of lines on a big broker, most of a second to send.
 */
import type { ManagementApi } from '../../api/client.js';
import { ExitCode, WarrenError } from '../../errors.js';
import {
  type BindingRecord,
  bindingRecord,
  type ExchangeRecord,
  exchangeRecord,
  type QueueRecord,
  queueRecord,
} from '../../inventory/records.js';
import {
  alternateExchangeOf,
  type RouteRequest,
  type RoutingOptions,
  routingKeys,
} from '../../inventory/routing.js';
import { ensureVhost, type Snapshot } from '../../inventory/snapshot.js';

type Policies = NonNullable<RoutingOptions['policies']>;

const isMissing = (error: unknown) => error instanceof WarrenError && /\(404\)$/.test(error.message);

export async function loadRouting(
  api: ManagementApi,
  vhost: string,
  request: RouteRequest,
  warn: (line: string) => void,
): Promise<{ snapshot: Snapshot; policies: Policies }> {
  await ensureVhost(api, vhost);
  const v = encodeURIComponent(vhost);
  const exchanges: ExchangeRecord[] = [];
  for await (const item of api.items<Record<string, unknown>>(`exchanges/${v}`, { disable_stats: true }))
    exchanges.push(exchangeRecord(item));
  const policies = await policiesOf(api, vhost, exchanges, warn);
  const snapshot: Snapshot = { vhost, exchanges, queues: [], bindings: [], consumers: [] };
  if (request.exchange === '') snapshot.queues = await queuesNamed(api, v, routingKeys(request));
  else snapshot.bindings = await reachableBindings(api, v, exchanges, request.exchange, policies);
  return { snapshot, policies };
}

/** The bindings from every exchange reachable from `start` by bindings and alternate exchanges. */
async function reachableBindings(
  api: ManagementApi,
  v: string,
  exchanges: ExchangeRecord[],
  start: string,
  policies: Policies,
): Promise<BindingRecord[]> {
  const byName = new Map(exchanges.map((exchange) => [exchange.name, exchange]));
  const bindings: BindingRecord[] = [];
  const seen = new Set([start]);
  const work = [start];
  const reach = (name: string | undefined) => {
    if (name === undefined || seen.has(name) || !byName.has(name)) return;
    seen.add(name);
    work.push(name);
  };
  for (let next = 0; next < work.length; next++) {
    const name = work[next] as string;
    const exchange = byName.get(name);
    if (!exchange || name === '') continue;
    let items: Record<string, unknown>[] = [];
    try {
      items = await api.get(`exchanges/${v}/${encodeURIComponent(name)}/bindings/source`);
    } catch (error) {
      if (!isMissing(error)) throw error; // deleted since the list was read: no bindings
    }
    for (const item of items) {
      const binding = bindingRecord(item);
      bindings.push(binding);
      if (binding.destinationType === 'exchange') reach(binding.destination);
    }
    reach(alternateExchangeOf(exchange, policies));
  }
  return bindings;
}

/** The queues of these names that exist (a vhost's whole list can be 10,000 queues long). */
async function queuesNamed(api: ManagementApi, v: string, names: string[]): Promise<QueueRecord[]> {
  const found: QueueRecord[] = [];
  // No queue is named '' (and `queues/VHOST/` would be the whole list).
  for (const name of names.filter((n) => n !== '')) {
    try {
      const path = `queues/${v}/${encodeURIComponent(name)}`;
      found.push(queueRecord(await api.get<Record<string, unknown>>(path, { disable_stats: true })));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
  return found;
}

/** The definitions of the policies the vhost's exchanges have, for an alternate exchange set by policy. */
async function policiesOf(
  api: ManagementApi,
  vhost: string,
  exchanges: ExchangeRecord[],
  warn: (line: string) => void,
): Promise<Policies> {
  const policies: Policies = new Map();
  if (!exchanges.some((exchange) => exchange.policy)) return policies;
  try {
    const list = await api.get<{ name: string; definition: Record<string, unknown> }[]>(
      `policies/${encodeURIComponent(vhost)}`,
    );
    for (const policy of list) policies.set(policy.name, policy.definition ?? {});
  } catch (error) {
    if (!(error instanceof WarrenError) || error.exitCode !== ExitCode.refused) throw error;
    warn(
      `cannot read the policies of vhost '${vhost}' (${error.message}): an alternate exchange set by a policy is not followed`,
    );
  }
  return policies;
}
