import type { DeliveredMessage } from '../broker/session.js';
import type { CommandContext } from '../commands/context.js';
import { formatDuration } from '../duration.js';

/** What consume --exec did with the messages it took, for the status line and the summary. */
export interface Tally {
  handled: number;
  acked: number;
  requeued: number;
  retried: number;
  rejected: number;
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
  if (tally.requeued > 0) parts.push(`${tally.requeued} requeued`);
  if (tally.retried > 0) parts.push(`${tally.retried} retried`);
  if (tally.rejected > 0) parts.push(`${tally.rejected} rejected`);
  if (tally.unsettled > 0) parts.push(`${tally.unsettled} unsettled`);
  const replies = run.reply ? `, ${tally.replies} ${tally.replies === 1 ? 'reply' : 'replies'}` : '';
  const emitted = run.emit ? `, ${tally.emitted} ${tally.emitted === 1 ? 'event' : 'events'} emitted` : '';
  const failed = tally.failed > 0 ? ` (${tally.failed} failed)` : '';
  context.reporter.info(
    `handled ${tally.handled} ${tally.handled === 1 ? 'message' : 'messages'} from '${run.queue}': ${parts.join(', ')}${failed}${replies}${emitted} in ${formatDuration(run.elapsedMs)}`,
  );
}
