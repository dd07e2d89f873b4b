/**
 * `warren route`: the vhost's exchanges, queues and bindings read from the management API,
 * and the message routed over them as the broker would (src/inventory/routing.ts). Nothing
 * is published. Exit 0 when a queue is reached, 4 when none is (a mandatory publish would
 * come back), 5 for a missing exchange, 1 when an exchange on the way is of a type warren
 * cannot compute.
 */
import type { ManagementApi } from '../../api/client.js';
import type { FieldTable } from '../../broker/fieldTable.js';
import { ExitCode, NotDeliveredError, WarrenError } from '../../errors.js';
import { type QueueRecord, queueRecord } from '../../inventory/records.js';
import {
  type Hop,
  type RoutedQueue,
  type RouteResult,
  Router,
  routingKeys,
} from '../../inventory/routing.js';
import { loadSnapshot, type Snapshot } from '../../inventory/snapshot.js';
import type { Paint } from '../../ui/colour.js';
import { visible } from '../../ui/terminalText.js';
import type { CommandContext } from '../context.js';
import type { RouteFormat } from './command.js';

export interface RouteOptions {
  exchange: string;
  routingKey: string;
  /** The message's headers, typed (`-H`). */
  headers: FieldTable;
  /** --vhost, else the broker URL's. */
  vhost: string | undefined;
  format: RouteFormat;
}

export async function route(options: RouteOptions, context: CommandContext): Promise<void> {
  const api = await context.api();
  let result: RouteResult;
  try {
    const vhost = options.vhost ?? api.vhost;
    // Only the default exchange needs queues, and only those its routing keys name.
    const snapshot = await loadSnapshot(api, vhost, { statistics: false, queues: false });
    if (options.exchange === '') snapshot.queues = await queuesNamed(api, vhost, routingKeys(options));
    const policies = await policiesOf(api, snapshot, context);
    result = new Router(snapshot, { policies }).route(options);
  } finally {
    api.close();
  }
  report(result, options, context);
}

/** The queues of these names that exist (a vhost's whole list can be 10,000 queues long). */
async function queuesNamed(api: ManagementApi, vhost: string, names: string[]): Promise<QueueRecord[]> {
  const found: QueueRecord[] = [];
  // No queue is named '' (and `queues/VHOST/` would be the whole list).
  for (const name of names.filter((n) => n !== '')) {
    try {
      const path = `queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`;
      found.push(queueRecord(await api.get<Record<string, unknown>>(path, { disable_stats: true })));
    } catch (error) {
      if (!(error instanceof WarrenError && /\(404\)$/.test(error.message))) throw error;
    }
  }
  return found;
}

/** The definitions of the policies the vhost's exchanges have, for an alternate exchange set by policy. */
async function policiesOf(
  api: ManagementApi,
  snapshot: Snapshot,
  context: CommandContext,
): Promise<Map<string, Record<string, unknown>>> {
  const policies = new Map<string, Record<string, unknown>>();
  if (!snapshot.exchanges.some((exchange) => exchange.policy)) return policies;
  try {
    const list = await api.get<{ name: string; definition: Record<string, unknown> }[]>(
      `policies/${encodeURIComponent(snapshot.vhost)}`,
    );
    for (const policy of list) policies.set(policy.name, policy.definition ?? {});
  } catch (error) {
    if (!(error instanceof WarrenError) || error.exitCode !== ExitCode.refused) throw error;
    context.reporter.warn(
      `cannot read the policies of vhost '${snapshot.vhost}' (${error.message}): an alternate exchange set by a policy is not followed`,
    );
  }
  return policies;
}

function report(result: RouteResult, options: RouteOptions, context: CommandContext): void {
  const { reporter } = context;
  const name = quoted(options.exchange);
  if (result.exchange.internal) {
    reporter.warn(
      `exchange ${name} is internal: a client cannot publish to it (the broker refuses, 403); shown is where a message that reaches it through an exchange-to-exchange binding goes`,
    );
  }
  for (const { exchange, alternate } of result.missingAlternates)
    reporter.warn(`the alternate exchange ${quoted(alternate)} of ${quoted(exchange)} does not exist`);
  const out = context.io.stdout;
  if (options.format === 'ndjson') {
    for (const queue of result.queues) out.write(`${JSON.stringify(queue)}\n`);
  } else {
    const width = Math.min(40, Math.max(0, ...result.queues.map((q) => visible(q.queue).length)));
    for (const queue of result.queues) out.write(`${prettyLine(queue, width, context.stdoutPaint)}\n`);
  }
  const key = quoted(options.routingKey);
  if (result.unknown.length > 0) {
    const [first] = result.unknown;
    const others = result.unknown.length > 1 ? ` (and ${result.unknown.length - 1} more)` : '';
    throw new WarrenError(
      `cannot compute routing through exchange ${quoted(first?.exchange ?? '')} of type '${first?.type}'${others}: warren knows direct, fanout, topic and headers exchanges; ${
        result.queues.length === 0
          ? 'no queue is reached otherwise'
          : 'the queues listed are those reached otherwise'
      }`,
      ExitCode.failure,
    );
  }
  if (result.queues.length === 0) {
    throw new NotDeliveredError(
      `exchange ${name} routes key ${key} to no queue: a mandatory publish would be returned, any other dropped`,
      { hint: 'no binding matches it, and no alternate exchange takes it' },
    );
  }
  const count = result.queues.length;
  reporter.info(`exchange ${name} routes key ${key} to ${count} queue${count === 1 ? '' : 's'}`);
}

/** `orders.audit   via orders ['order.#'] → audit [fanout]` */
function prettyLine(queue: RoutedQueue, width: number, paint: Paint): string {
  const name = visible(queue.queue);
  const path = queue.via.map(
    (hop) => `${visible(shown(hop.exchange))} ${paint.dim(`[${visible(hopLabel(hop))}]`)}`,
  );
  return `${paint.bold(name)}${' '.repeat(Math.max(0, width - name.length))}  via ${path.join(' → ')}`;
}

function hopLabel(hop: Hop): string {
  if (hop.by === 'alternate-exchange') return 'alternate exchange';
  if (hop.by === 'default-exchange') return 'default exchange';
  if (hop.type === 'fanout') return 'fanout';
  if (hop.type === 'headers') {
    // x-match first: it says how the others are read.
    const args = Object.entries(hop.arguments ?? {}).sort(
      ([a], [b]) => Number(b === 'x-match') - Number(a === 'x-match'),
    );
    if (args.length === 0) return 'headers: any message';
    return args.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  }
  return quoted(hop.routingKey ?? '');
}

/** An exchange in a path: as it is, quoted when it is '' or has spaces. */
function shown(name: string): string {
  return name === '' || /\s/.test(name) ? quoted(name) : name;
}

/** A name in a sentence: quoted, so that '' and spaces show. */
function quoted(name: string): string {
  return `'${name}'`;
}
