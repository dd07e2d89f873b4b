import type { DeliveredMessage } from '../broker/session.js';
import type { CommandContext } from '../commands/context.js';
import { plural } from '../consume/outcome.js';
import { formatDuration } from '../duration.js';

/**
 * What consume --exec did with the messages it took, for the status line and the summary.
 * A message is handled once it is done with, acked or rejected; a try that gives it back
 * for another (a retry, a requeue) is counted apart, as its message comes again.
 */
export interface Tally {
  /** Messages done with: acked + rejected (--count counts these). */
  handled: number;
  acked: number;
  /** Tries given back to the queue by the broker's requeue (a failure, or a shutdown). */
  requeued: number;
  /** Tries given back as a counted retry (to the back of the queue, or a retry queue). */
  retried: number;
  rejected: number;
  /** Handler runs that failed. */
  failed: number;
  replies: number;
  /** Events handlers emitted that the broker confirmed (--emit). */
  emitted: number;
  /** Taken, but not settled when the connection ended: back to the queue, redelivered. */
  unsettled: number;
}

export function newTally(): Tally {
  return {
    handled: 0,
    acked: 0,
    requeued: 0,
    retried: 0,
    rejected: 0,
    failed: 0,
    replies: 0,
    emitted: 0,
    unsettled: 0,
  };
}

/** The status line of a run on a terminal. */
export function statusText(queue: string, tally: Tally, inFlight: number): string {
  return `handling '${queue}': ${tally.handled} handled, ${tally.failed} failed, ${tally.retried} retried, ${inFlight} in flight`;
}

/** How the log names a message: its message id, else its delivery tag. */
export function idOf(message: DeliveredMessage): string {
  return message.properties.messageId ?? `#${message.deliveryTag}`;
}

export function label(message: DeliveredMessage): string {
  return `message ${idOf(message)}`;
}

export function summarise(
  tally: Tally,
  run: { queue: string; reply: boolean; emit: boolean; elapsedMs: number },
  context: CommandContext,
): void {
  const parts = [`${tally.acked} acked`];
  if (tally.rejected > 0) parts.push(`${tally.rejected} rejected`);
  if (tally.unsettled > 0) parts.push(`${tally.unsettled} unsettled`);
  // The tries beside the messages: each retry or requeue is one more try of a message.
  const tries: string[] = [];
  if (tally.retried > 0) tries.push(`${tally.retried} ${tally.retried === 1 ? 'retry' : 'retries'}`);
  if (tally.requeued > 0) tries.push(`${tally.requeued} ${plural('requeue', tally.requeued)}`);
  if (tally.failed > 0) tries.push(`${tally.failed} ${plural('run', tally.failed)} failed`);
  const aside = tries.length > 0 ? ` (${tries.join(', ')})` : '';
  const replies = run.reply ? `, ${tally.replies} ${tally.replies === 1 ? 'reply' : 'replies'}` : '';
  const emitted = run.emit ? `, ${tally.emitted} ${plural('event', tally.emitted)} emitted` : '';
  context.reporter.info(
    `handled ${tally.handled} ${plural('message', tally.handled)} from '${run.queue}': ${parts.join(', ')}${aside}${replies}${emitted} in ${formatDuration(run.elapsedMs)}`,
  );
}
