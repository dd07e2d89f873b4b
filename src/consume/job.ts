import type { ReceivedMessage } from '../broker/message.js';
import type { Session } from '../broker/session.js';
import type { AckMode, Format } from '../choices.js';
import type { WarrenError } from '../errors.js';
import type { Formatter } from '../format/index.js';

/** Where the messages come from: what `consume` and `tail` each tell the engine. */
export interface MessageSource {
  /** How the status line, the summary and a timeout name it: `'orders'`, `'amq.topic:#', 'logs'`. */
  label: string;
  /** Once connected (again): the queue to read, set up first when it is the adapter's own. */
  open(session: Session): Promise<string>;
  /**
   * One message at a time with basic.get rather than a consumer: a peek, and auto-ack with a
   * count (a consumer without acks would be sent the whole queue at once, far more than --count).
   */
  oneAtATime: boolean;
  /** A stream read from an offset: its consumer arguments, and the error for a queue that is not one. */
  stream?: { arguments: Record<string, unknown>; notAStream(cause?: unknown): WarrenError };
  /** Called each time the consumer is in place (after a reconnection too). */
  onReady?(): void;
}

/** One consume run, as the engine (src/consume/engine.ts) takes it. */
export interface ConsumeJob {
  source: MessageSource;
  count: number | undefined;
  /** Idle timeout: stop when nothing arrives for this long. */
  timeoutMs: number | undefined;
  prefetch: number;
  ackMode: AckMode;
  output: { format: Format; template: string | undefined; full: boolean };
  /** Reconnection attempts in a row after a lost connection (reset once a message comes); 0: none. */
  retries: number;
  /** What the warning about a lost connection adds (tail: what may have been missed). */
  lostNote?: string;
  /** The summary's verb: `consumed`, `peeked at`, `saw`. */
  verb: string;
  /** What the summary and a timeout call one record: `message` unless said (`event`). */
  noun?: string;
  /** Writes each record, in place of the one `output` chooses (warren events' event records). */
  formatter?: Formatter;
  /** Warn when the output ended before its reader surely read what was acked (taken for good). */
  warnEarlyEnd: boolean;
  /** Only messages that match are written and counted; the others are dropped (and acked). */
  match?: (message: ReceivedMessage) => boolean;
  /** Every record is also written here as an NDJSON envelope. */
  capture?: NodeJS.WritableStream;
  /** Settles with the error to end with (tail: its trigger failed). */
  failure?: Promise<WarrenError>;
}
