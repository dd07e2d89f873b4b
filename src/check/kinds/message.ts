import type { CommandContext } from '../../commands/context.js';
import type { Measure } from '../outcome.js';
import type { Finding } from '../run.js';
import type { MessageCheck } from '../specs.js';
import { apiStats, noQueue, peek, QUORUM_NOT_PEEKED } from './peek.js';

/**
 * `check message`: is a message matching every `--match` in the queue? Up to `limit`
 * messages from the head are looked at and all put back (none taken); every match is
 * counted, and the first is named (its message-id and its position from the head). None
 * found is CRITICAL (`matched` below its minimum of 1), also when the limit stopped the look
 * before the end of the queue: the message says so. A quorum queue (as the API says) is not
 * peeked: UNKNOWN.
 */
export async function checkMessage(spec: MessageCheck, context: CommandContext): Promise<Finding> {
  const { compileMatches } = await import('../../match/predicate.js');
  // Before connecting: a malformed expression is a usage error (exit 2), whatever the queue.
  const matches = compileMatches(spec.matches);
  const { queue, limit } = spec;
  const measures = (scanned: number, matched: number | null): Measure[] => [
    { name: 'scanned', value: scanned, unit: 'messages' },
    { name: 'matched', value: matched, unit: 'count', crit: 1, bound: 'min' },
  ];
  const session = await context.connect();
  try {
    const counts = await session.queueInfo(queue);
    if (!counts) return noQueue(queue, measures(0, null));
    const api = await apiStats(context, queue);
    if ('stats' in api && api.stats.type === 'quorum') {
      return { target: queue, status: 'UNKNOWN', message: QUORUM_NOT_PEEKED, measures: measures(0, null) };
    }
    let matched = 0;
    let first: { id: string | undefined; position: number } | undefined;
    const scanned = await peek(session, queue, limit, (message, position) => {
      if (matches(message)) {
        matched += 1;
        first ??= { id: message.properties.messageId, position };
      }
      return true;
    });
    const what = spec.matches.map((expr) => `'${expr}'`).join(' and ');
    if (first) {
      const named = first.id === undefined ? 'a message without a message-id' : `message '${first.id}'`;
      return {
        target: queue,
        message: `found ${named} matching ${what} at position ${first.position} (${matched} of ${scanned} looked at match)`,
        measures: measures(scanned, matched),
      };
    }
    const cut =
      scanned >= limit && counts.messageCount > limit
        ? ` (the first ${limit} of ${counts.messageCount}: raise --limit to look further)`
        : '';
    return {
      target: queue,
      message: `no message matching ${what} among the ${scanned} looked at${cut}`,
      measures: measures(scanned, 0),
    };
  } finally {
    await session.close();
  }
}
