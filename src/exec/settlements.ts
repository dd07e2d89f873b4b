import { ConfirmTracker, type PendingPublish, type SettleStatus } from '../broker/confirmTracker.js';
import { encodableHeaders } from '../broker/fieldTableEncode.js';
import type { OutgoingMessage } from '../broker/message.js';
import { verbatimHeaders } from '../broker/rawFieldTable.js';
import { type Consumption, type DeliveredMessage, DIRECT_REPLY_TO, type Session } from '../broker/session.js';
import { PublishFlow } from '../publish/flow.js';
import type { Reporter } from '../ui/reporter.js';
import { Commits } from './commits.js';
import { type Decision, RETRY_HEADER, retriesOf } from './outcome.js';
import { label, type Tally } from './report.js';
import { headersLeftOut, type RetryDelay, retriedText, retryRoute } from './retryQueues.js';

/**
 * How one connection settles its messages by their handlers' outcome. Settlements are
 * committed in transactions, so that a counted retry (a copy published, the original acked)
 * is done whole or not at all; each is counted once its commit is confirmed, and with
 * --reply a message is acked only once the broker confirmed its reply.
 */
export class Settlements {
  private consumption: Consumption | undefined;
  private readonly commits = new Commits(() =>
    this.consumption ? this.consumption.commit() : Promise.resolve(),
  );

  /** Inputs whose events are being published: acked once every one is confirmed. */
  private readonly emitting = new Map<number, Emitting>();

  private constructor(
    private readonly run: SettlementRun,
    private readonly tally: Tally,
    private readonly reporter: Reporter,
    /**
     * Called once per message whose settlement the broker has; `finished`: acked or
     * rejected, not given back for another try (a retry or a requeue).
     */
    private readonly onSettled: (finished: boolean) => void,
    private readonly tracker: ConfirmTracker,
    private readonly flow: PublishFlow | undefined,
  ) {
    tracker.onSettled = (entry, _seq, status) => {
      if (entry.ref !== undefined && this.emitting.has(entry.ref)) this.emitSettled(entry, status);
      else this.replySettled(entry, status);
    };
  }

  /**
   * Opens a connection's settlements: with --reply or --emit, a publisher (confirms,
   * mandatory) for what handlers send, on `session`.
   */
  static async open(
    session: Session,
    run: SettlementRun,
    tally: Tally,
    reporter: Reporter,
    onSettled: (finished: boolean) => void,
  ): Promise<Settlements> {
    const tracker = new ConfirmTracker();
    const flow =
      run.reply || run.emit
        ? new PublishFlow(session, await session.openPublisher({ mandatory: true, tracker }))
        : undefined;
    return new Settlements(run, tally, reporter, onSettled, tracker, flow);
  }

  /** The consumer whose deliveries these are, once it is in place. */
  attach(consumption: Consumption): void {
    this.consumption = consumption;
  }

  /** Messages whose settlement, reply or events the broker has not confirmed yet. */
  get unconfirmed(): number {
    // The tracker counts events; a message's events count once, as the message.
    let events = 0;
    for (const emitting of this.emitting.values()) events += emitting.left;
    return this.commits.unconfirmed + this.tracker.inFlight - events + this.emitting.size;
  }

  /**
   * Settles a message by its handler's outcome; `gone`: its connection is, and so is the
   * delivery. `output` is what the handler sends on success: its stdout (--reply) or its
   * events (--emit), dropped when it failed.
   */
  settle(message: DeliveredMessage, decision: Decision, output: HandlerOutput, gone: boolean): void {
    const tag = message.deliveryTag;
    if (decision.failed) {
      this.tally.failed += 1;
      const outcome = {
        ack: 'acked',
        requeue: 'requeued',
        retry: retriedText(this.run, retriesOf(message.headers)),
        reject: 'rejected',
      }[decision.action];
      this.reporter.warn(`${label(message)}: handler ${decision.reason}: ${outcome}`);
    }
    if (gone) {
      this.tally.unsettled += 1;
      return;
    }
    switch (decision.action) {
      case 'ack':
        if (output.emits !== undefined && output.emits.length > 0) this.emit(message, output.emits);
        else this.succeeded(message, output.stdout);
        break;
      case 'requeue':
      case 'reject':
        this.reject(tag, decision.action === 'requeue');
        break;
      case 'retry':
        this.retry(message);
        break;
    }
  }

  /** A handler that succeeded: its message is acked, after its reply with --reply. */
  private succeeded(message: DeliveredMessage, stdout: Buffer | undefined): void {
    const replyTo = message.properties.replyTo;
    if (this.run.reply && replyTo) {
      this.reply(message, replyTo, stdout);
      return;
    }
    if (this.run.reply)
      this.reporter.warn(`${label(message)} has no reply-to: the handler's output was dropped`);
    this.ack(message.deliveryTag);
  }

  /**
   * Waits until the replies in flight are settled (confirmed, or unconfirmed with a lost
   * connection) and every settlement is committed; what never was counts as unsettled.
   */
  async flush(): Promise<void> {
    if (this.flow) await this.flow.finish().catch(() => {});
    await this.commits.flush();
    this.tally.unsettled += this.commits.unconfirmed;
  }

  /** Settles a message in the next commit, and counts it once the broker has it. */
  private commit(send: () => void, count: () => void, finished = true): void {
    this.commits.add(send, () => {
      count();
      this.onSettled(finished);
    });
  }

  private ack(tag: number, count = this.bump('acked')): void {
    this.commit(() => this.consumption?.ack(tag, false), count);
  }

  private reject(tag: number, requeue: boolean): void {
    this.commit(
      () => this.consumption?.reject(tag, false, requeue),
      this.bump(requeue ? 'requeued' : 'rejected'),
      !requeue,
    );
  }

  private bump(key: keyof Tally): () => void {
    return () => {
      this.tally[key] += 1;
    };
  }

  /** A reply is settled: the request is acked (a reply returned or nacked is warned of). */
  private replySettled(entry: PendingPublish, status: SettleStatus): void {
    const tag = entry.ref;
    if (tag === undefined) return;
    if (status === 'unconfirmed') {
      this.tally.unsettled += 1;
      return;
    }
    if (status !== 'confirmed') {
      this.reporter.warn(`the reply to '${entry.message.routingKey}' was ${status} (the requester is gone?)`);
    }
    this.ack(tag, () => {
      this.tally.acked += 1;
      if (status === 'confirmed') this.tally.replies += 1;
    });
  }

  /**
   * Publishes the handler's output to the message's reply-to; the message is acked once
   * the broker confirms the reply (replySettled). A reply that cannot be sent at all is
   * dropped and the request acked, as when a reply comes back unroutable.
   */
  private reply(message: DeliveredMessage, replyTo: string, stdout: Buffer | undefined): void {
    const tag = message.deliveryTag;
    if (!this.flow) throw new Error('a reply needs a publisher');
    try {
      const sending = this.flow.send(
        {
          exchange: '',
          routingKey: replyTo,
          body: stdout ?? Buffer.alloc(0),
          properties:
            message.properties.correlationId === undefined
              ? {}
              : { correlationId: message.properties.correlationId },
          headers: undefined,
          // RabbitMQ returns a mandatory reply to direct reply-to as unroutable even
          // as it delivers it (3.10): a reply there goes without the flag.
          mandatory: !replyTo.startsWith(`${DIRECT_REPLY_TO}.`),
        },
        tag,
        tag,
      );
      // A lost connection ends the run through session.lost, and flow.finish settles what
      // the tracker held as unconfirmed (the deliveries go back to the queue).
      sending?.catch(() => {});
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.reporter.warn(`${label(message)}: the reply cannot be sent (${why}): dropped, request acked`);
      this.ack(tag);
    }
  }

  /**
   * Another try that is counted: a copy carrying the count goes to the back of the queue
   * (with --retry-delay, to the retry queue of its delay: src/exec/retryQueues.ts) and the
   * original is acked, in one transaction. One whose count cannot be added
   * (headers near 64 KiB) is rejected, as after the last retry, so that it cannot fail for
   * ever uncounted.
   */
  private retry(message: DeliveredMessage): void {
    const tag = message.deliveryTag;
    let copy: OutgoingMessage;
    try {
      copy = retryCopy(
        message,
        retryRoute(this.run, retriesOf(message.headers)),
        headersLeftOut(this.run, message.headers),
      );
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.reporter.warn(`${label(message)}: the retry count cannot be added (${why}): rejected instead`);
      this.reject(tag, false);
      return;
    }
    this.commit(
      () => {
        this.consumption?.publish(copy);
        this.consumption?.ack(tag, false);
      },
      this.bump('retried'),
      false,
    );
  }

  /**
   * Publishes a handler's events; its message is acked once the broker confirmed every one
   * (emitSettled). Each carries the message's delivery tag, so that the confirms find it.
   */
  private emit(message: DeliveredMessage, events: OutgoingMessage[]): void {
    if (!this.flow) throw new Error('events need a publisher');
    const tag = message.deliveryTag;
    this.emitting.set(tag, { message, left: events.length, failure: undefined, lost: false });
    for (const event of events) {
      // Backpressure is left to the prefetch: a handful of messages' events at most wait.
      // A lost connection settles what was sent as unconfirmed (flush), the input unsettled.
      this.flow.send(event, tag, tag)?.catch(() => {});
    }
  }

  /**
   * One of a message's events is settled. Once all are: the message is acked when every
   * one was confirmed; an event returned (no queue took it) or nacked fails the message as
   * its handler's failure would (--on-failure); one the broker may not have (a lost
   * connection) leaves the message unsettled: it comes back, and its events go again.
   */
  private emitSettled(entry: PendingPublish, status: SettleStatus): void {
    const tag = entry.ref as number;
    const emitting = this.emitting.get(tag);
    if (!emitting) return;
    emitting.left -= 1;
    if (status === 'confirmed') this.tally.emitted += 1;
    // Refused or discarded: the broker closed the publishing channel (a line's exchange is
    // missing, say), which ends the connection's run: nothing can be settled any more.
    else if (status === 'unconfirmed' || status === 'refused' || status === 'discarded') emitting.lost = true;
    else {
      const why = entry.returnedWith ? `${status} (${entry.returnedWith})` : status;
      emitting.failure ??= `an event to '${entry.message.exchange}' with key '${entry.message.routingKey}' was ${why}`;
    }
    if (emitting.left > 0) return;
    this.emitting.delete(tag);
    const { message, failure } = emitting;
    if (emitting.lost) this.tally.unsettled += 1;
    else if (failure !== undefined) this.settle(message, this.run.failedEmit(message, failure), {}, false);
    else this.ack(tag);
  }
}

/** What a run's settlements need to know of it. */
export interface SettlementRun {
  queue: string;
  /** --reply: the handler's stdout goes to the message's reply-to. */
  reply: boolean;
  /** --emit: the handler's events are published before its message is acked. */
  emit: boolean;
  /** How a message fails when one of its events could not be delivered (--on-failure). */
  failedEmit(message: DeliveredMessage, why: string): Decision;
  /** --retry-delay: a counted retry waits in a retry queue. */
  retryDelay?: RetryDelay | undefined;
}

/** What a handler that succeeded sends: its stdout as a reply, or its events. */
export interface HandlerOutput {
  stdout?: Buffer | undefined;
  emits?: OutgoingMessage[] | undefined;
}

interface Emitting {
  message: DeliveredMessage;
  /** Events not settled yet. */
  left: number;
  /** Why one was not delivered, the first one's. */
  failure: string | undefined;
  /** One was unconfirmed when the connection was lost. */
  lost: boolean;
}

/**
 * The copy a counted retry sends to `queue` (the work queue's back, or a retry queue), its
 * retry count one higher, without the headers `leftOut` names. Throws when its headers'
 * encoded size, which the count may take over 64 KiB, is too large.
 */
function retryCopy(message: DeliveredMessage, queue: string, leftOut: string[]): OutgoingMessage {
  const retries = { [RETRY_HEADER]: retriesOf(message.headers) + 1 };
  // The broker routes a CC header's keys too (and keeps it on the delivery): the copy is
  // for this queue alone, not another copy for each queue the CC named.
  const removed = Object.fromEntries(['CC', 'BCC', ...leftOut].map((key) => [key, undefined]));
  return {
    exchange: '',
    routingKey: queue,
    body: message.body,
    properties: { ...message.properties },
    // Headers warren could not decode whole go as they came, with the count changed.
    headers: message.rawHeaders
      ? verbatimHeaders(message.rawHeaders, { ...retries, ...removed })
      : encodableHeaders(withoutKeys({ ...message.headers, ...retries }, Object.keys(removed))),
  };
}

function withoutKeys<T extends object>(table: T, keys: string[]): T {
  const kept = { ...table };
  for (const key of keys) delete kept[key as keyof T];
  return kept;
}
