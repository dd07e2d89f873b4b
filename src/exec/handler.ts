import type { DeliveredMessage } from '../broker/session.js';
import type { WarrenError } from '../errors.js';
import type { HandlerExit } from './outcome.js';

/**
 * What a pipe handler answered for one message (the `outcome` of its answer line); the
 * meanings are those of src/exec/outcome.ts's Action.
 */
export type AnswerOutcome = 'ack' | 'requeue' | 'reject' | 'retry';

/** How the handling of one message ended. */
export type HandlerResult =
  /** A handler process ran for this message alone (--exec): its exit, and its stdout when kept. */
  | { kind: 'exit'; exit: HandlerExit; stdout: Buffer | undefined }
  /**
   * A long-running handler answered for it (--pipe): the outcome, and the events it emits
   * (envelope objects, as NDJSON envelope lines hold them; checked by src/exec/emit.ts).
   */
  | { kind: 'answer'; outcome: AnswerOutcome; emit: unknown[]; reason?: string };

/** The handling of one message, under way. */
export interface HandlerRun {
  /** Resolves once the handling ended and any output was passed on. Never rejects. */
  readonly done: Promise<HandlerResult>;
  /**
   * Ends it early (the shutdown's grace is over, or the connection that delivered the
   * message is gone): `done` resolves with `{ kind: 'exit', exit: { kind: 'interrupted' } }`
   * unless it already finished.
   */
  interrupt(): void;
  /** Ends it now (warren is quitting): nothing more is written for it. */
  kill(): void;
}

/** What a handler is given besides the message: its tries so far and the environment to run in. */
export interface HandlerInput {
  message: DeliveredMessage;
  /** How many times it was tried before (outcome.ts retriesOf). */
  retries: number;
  /** Prefix for the handler's output lines on warren's stderr (`[m-42] ` with --concurrency). */
  prefix: string;
}

/**
 * A kind of handler: a process per message (`--exec`, src/exec/execHandler.ts) or
 * long-running processes fed one message after another (`--pipe`). A run opens it before
 * the first delivery and closes it after the last message was settled.
 */
export interface MessageHandler {
  /**
   * Starts whatever must run before the first message (--pipe: its processes). `failed`
   * ends the run, when the handler cannot go on (a --pipe handler that keeps dying unanswered).
   */
  open(failed: (error: WarrenError) => void): Promise<void>;
  /** Starts handling one message. */
  handle(input: HandlerInput): HandlerRun;
  /**
   * The message likely to be handled next (undefined: none, the run stops): a handler may
   * start ahead whatever does not act on it yet (--exec: the next shell, held at a gate).
   */
  ahead?(next: HandlerInput | undefined): void;
  /**
   * Ends the handler once no message is left with it (--pipe: stdin closed, processes
   * waited for, killed after `graceMs`).
   */
  close(graceMs: number): Promise<void>;
  /** Ends it now (a second Ctrl-C). */
  kill(): void;
}
