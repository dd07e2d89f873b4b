/**
 * Looking at a queue's messages without taking them, for `check queue --max-age` and
 * `check message`: basic.get acking nothing, then the channel closed, which puts every message
 * back in its place. What the look leaves behind: each message seen is marked redelivered, and
 * a quorum queue may count the delivery (docs/commands/check.md says so).
 */
import type { DeliveredMessage, Session } from '../../broker/session.js';
import type { Finding } from '../run.js';

/**
 * Visits up to `limit` messages from the head, in order (`position` from 1), until `visit`
 * says false; returns how many were seen. Every one goes back when the look ends, even when
 * `visit` or the broker fails half-way.
 */
export async function peek(
  session: Session,
  queue: string,
  limit: number,
  visit: (message: DeliveredMessage, position: number) => boolean,
): Promise<number> {
  const browser = await session.openBrowser(queue, { noAck: false });
  let seen = 0;
  try {
    while (seen < limit) {
      const message = await browser.next();
      if (!message) break;
      seen += 1;
      if (!visit(message, seen)) break;
    }
  } finally {
    await browser.release();
  }
  return seen;
}

/** The finding for a queue that is not there: CRITICAL, whatever else was asked. */
export function noQueue(queue: string, measures: Finding['measures']): Finding {
  return { target: queue, status: 'CRITICAL', message: `no queue '${queue}'`, measures };
}
