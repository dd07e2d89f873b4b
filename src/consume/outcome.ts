import { formatDuration } from '../duration.js';
import { ExitCode, InterruptedError, TimeoutError, WarrenError } from '../errors.js';
import type { StopSignal } from '../ui/signals.js';

/** Why consuming stopped: the first reason wins (see Stopper). */
export type StopReason =
  | { kind: 'count' }
  | { kind: 'timeout' }
  | { kind: 'drained' }
  | { kind: 'signal'; signal: StopSignal }
  | { kind: 'output'; error: Error }
  | { kind: 'failed'; error: WarrenError };

/** The reasons that end a run as it was asked to end. */
export function endedAsAsked(stop: StopReason): boolean {
  return stop.kind === 'count' || stop.kind === 'timeout' || stop.kind === 'drained';
}

/** A reader that went away (`| head`). */
export function readerGone(stop: StopReason): boolean {
  return stop.kind === 'output' && (stop.error as NodeJS.ErrnoException).code === 'EPIPE';
}

/** `message`, `messages`: the noun for `count` of them. */
export function plural(noun: string, count: number): string {
  return count === 1 ? noun : `${noun}s`;
}

/** How the run ends, by why it stopped: undefined is success. */
export function outcome(
  stop: StopReason,
  taken: number,
  asked: { count: number | undefined; timeoutMs: number | undefined; label: string; noun?: string },
): WarrenError | undefined {
  switch (stop.kind) {
    case 'count':
    case 'drained':
      return undefined;
    case 'timeout':
      if (asked.count !== undefined && taken < asked.count) {
        return new TimeoutError(
          `timed out: got ${taken} of ${asked.count} ${asked.noun ?? 'message'}s from ${asked.label}, then nothing for ${formatDuration(asked.timeoutMs ?? 0)}`,
        );
      }
      return undefined;
    case 'signal':
      return new InterruptedError(stop.signal);
    case 'output':
      // A reader that went away is a normal end; anything else is a failure.
      if (readerGone(stop)) return undefined;
      return new WarrenError(`cannot write to stdout: ${stop.error.message}`, ExitCode.failure, {
        cause: stop.error,
      });
    case 'failed':
      return stop.error;
  }
}

/**
 * An end before the reader had read every record warren acked, or could have: with a
 * probe, the reader left (what it took last it may not have used); without one, the pipe
 * took records that a reader that stopped too may never have read.
 */
export interface EarlyEnd {
  probed: boolean;
  /** Records received but not written (with a probe: not taken by the reader): not acked. */
  unread: number;
}

export function earlyEndNote(early: EarlyEnd, taken: number): string {
  const records = `${taken} ${taken === 1 ? 'record' : 'records'}`;
  const back = `${early.unread} went back to the queue`;
  const exact = '--count N takes exactly N';
  return early.probed
    ? `the reader left: it took ${records} out of the pipe, and those were acked (a reader that stops early, as head does, may not have used the last it took); ${back}. ${exact}`
    : `the output ended early: ${records} were acked once the pipe took them, and may not all have been read; ${back}. ${exact}`;
}
