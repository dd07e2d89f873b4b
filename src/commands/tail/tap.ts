/**
 * tail's tap: a queue of warren's own, bound to the exchanges a tail watches, so that it
 * gets a copy of what they route and takes nothing from anyone.
 */
import type { Session } from '../../broker/session.js';
import { UsageError } from '../../errors.js';
import type { TailSource } from '../../tailSource.js';

export interface TapSources {
  sources: TailSource[];
  /** Headers exchanges: header values a message must carry, and whether all or any must match. */
  matchHeaders: Record<string, unknown>;
  headersMatch: 'all' | 'any';
}

/** Declares the tap queue and binds it to every source; returns the queue's name. */
export async function openTap(session: Session, tap: TapSources): Promise<string> {
  const queue = await declareTapQueue(session);
  for (const source of tap.sources) await bindSource(session, queue, source, tap);
  return queue;
}

/**
 * Exclusive (gone with the connection), auto-delete, and expiring after five unused
 * minutes should the connection linger.
 */
async function declareTapQueue(session: Session): Promise<string> {
  const counts = await session.declareQueue({
    name: '',
    type: undefined,
    durable: false,
    exclusive: true,
    autoDelete: true,
    arguments: { 'x-expires': 300_000 },
  });
  return counts.queue;
}

/** Binds the tap queue to one source, with the key that suits the exchange's type. */
async function bindSource(
  session: Session,
  queue: string,
  source: TailSource,
  tap: TapSources,
): Promise<void> {
  const type = await session.exchangeType(source.exchange);
  let key = source.key;
  let args: Record<string, unknown> = {};
  if (type === 'headers') {
    args = { 'x-match': tap.headersMatch, ...tap.matchHeaders };
    key ??= '';
  } else if (key === undefined) {
    if (type === 'direct') {
      throw new UsageError(`'${source.exchange}' is a direct exchange: say which routing key to watch`, {
        hint: `warren tail ${source.exchange}:ROUTING_KEY`,
      });
    }
    // Topic: every routing key. Fanout ignores the key. Other (plugin) types get '#' too.
    key = '#';
  }
  await session.bind({ source: source.exchange, destination: { queue }, key, arguments: args });
}
