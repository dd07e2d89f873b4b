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
  const snapshot = await readyCount(session, queue);
  const window = Math.max(1, Math.min(options.prefetch, snapshot));
  const buffer = new ItemBuffer<DeliveredMessage>();
  let delivered = 0;
  let handedOut = 0;
  let held = 0;
  let heldByConsumer = 0;
  let resubscribing: Promise<void> | undefined;
  let consumption: Consumption | undefined;

  const stopConsuming = () => {
    buffer.end();
    // After a re-subscription under way, or it would start a consumer after this one ended.
    void (resubscribing ?? Promise.resolve()).then(() => consumption?.cancel()).catch(() => {});
  };
  // Even a queue that looks empty is consumed from, so that a stream (whose count may read 0)
  // is refused rather than replayed as empty.
  consumption = await session.consume(
    queue,
    { prefetch: window, noAck: false },
    (message) => {
      // Beyond the snapshot: left unacked, so it goes back when the run ends.
      if (delivered >= snapshot) return;
      delivered += 1;
      buffer.push(message);
      if (delivered >= snapshot) stopConsuming();
    },
    () => buffer.fail(consumerCancelled(queue)),
  );
  if (snapshot === 0) stopConsuming();

  async function* batches(): AsyncGenerator<ReplayItem[]> {
    for (;;) {
      const message = await buffer.next(DRAIN_CHECK_MS);
      if (message === undefined) return;
      if (message === IDLE) {
        // Fewer than the snapshot came (another consumer took some, or they expired).
        if ((await readyCount(session, queue)) === 0) stopConsuming();
        continue;
      }
      yield [message, ...buffer.takeAll()].map((m) => {
        handedOut += 1;
        return itemFrom(m, handedOut, m.deliveryTag);
      });
    }
  }

  const keep = () => {
    held += 1;
    heldByConsumer += 1;
    // Held messages use up the consumer's prefetch window; a fresh consumer gets a whole one.
    if (heldByConsumer * 2 >= window && !resubscribing && !buffer.isEnded && consumption) {
      heldByConsumer = 0;
      resubscribing = consumption
        .resubscribe()
        .catch((error: Error) => buffer.fail(error))
        .finally(() => {
          resubscribing = undefined;
        });
    }
  };

  return {
    label: `queue '${queue}'`,
    batches,
    total: () => (snapshot === 0 ? undefined : snapshot),
    settle: (ref: number, outcome: ItemOutcome) => {
      if (outcome === 'confirmed') consumption?.ack(ref, false);
      else keep();
    },
    stop: stopConsuming,
    close: async () => {
      stopConsuming();
      await resubscribing;
      await consumption?.cancel();
    },
    notes: () => (held > 0 ? [`${held} left in ${`'${queue}'`}`] : []),
  };
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
