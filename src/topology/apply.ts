/**
 * Applying, checking and tearing down a topology, one entity at a time: a refusal of one
 * entity is reported for that entity and the others still get their turn.
 */
import {
  type BindingSpec,
  describeBinding,
  type ExchangeSpec,
  type QueueSpec,
} from '../broker/declarations.js';
import type { QueueCounts, Session } from '../broker/session.js';
import { BrokerRefusedError, WarrenError } from '../errors.js';
import type { BindingRecord } from '../inventory/records.js';
import { checkBindings } from './bindingCheck.js';
import type { Topology } from './spec.js';

export type EntityStatus =
  | 'created'
  | 'unchanged'
  | 'bound'
  | 'differs'
  | 'failed'
  | 'present'
  | 'missing'
  | 'not checked'
  | 'deleted'
  | 'unbound'
  | 'absent';

export interface EntityResult {
  kind: 'exchange' | 'queue' | 'binding';
  name: string;
  status: EntityStatus;
  detail?: string;
}

/** The broker's reply code behind an error (406 for inequivalent arguments), if any. */
export function replyCode(error: unknown): number | undefined {
  const cause = error instanceof WarrenError ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** What the broker said, without the entity warren put in front of it. */
function reason(error: unknown): string {
  if (error instanceof BrokerRefusedError && error.brokerText) return error.brokerText;
  return error instanceof Error ? error.message : String(error);
}

/** An entity that exists with other settings (406), or one that could not be declared. */
function refused(kind: EntityResult['kind'], name: string, error: unknown): EntityResult {
  if (!(error instanceof BrokerRefusedError)) throw error;
  // 406 is also "invalid arg" (a value the queue type refuses): only an inequivalent
  // argument means the entity exists with other settings.
  if (replyCode(error) === 406 && /inequivalent arg/.test(reason(error))) {
    return { kind, name, status: 'differs', detail: reason(error) };
  }
  return { kind, name, status: 'failed', detail: reason(error) };
}

export async function applyExchange(session: Session, spec: ExchangeSpec): Promise<EntityResult> {
  try {
    const existed = await session.exchangeExists(spec.name);
    await session.declareExchange(spec);
    return { kind: 'exchange', name: spec.name, status: existed ? 'unchanged' : 'created' };
  } catch (error) {
    return refused('exchange', spec.name, error);
  }
}

export async function applyQueue(
  session: Session,
  spec: QueueSpec,
): Promise<EntityResult & { counts?: QueueCounts }> {
  try {
    const existed = spec.name !== '' && (await session.queueInfo(spec.name)) !== undefined;
    const counts = await session.declareQueue(spec);
    return { kind: 'queue', name: counts.queue, status: existed ? 'unchanged' : 'created', counts };
  } catch (error) {
    return refused('queue', spec.name, error);
  }
}

export async function applyBinding(session: Session, spec: BindingSpec): Promise<EntityResult> {
  try {
    await session.bind(spec);
    return { kind: 'binding', name: describeBinding(spec), status: 'bound' };
  } catch (error) {
    return refused('binding', describeBinding(spec), error);
  }
}

/** Exchanges, then queues, then bindings: each binding finds both ends in place. */
export async function applyTopology(session: Session, topology: Topology): Promise<EntityResult[]> {
  const results: EntityResult[] = [];
  for (const exchange of topology.exchanges) results.push(await applyExchange(session, exchange));
  for (const queue of topology.queues) {
    const { counts: _counts, ...result } = await applyQueue(session, queue);
    results.push(result);
  }
  for (const binding of topology.bindings) results.push(await applyBinding(session, binding));
  return results;
}

/**
 * Checks without changing anything: a passive declare says whether an entity exists, and
 * for one that does, declaring it as the file says is refused (406) exactly when something
 * differs, with the broker naming the argument. Bindings cannot be seen over AMQP 0-9-1:
 * they are checked against the management API's list when there is one (`live`).
 */
export async function checkTopology(
  session: Session,
  topology: Topology,
  live?: BindingRecord[],
): Promise<EntityResult[]> {
  const results: EntityResult[] = [];
  const check = async (
    kind: 'exchange' | 'queue',
    name: string,
    exists: () => Promise<boolean>,
    declare: () => Promise<unknown>,
  ) => {
    try {
      if (!(await exists())) return results.push({ kind, name, status: 'missing' });
      await declare();
      return results.push({ kind, name, status: 'present' });
    } catch (error) {
      return results.push(refused(kind, name, error));
    }
  };
  for (const spec of topology.exchanges) {
    await check(
      'exchange',
      spec.name,
      () => session.exchangeExists(spec.name),
      () => session.declareExchange(spec),
    );
  }
  for (const spec of topology.queues) {
    await check(
      'queue',
      spec.name,
      async () => (await session.queueInfo(spec.name)) !== undefined,
      () => session.declareQueue(spec),
    );
  }
  if (live) return [...results, ...checkBindings(topology, live)];
  for (const spec of topology.bindings) {
    results.push({
      kind: 'binding',
      name: describeBinding(spec),
      status: 'not checked',
      detail: 'AMQP 0-9-1 cannot see bindings',
    });
  }
  return results;
}

/** Bindings, then queues, then exchanges; what is already gone is `absent`, not an error. */
export async function teardownTopology(session: Session, topology: Topology): Promise<EntityResult[]> {
  const results: EntityResult[] = [];
  for (const spec of topology.bindings) results.push(await removeBinding(session, spec));
  for (const spec of topology.queues)
    results.push(await deleteQueue(session, spec.name, { ifUnused: false, ifEmpty: false }));
  for (const spec of topology.exchanges)
    results.push(await deleteExchange(session, spec.name, { ifUnused: false }));
  return results;
}

export async function removeBinding(session: Session, spec: BindingSpec): Promise<EntityResult> {
  const name = describeBinding(spec);
  try {
    // RabbitMQ answers ok to an unbind whatever is there: only the ends tell what is gone.
    const destinationExists =
      'queue' in spec.destination
        ? (await session.queueInfo(spec.destination.queue)) !== undefined
        : await session.exchangeExists(spec.destination.exchange);
    if (!destinationExists || !(await session.exchangeExists(spec.source))) {
      return { kind: 'binding', name, status: 'absent', detail: 'an end of it does not exist' };
    }
    await session.bind(spec, true);
    return { kind: 'binding', name, status: 'unbound' };
  } catch (error) {
    if (replyCode(error) === 404) return { kind: 'binding', name, status: 'absent', detail: reason(error) };
    return refused('binding', name, error);
  }
}

export async function deleteQueue(
  session: Session,
  name: string,
  options: { ifUnused: boolean; ifEmpty: boolean },
): Promise<EntityResult> {
  try {
    if ((await session.queueInfo(name)) === undefined) {
      return { kind: 'queue', name, status: 'absent', detail: 'nothing to delete' };
    }
    const messages = await session.deleteQueue(name, options);
    return {
      kind: 'queue',
      name,
      status: 'deleted',
      detail: `${messages} message${messages === 1 ? '' : 's'} with it`,
    };
  } catch (error) {
    return refused('queue', name, error);
  }
}

export async function deleteExchange(
  session: Session,
  name: string,
  options: { ifUnused: boolean },
): Promise<EntityResult> {
  try {
    if (!(await session.exchangeExists(name))) {
      return { kind: 'exchange', name, status: 'absent', detail: 'nothing to delete' };
    }
    await session.deleteExchange(name, options);
    return { kind: 'exchange', name, status: 'deleted' };
  } catch (error) {
    return refused('exchange', name, error);
  }
}

export function summarise(results: EntityResult[]): Partial<Record<EntityStatus, number>> {
  const summary: Partial<Record<EntityStatus, number>> = {};
  for (const result of results) summary[result.status] = (summary[result.status] ?? 0) + 1;
  return summary;
}

/** Whether a run of results leaves the broker as asked (differs, failed or missing do not). */
export function allWell(results: EntityResult[]): boolean {
  return results.every((r) => r.status !== 'differs' && r.status !== 'failed' && r.status !== 'missing');
}
