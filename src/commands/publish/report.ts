import type { ConfirmTracker } from '../../broker/confirmTracker.js';
import type { InputMode } from '../../choices.js';
import { formatDuration } from '../../duration.js';
import { BrokerRefusedError, NotDeliveredError } from '../../errors.js';
import type { CommandContext } from '../context.js';

/** What publish and replay report of their publishing: the same counts, the same words. */

export function progressLine(tracker: ConfirmTracker, started: number, verb = 'publishing'): string {
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(tracker.published / seconds) : 0;
  return `${verb}: ${tracker.published} published, ${tracker.confirmed} confirmed (${rate} msg/s)`;
}

/** The summary line on stderr; `extras` are the command's own counts ("skipped 2"). */
export function reportSummary(
  tracker: ConfirmTracker,
  extras: string[],
  elapsedMs: number,
  context: CommandContext,
): void {
  // A message the broker refused, and those it dropped after it, were sent, not published.
  const published = tracker.published - (tracker.refused ? 1 : 0) - tracker.discarded;
  const rate = elapsedMs > 0 ? Math.round((published * 1000) / elapsedMs) : 0;
  const parts = [
    `published ${published}`,
    `confirmed ${tracker.confirmed}`,
    `returned ${tracker.returned}`,
    `nacked ${tracker.nacked}`,
  ];
  const unconfirmed = published - tracker.confirmed - tracker.returned - tracker.nacked;
  if (tracker.refused) parts.push('refused 1');
  if (tracker.discarded > 0) parts.push(`discarded ${tracker.discarded}`);
  if (unconfirmed > 0) parts.push(`unconfirmed ${unconfirmed}`);
  parts.push(...extras);
  context.reporter.info(`${parts.join(', ')} in ${formatDuration(elapsedMs)} (${rate} msg/s)`);
}

/**
 * Exit 4: what was returned or nacked, by line (or by `unit`: the position or offset a
 * replay names its messages by).
 */
export function notDelivered(tracker: ConfirmTracker, single: boolean, unit = 'line'): NotDeliveredError {
  const failures = tracker.failures.filter((f) => f.status === 'returned' || f.status === 'nacked');
  const failure = failures[0];
  if (single && failure) {
    const why =
      failure.status === 'returned' ? `returned by the broker (${failure.reason})` : 'nacked by the broker';
    return new NotDeliveredError(`message not delivered: ${why}`, {
      hint:
        failure.status === 'returned'
          ? 'no queue is bound for this exchange and routing key (or use --no-mandatory to allow it)'
          : undefined,
    });
  }
  const describe = (status: 'returned' | 'nacked', count: number) => {
    if (count === 0) return undefined;
    const listed = failures.filter((f) => f.status === status);
    const lines = listed.slice(0, 20).map((f) => f.line);
    const reason = status === 'returned' && listed[0]?.reason ? ` (${listed[0].reason})` : '';
    const more = count > lines.length ? `, … ${count - lines.length} more` : '';
    return `${count} ${status}${reason}: ${unit}${count === 1 ? '' : 's'} ${lines.join(', ')}${more}`;
  };
  const details = [describe('returned', tracker.returned), describe('nacked', tracker.nacked)].filter(
    Boolean,
  );
  if (tracker.returnsInDoubt > 0) {
    details.push(
      `${tracker.returnsInDoubt} return${tracker.returnsInDoubt === 1 ? '' : 's'} matched no ${unit} exactly: each ${unit} it may be is counted returned`,
    );
  }
  if (tracker.unmatchedReturns > 0) {
    details.push(
      `${tracker.unmatchedReturns} return${tracker.unmatchedReturns === 1 ? '' : 's'} from the broker matched no ${unit} in flight (a message may be lost)`,
    );
  }
  return new NotDeliveredError(
    `${tracker.undelivered} of ${tracker.published} messages not delivered; ${details.join('; ')}`,
  );
}

/** What a person typing the input is told, once, in place of a status line. */
const TYPING_HINTS: Record<InputMode, string> = {
  raw: 'reading the message from the terminal: Ctrl-D on a line of its own ends it',
  lines: 'reading messages from the terminal, one per line: Ctrl-D ends',
  ndjson: 'reading NDJSON envelopes from the terminal, one per line: Ctrl-D ends',
};

/** Says how typed input ends, when it is typed at a terminal and someone sees stderr. */
export function tellTyping(input: InputMode, context: CommandContext): void {
  if (context.typing && context.io.stderr.isTTY) context.reporter.info(TYPING_HINTS[input]);
}

/**
 * Exit 5 for a message the broker refused, closing the channel: the error names it (its
 * line, when there are several) and says what to do. Other errors pass through.
 */
export function explainRefusal(
  error: unknown,
  tracker: ConfirmTracker,
  single: boolean,
  unit = 'line',
): unknown {
  const refused = tracker.refused;
  if (!(error instanceof BrokerRefusedError) || !refused) return error;
  const text = error.brokerText ?? error.message;
  const which = single ? 'the message' : `${unit} ${refused.line}`;
  const after =
    tracker.discarded > 0
      ? `; the ${tracker.discarded} sent after it went with the channel it closed (discarded)`
      : '';
  return new BrokerRefusedError(`the broker refused ${which}: ${text}${after}`, {
    cause: error,
    brokerText: text,
    hint: refusalHint(text) ?? error.hint,
  });
}

function refusalHint(text: string): string | undefined {
  const max = /larger than configured max size (\d+)/.exec(text)?.[1];
  if (max !== undefined) {
    return `the broker takes messages up to its max_message_size (${max} bytes): send less, or raise max_message_size in rabbitmq.conf (at most 536870912)`;
  }
  return undefined;
}
