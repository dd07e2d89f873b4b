import type { SettleStatus } from '../broker/confirmTracker.js';
import type { ReceivedMessage } from '../broker/message.js';
import type { QueueCounts, Session } from '../broker/session.js';
import { notFoundError } from '../brokerErrors.js';

/** One message a replay may publish, with where it came from. */
export interface ReplayItem {
  /** The input line (file), the stream offset (stream), or the position in the run (queue). */
  line: number;
  /** As recorded: what --match tests and --dry-run shows. */
  message: ReceivedMessage;
  /** Its headers already encoded for the client library, when the source had to check them. */
  encodedHeaders?: Record<string, unknown> | undefined;
  /** When it was first recorded (ms since the epoch), for --timing original. */
  recordedAt: number | undefined;
  /** Where it came from, so where it goes back to; undefined when nothing says (no x-death). */
  origin: { exchange: string; routingKey: string } | undefined;
  /** The source's handle on it (a delivery tag), given back to `settle`. */
  ref: number | undefined;
  /** How far into the source it is, in the units of `total()` (bytes, messages, offsets). */
  position: number;
}

/**
 * How an item ended: its publish settled so, or it was not published at all (`kept`: it
 * did not match, or had nowhere to go).
 */
export type ItemOutcome = SettleStatus | 'kept';

export interface ReplaySource {
  /** How the summary names it: `'capture.ndjson'`, `queue 'orders.dlq'`. */
  readonly label: string;
  /** The items in batches (what has arrived or was read), so the loop awaits per batch. */
  batches(): AsyncIterable<ReplayItem[]>;
  /** The size of the source, in the units of an item's `position`, when it is known. */
  total(): number | undefined;
  /** Told how each item with a `ref` ended: a queue acks only what was confirmed. */
  settle(ref: number, outcome: ItemOutcome): void;
  /** Stop handing out items (Ctrl-C, --count): what is not handed out stays where it is. */
  stop(): void;
  /** Releases what the source holds; acks already sent reach the broker before this ends. */
  close(): Promise<void>;
  /** What the summary adds: "3 left in the queue", … */
  notes(): string[];
}

/** The queue's counts; a queue that does not exist is a refusal (exit 5), named. */
export async function existingQueue(session: Session, queue: string): Promise<QueueCounts> {
  const info = await session.queueInfo(queue);
  if (!info) throw notFoundError('queue', queue);
  return info;
}
