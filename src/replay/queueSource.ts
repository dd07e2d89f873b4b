import type { Consumption, DeliveredMessage, Session } from '../broker/session.js';
import { consumerCancelled } from '../consume/cancelled.js';
import { deadLetterOrigin } from './deadLetter.js';
import { IDLE, ItemBuffer } from './itemBuffer.js';
import { existingQueue, type ItemOutcome, type ReplayItem, type ReplaySource } from './source.js';

/** How long nothing may arrive before the queue is asked whether it is drained. */
const DRAIN_CHECK_MS = 1000;

function itemFrom(message: DeliveredMessage, position: number, ref: number | undefined): ReplayItem {
  return {
    line: position,
    message,
    recordedAt: undefined,
    origin: deadLetterOrigin(message.headers),
    ref,
    position,
  };
}

async function readyCount(session: Session, queue: string): Promise<number> {
  return (await existingQueue(session, queue)).messageCount;
}

/**
 * Re-drives a dead-letter queue. The messages in it when the replay starts are taken (those
 * dead-lettered again meanwhile wait for the next run, so a re-drive cannot go round in a
 * loop), and each is acked only once its re-publish is confirmed: a crash at any point
 * leaves it in the queue, so the worst case is a duplicate, never a loss. A message that
 * is not re-published (no x-death, no match, returned, nacked) is held unacked and goes
 * back to its place in the queue at the end.
 */
export async function openQueueSource(
  session: Session,
  queue: string,
  options: { prefetch: number },
): Promise<ReplaySource> {
  const source = new QueueSource(session, queue, await readyCount(session, queue), options.prefetch);
  await source.subscribe();
  return source;
}

/** openQueueSource's source: takes `snapshot` messages from the queue, acking each once confirmed. */
class QueueSource implements ReplaySource {
  readonly label: string;
  private readonly window: number;
  private readonly buffer = new ItemBuffer<DeliveredMessage>();
  private delivered = 0;
  private handedOut = 0;
  private held = 0;
  private heldByConsumer = 0;
  private resubscribing: Promise<void> | undefined;
  private consumption: Consumption | undefined;

  constructor(
    private readonly session: Session,
    private readonly queue: string,
    private readonly snapshot: number,
    prefetch: number,
  ) {
    this.label = `queue '${queue}'`;
    this.window = Math.max(1, Math.min(prefetch, snapshot));
  }

  async subscribe(): Promise<void> {
    const { queue, buffer } = this;
    // Even a queue that looks empty is consumed from, so that a stream (whose count may read 0)
    // is refused rather than replayed as empty.
    this.consumption = await this.session.consume(
      queue,
      { prefetch: this.window, noAck: false },
      (message) => this.deliver(message),
      () => buffer.fail(consumerCancelled(queue)),
    );
    if (this.snapshot === 0) this.stop();
  }

  private deliver(message: DeliveredMessage): void {
    // Beyond the snapshot: left unacked, so it goes back when the run ends.
    if (this.delivered >= this.snapshot) return;
    this.delivered += 1;
    this.buffer.push(message);
    if (this.delivered >= this.snapshot) this.stop();
  }

  async *batches(): AsyncGenerator<ReplayItem[]> {
    for (;;) {
      const message = await this.buffer.next(DRAIN_CHECK_MS);
      if (message === undefined) return;
      if (message === IDLE) {
        // Fewer than the snapshot came (another consumer took some, or they expired).
        if ((await readyCount(this.session, this.queue)) === 0) this.stop();
        continue;
      }
      yield [message, ...this.buffer.takeAll()].map((m) => {
        this.handedOut += 1;
        return itemFrom(m, this.handedOut, m.deliveryTag);
      });
    }
  }

  total(): number | undefined {
    return this.snapshot === 0 ? undefined : this.snapshot;
  }

  settle(ref: number, outcome: ItemOutcome): void {
    if (outcome === 'confirmed') this.consumption?.ack(ref, false);
    else this.keep();
  }

  private keep(): void {
    this.held += 1;
    this.heldByConsumer += 1;
    // Held messages use up the consumer's prefetch window; a fresh consumer gets a whole one.
    if (
      this.heldByConsumer * 2 >= this.window &&
      !this.resubscribing &&
      !this.buffer.isEnded &&
      this.consumption
    ) {
      this.heldByConsumer = 0;
      this.resubscribing = this.consumption
        .resubscribe()
        .catch((error: Error) => this.buffer.fail(error))
        .finally(() => {
          this.resubscribing = undefined;
        });
    }
  }

  stop(): void {
    this.buffer.end();
    // After a re-subscription under way, or it would start a consumer after this one ended.
    void (this.resubscribing ?? Promise.resolve()).then(() => this.consumption?.cancel()).catch(() => {});
  }

  async close(): Promise<void> {
    this.stop();
    await this.resubscribing;
    await this.consumption?.cancel();
  }

  notes(): string[] {
    return this.held > 0 ? [`${this.held} left in ${`'${this.queue}'`}`] : [];
  }
}

/** --dry-run: looks at the same messages with basic.get and takes none of them. */
export async function openQueuePeek(session: Session, queue: string): Promise<ReplaySource> {
  const snapshot = await readyCount(session, queue);
  const browser = await session.openBrowser(queue, { noAck: false });
  // As for a replay: a stream's count may read 0, and one get is enough for it to refuse.
  if (snapshot === 0) await browser.next();
  let seen = 0;
  let stopped = false;
  let kept = 0;
  async function* batches(): AsyncGenerator<ReplayItem[]> {
    while (!stopped && seen < snapshot) {
      const message = await browser.next();
      if (!message) return;
      seen += 1;
      yield [itemFrom(message, seen, message.deliveryTag)];
    }
  }
  return {
    label: `queue '${queue}'`,
    batches,
    total: () => (snapshot === 0 ? undefined : snapshot),
    settle: (_ref, outcome) => {
      if (outcome === 'kept') kept += 1;
    },
    stop: () => {
      stopped = true;
    },
    close: () => browser.release(),
    notes: () => (kept > 0 ? [`${kept} would stay in '${queue}'`] : []),
  };
}
