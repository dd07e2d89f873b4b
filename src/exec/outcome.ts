import { type FieldTable, type TypedValue, typedNumber } from '../broker/fieldTable.js';

/**
 * What becomes of a handled message. `ack`: done. `requeue`: back to the queue for another
 * try (the broker's requeue; redelivered is set). `retry`: another try that is counted, by
 * re-publishing a copy carrying the count and acking the original. `reject`: to the
 * queue's dead-letter exchange (or dropped, when it has none).
 */
export type Action = 'ack' | 'requeue' | 'retry' | 'reject';

/** `--on-failure`: dead-letter is what reject means to the broker; both are accepted. */
export type FailurePolicy = 'requeue' | 'reject';

/** Handler exit codes with a meaning of their own, whatever --on-failure says. */
export const HANDLER_EXIT = {
  /** EX_DATAERR: the message is bad; retrying cannot help. */
  reject: 65,
  /** EX_TEMPFAIL: try again later. */
  requeue: 75,
} as const;

/** The header warren counts its own retries in, on the copies it re-publishes. */
export const RETRY_HEADER = 'x-warren-retries';

/** How a handler run ended. */
export type HandlerExit =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: string }
  | { kind: 'timedOut' }
  /** `unfit`: the message itself cannot be handed to a handler, on this try or any other. */
  | { kind: 'notStarted'; error: string; unfit?: boolean }
  /** Stopped by warren's shutdown after the grace period: not the message's fault. */
  | { kind: 'interrupted' }
  /** It wrote more on stdout than a reply or its events may hold (--reply, --emit): killed. */
  | { kind: 'tooMuchOutput'; limitBytes: number }
  /** It succeeded, but its events cannot be read, or one was not delivered (--emit). */
  | { kind: 'emitFailed'; why: string }
  /** A long-running handler (--pipe) ended while it held this message alone: `how` it ended. */
  | { kind: 'diedOn'; how: string };

/** What decide() needs of the run and the message: its failure policy and its tries so far. */
export interface FailureOptions {
  onFailure: FailurePolicy;
  maxRetries: number | undefined;
  retries: number;
  /** --retry-delay: another try waits in a retry queue, so it is always counted. */
  delayed?: boolean;
}

export interface Decision {
  action: Action;
  /** Why, for the log: `exit 3`, `timed out`, `gave up after 5 retries`. */
  reason: string;
  failed: boolean;
}

/** A count header: a number (plain or typed) or a string of digits; 0 when absent or odd. */
function integer(value: TypedValue | undefined): number {
  if (typeof value === 'string') return /^\d+$/.test(value) ? Number(value) : 0;
  return typedNumber(value) ?? 0;
}

/**
 * How many times a message was tried before: the broker's `x-delivery-count` (quorum
 * queues count returned deliveries) or warren's own header on a re-published copy.
 */
export function retriesOf(headers: FieldTable | undefined): number {
  return Math.max(integer(headers?.['x-delivery-count']), integer(headers?.[RETRY_HEADER]));
}

function describe(exit: HandlerExit): string {
  switch (exit.kind) {
    case 'exited':
      return `exit ${exit.code}`;
    case 'killed':
      return `killed by ${exit.signal}`;
    case 'timedOut':
      return 'timed out';
    case 'notStarted':
      return `did not start: ${exit.error}`;
    case 'interrupted':
      return 'stopped by the shutdown';
    case 'tooMuchOutput':
      return `wrote over ${exit.limitBytes / 1024 / 1024} MiB on stdout, more than a message may hold: killed`;
    case 'emitFailed':
      return `succeeded, but ${exit.why}`;
    case 'diedOn':
      return `${exit.how} while it held this message alone`;
  }
}

/**
 * The outcome of one handler run. Exit 0 acks, 65 rejects, 75 asks for another try; a
 * message that cannot be handed to a handler at all is rejected too; any other failure
 * follows --on-failure. With --max-retries, another try is counted, and a
 * message that has had its retries is rejected instead, so a poison message cannot loop.
 * With --retry-delay (`delayed`) every other try is counted and waits, even without
 * --max-retries: the broker's requeue would bring the message back at once.
 */
export function decide(exit: HandlerExit, options: FailureOptions): Decision {
  const why = describe(exit);
  if (exit.kind === 'exited' && exit.code === 0) return { action: 'ack', reason: why, failed: false };
  // Not the handler's failure: the message goes back as it was, uncounted.
  if (exit.kind === 'interrupted') return { action: 'requeue', reason: why, failed: false };
  // Bad data as a handler's exit 65 is: another try would fail the same way, for ever.
  if (exit.kind === 'notStarted' && exit.unfit) return { action: 'reject', reason: why, failed: true };
  const wantsAgain =
    exit.kind === 'exited' && exit.code === HANDLER_EXIT.requeue
      ? true
      : exit.kind === 'exited' && exit.code === HANDLER_EXIT.reject
        ? false
        : options.onFailure === 'requeue';
  if (!wantsAgain) return { action: 'reject', reason: why, failed: true };
  return tryAgain(why, options);
}

/**
 * Another try for a failed message: counted with --max-retries (refused once they are used
 * up), and always counted with --retry-delay, since the broker's requeue would bring the
 * message back at once.
 */
function tryAgain(why: string, options: FailureOptions): Decision {
  if (options.maxRetries === undefined) {
    return { action: options.delayed ? 'retry' : 'requeue', reason: why, failed: true };
  }
  if (options.retries >= options.maxRetries) {
    return {
      action: 'reject',
      reason: `${why}; gave up after ${options.retries} ${options.retries === 1 ? 'retry' : 'retries'}`,
      failed: true,
    };
  }
  return { action: 'retry', reason: why, failed: true };
}

/**
 * The outcome a long-running handler answered (--pipe). `ack`, `requeue` and `reject` are
 * done as asked; `retry` is another try, counted with --max-retries as a failed exit's is.
 */
export function decideAnswer(outcome: Action, reason: string | undefined, options: FailureOptions): Decision {
  const why = `answered ${outcome}${reason ? ` (${reason})` : ''}`;
  switch (outcome) {
    case 'ack':
      return { action: 'ack', reason: why, failed: false };
    case 'requeue':
    case 'reject':
      return { action: outcome, reason: why, failed: true };
    case 'retry':
      return tryAgain(why, options);
  }
}
