/**
 * Looking at a queue's messages without taking them, for `check queue --max-age` and
 * `check message`: basic.get acking nothing, then the channel closed, which puts every message
 * back in its place. What the look leaves behind: each message seen is marked redelivered, and
 * a quorum queue may count the delivery (docs/commands/check.md says so).
 */
import { vhostSegment } from '../../api/client.js';
import type { DeliveredMessage, Session } from '../../broker/session.js';
import type { CommandContext } from '../../commands/context.js';
import { WarrenError } from '../../errors.js';
import type { Finding } from '../run.js';

/**
 * Why a quorum queue is not peeked: it counts each message looked at as delivered (toward
 * its delivery limit, past which it drops or dead-letters the message) and may put it back
 * behind the others. A check that runs every minute must not do that; only the API can tell
 * the queue's type (without it, the queue is peeked: docs/commands/check.md).
 */
export const QUORUM_NOT_PEEKED =
  'a quorum queue counts each message looked at as a delivery (toward its delivery limit, past which it drops or dead-letters it), so it is not peeked';

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

/**
 * How long the management API may take to answer before the check goes on without it: a
 * firewall that drops packets to its port would otherwise hold a monitoring run for the API
 * client's own 30 s, past a Nagios plugin's usual timeout.
 */
const API_WAIT_MS = 5000;

/** What the API says of a queue (GET /api/queues/VHOST/NAME), the parts this check reads. */
export interface QueueStats {
  type?: string;
  messages_unacknowledged?: number;
  message_stats?: {
    publish_details?: { rate?: number };
    deliver_get_details?: { rate?: number };
  };
}

/** The queue's statistics from the API, or why there are none (it did not answer, or refused). */
export async function apiStats(
  context: CommandContext,
  queue: string,
): Promise<{ stats: QueueStats } | { why: string }> {
  let timer: NodeJS.Timeout | undefined;
  let api: Awaited<ReturnType<CommandContext['api']>> | undefined;
  try {
    api = await context.api();
    const asked = api.get<QueueStats>(`queues/${vhostSegment(api.vhost)}/${encodeURIComponent(queue)}`);
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new WarrenError(`no answer in ${API_WAIT_MS / 1000} s`, 1)),
        API_WAIT_MS,
      );
    });
    return { stats: await Promise.race([asked, late]) };
  } catch (error) {
    if (!(error instanceof WarrenError)) throw error;
    return { why: error.message };
  } finally {
    clearTimeout(timer);
    api?.close();
  }
}
