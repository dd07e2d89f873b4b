/**
 * `warren route`: the vhost's exchanges and the bindings a message could meet read from the
 * management API (load.ts), and the message routed over them as the broker would
 * (src/inventory/routing.ts). Nothing is published. Exit 0 when a queue is reached, 4 when none is (a mandatory publish would
 * come back), 5 for a missing exchange, 1 when an exchange on the way is of a type warren
 * cannot compute.
 */
import type { FieldTable } from '../../broker/fieldTable.js';
import { ExitCode, NotDeliveredError, WarrenError } from '../../errors.js';
import { type Hop, type RoutedQueue, type RouteResult, Router } from '../../inventory/routing.js';
import type { Paint } from '../../ui/colour.js';
import { visible } from '../../ui/terminalText.js';
import type { CommandContext } from '../context.js';
import type { RouteFormat } from './command.js';
import { loadRouting } from './load.js';

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
    const { snapshot, policies } = await loadRouting(api, vhost, options, (line) =>
      context.reporter.warn(line),
    );
    result = new Router(snapshot, { policies }).route(options);
  } finally {
    api.close();
  }
  report(result, options, context);
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
