import { withoutEntry } from '../broker/rawFieldTable.js';
import type { Consumption, DeliveredMessage, Session } from '../broker/session.js';
import { offsetOf, refusesStreamOffset, STREAM_OFFSET_HEADER } from '../broker/streamQueue.js';
import { notAStreamQueue } from '../brokerErrors.js';
import { consumerCancelled } from '../consume/cancelled.js';
import type { BrokerRefusedError } from '../errors.js';
import { IDLE, ItemBuffer } from './itemBuffer.js';
import { existingQueue, type ReplayItem, type ReplaySource } from './source.js';

/** Where a stream replay starts and stops. */
export interface StreamRange {
  /** The x-stream-offset to attach at: first, last, next, an int64, a timestamp. */
  start: unknown;
  startText: string;
  /** Stop before this offset, or before the first chunk at or after this time. */
  until: { offset: number } | { time: unknown } | undefined;
  untilText: string | undefined;
}

function notAStream(queue: string, cause?: unknown): BrokerRefusedError {
  return notAStreamQueue(
    queue,
    'use --from-stream with stream queues only; re-drive other queues with --from-queue',
    cause,
  );
}

/** How long a consumer may take to get its first message before the range is taken as empty. */
const ATTACH_WAIT_MS = 1000;

/**
 * Attaches a short-lived consumer at `offset` and reports the offsets it sees: the first
 * one (`first`), or the greatest once nothing more comes for a moment (`last`).
 */
async function probe(
  session: Session,
  queue: string,
  offset: unknown,
  mode: 'first' | 'greatest',
  prefetch: number,
): Promise<number | undefined> {
  let consumption: Consumption | undefined;
  let greatest: number | undefined;
  let settle!: (result: number | undefined | Error) => void;
  const result = new Promise<number | undefined | Error>((resolve) => {
    settle = resolve;
  });
  let idle: NodeJS.Timeout = setTimeout(() => settle(greatest), 1000);
  const cap = setTimeout(() => settle(greatest), 3000);
  try {
    consumption = await session.consume(
      queue,
      { prefetch, noAck: false, arguments: { [STREAM_OFFSET_HEADER]: offset } },
      (message) => {
        const at = offsetOf(message.headers);
        // Not acked: it goes back to its queue when this probe's channel closes.
        if (at === undefined) return settle(notAStream(queue));
        consumption?.ack(message.deliveryTag, false);
        if (mode === 'first') return settle(at);
        greatest = Math.max(greatest ?? at, at);
        clearTimeout(idle);
        idle = setTimeout(() => settle(greatest), 250);
      },
      () => settle(consumerCancelled(queue)),
    );
    const outcome = await result;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  } catch (error) {
    // RabbitMQ refuses the offset argument on other queue types.
    if (refusesStreamOffset(error)) throw notAStream(queue, error);
    throw error;
  } finally {
    clearTimeout(idle);
    clearTimeout(cap);
    await consumption?.close();
  }
}

/**
 * Re-publishes a range of a stream: from --offset up to the end of the stream as it was
 * when the replay started (or before --until). The stream is read in place; its acks are
 * only credit. The end is found first, so a replay into an exchange that feeds the same
 * stream cannot chase its own tail.
 */
export async function openStreamSource(
  session: Session,
  queue: string,
  range: StreamRange,
  options: { prefetch: number },
): Promise<ReplaySource> {
  await existingQueue(session, queue);
  const source = new StreamSource(session, queue, range, await streamBounds(session, queue, range));
  await source.attach(options.prefetch);
  return source;
}

/**
 * The last offset a replay of `range` takes (infinite when live, from `next`), and whether the
 * stream is empty, found by probing before the replay attaches.
 */
async function streamBounds(
  session: Session,
  queue: string,
  range: StreamRange,
): Promise<{ last: number; empty: boolean }> {
  // One message at most is held (then given back) should this not be a stream.
  const lastChunk = await probe(session, queue, 'last', 'first', 1);
  const live = range.start === 'next';
  let last = Number.POSITIVE_INFINITY;
  let empty = false;
  if (!live) {
    if (lastChunk === undefined) empty = true;
    else last = (await probe(session, queue, 'last', 'greatest', 1000)) ?? lastChunk;
  }
  if (range.until && 'offset' in range.until) last = Math.min(last, range.until.offset - 1);
  if (range.until && 'time' in range.until) {
    const boundary = await probe(session, queue, range.until.time, 'first', 1);
    if (boundary !== undefined) last = Math.min(last, boundary - 1);
  }
  return { last, empty };
}

/** The offset a range starts at when it names one (an int64), else undefined. */
function startOffset(range: StreamRange): number | undefined {
  return typeof range.start === 'object' &&
    range.start !== null &&
    (range.start as { '!'?: string })['!'] === 'int64'
    ? Number((range.start as { value: unknown }).value)
    : undefined;
}

/** openStreamSource's source: one consumer on the stream, from the range's start to `last`. */
class StreamSource implements ReplaySource {
  readonly label: string;
  private readonly buffer = new ItemBuffer<DeliveredMessage>();
  private readonly from: number | undefined;
  private readonly last: number;
  private readonly empty: boolean;
  private consumption: Consumption | undefined;
  private seen = 0;
  /** Whether the consumer got anything at all, even offsets passed over. */
  private attached = false;
  /** Whether a delivery has shown this is a stream (it carried an offset). */
  private checked = false;
  /** Progress: from the first offset handed out to the last one wanted. */
  private firstAt: number | undefined;

  constructor(
    private readonly session: Session,
    private readonly queue: string,
    private readonly range: StreamRange,
    bounds: { last: number; empty: boolean },
  ) {
    const until = range.untilText === undefined ? '' : ` until ${range.untilText}`;
    this.label = `stream '${queue}' (from ${range.startText}${until})`;
    this.from = startOffset(range);
    this.last = bounds.last;
    this.empty = bounds.empty;
  }

  async attach(prefetch: number): Promise<void> {
    const { buffer, queue } = this;
    if (this.empty || this.last < (this.from ?? 0)) {
      buffer.end();
      return;
    }
    this.consumption = await this.session.consume(
      queue,
      { prefetch, noAck: false, arguments: { [STREAM_OFFSET_HEADER]: this.range.start } },
      (message) => this.deliver(message),
      () => buffer.fail(consumerCancelled(queue)),
    );
  }

  private deliver(message: DeliveredMessage): void {
    const { buffer, from, last } = this;
    this.attached = true;
    if (buffer.isEnded) return;
    const at = offsetOf(message.headers);
    if (at === undefined && !this.checked) {
      buffer.fail(notAStream(this.queue));
      return;
    }
    this.checked = true;
    // A consumer attaches at a chunk: offsets before the one asked for are passed over.
    if (at === undefined || (from !== undefined && at < from) || at > last) {
      this.consumption?.ack(message.deliveryTag, false);
      if (at !== undefined && at > last) this.stop();
      return;
    }
    buffer.push(message);
    if (at >= last) this.stop();
  }

  private itemOf(message: DeliveredMessage): ReplayItem {
    this.seen += 1;
    const { seen } = this;
    const at = offsetOf(message.headers);
    this.firstAt ??= at;
    const { firstAt } = this;
    const headers = { ...message.headers };
    // The stream stamps its offset on each delivery; it was not part of what was published.
    delete headers[STREAM_OFFSET_HEADER];
    const rawHeaders = message.rawHeaders && withoutEntry(message.rawHeaders, STREAM_OFFSET_HEADER);
    return {
      line: at ?? seen,
      message: {
        ...message,
        headers: Object.keys(headers).length > 0 ? headers : undefined,
        ...(rawHeaders ? { rawHeaders } : {}),
      },
      recordedAt: undefined,
      origin: { exchange: message.exchange, routingKey: message.routingKey },
      ref: message.deliveryTag,
      position: at === undefined || firstAt === undefined ? seen : at - firstAt + 1,
    };
  }

  async *batches(): AsyncGenerator<ReplayItem[]> {
    for (;;) {
      // A start beyond the range (a time still to come, an offset past --until) attaches the
      // consumer after the end: nothing ever comes, and the range is empty. As for the
      // probes, a stream that sends nothing within a second has nothing there.
      const wait = Number.isFinite(this.last) && !this.attached ? ATTACH_WAIT_MS : undefined;
      const message = await this.buffer.next(wait);
      if (message === IDLE) {
        if (this.attached) continue;
        this.stop();
        return;
      }
      if (message === undefined) return;
      yield [message, ...this.buffer.takeAll()].map((m) => this.itemOf(m));
    }
  }

  total(): number | undefined {
    return this.firstAt === undefined || !Number.isFinite(this.last)
      ? undefined
      : this.last - this.firstAt + 1;
  }

  settle(ref: number): void {
    this.consumption?.ack(ref, false);
  }

  stop(): void {
    this.buffer.end();
    this.consumption?.cancel().catch(() => {});
  }

  async close(): Promise<void> {
    this.stop();
  }

  notes(): string[] {
    return this.empty ? [`stream '${this.queue}' is empty`] : [];
  }
}
