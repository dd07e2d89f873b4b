/**
 * Publisher-confirm accounting for one channel: which sequence numbers are still in
 * flight, which were confirmed, returned (unroutable) or nacked, and which input line
 * each came from. Plain data; the session feeds it the broker's ack, nack and return.
 */

import type { OutgoingMessage } from './message.js';

export interface PendingPublish {
  line: number;
  /** The message itself: matched against returns, sent again on a new connection if this one is lost. */
  message: OutgoingMessage;
  /** Set when the broker returned the message (or may have: see `returnedMessage`): why (`312 NO_ROUTE`). */
  returnedWith?: string | undefined;
  /** The source's handle on the message (replay: the delivery tag to ack once confirmed). */
  ref?: number | undefined;
}

export type SettleStatus = 'confirmed' | 'returned' | 'nacked' | 'unconfirmed' | 'refused' | 'discarded';

export interface Undelivered {
  line: number;
  status: Exclude<SettleStatus, 'confirmed'>;
  reason?: string;
}

/** How many undelivered lines are remembered by number; the counts are always exact. */
const REMEMBERED_FAILURES = 1000;

export class ConfirmTracker {
  published = 0;
  confirmed = 0;
  returned = 0;
  nacked = 0;
  /** Messages sent again on a new connection after the one they went out on was lost. */
  resent = 0;
  /**
   * Returns that matched no message still in flight: never expected of RabbitMQ, but a
   * return that cannot be placed means something was not delivered, so it fails the run.
   */
  unmatchedReturns = 0;
  /** Returns that could only be narrowed down to several messages, each counted returned. */
  returnsInDoubt = 0;
  /** The message the broker refused when it closed the channel (see `abandonInFlight`). */
  refused: PendingPublish | undefined;
  /** Messages sent after the refused one, which the broker drops with the closed channel. */
  discarded = 0;
  inFlightBytes = 0;
  readonly failures: Undelivered[] = [];
  /** Called after every ack or nack, so a waiting publisher can move on. */
  onSettle: () => void = () => {};
  /** Told how each message ended, with its sequence number (replay: receipts and acks). */
  onSettled: ((entry: PendingPublish, seq: number, status: SettleStatus) => void) | undefined;

  // slots[i] holds sequence number base + i; null once settled.
  private slots: (PendingPublish | null)[] = [];
  private head = 0;
  private base = 1;
  private lastReturnedSeq = 0;
  /** The highest sequence number acked or nacked so far: a later return is for a later message. */
  private lastSettledSeq = 0;

  /** Messages known not to have been delivered: returned, nacked, or returned unmatched. */
  get undelivered(): number {
    return this.returned + this.nacked + this.unmatchedReturns;
  }

  get inFlight(): number {
    return this.published - this.confirmed - this.returned - this.nacked;
  }

  /** Records a publish; returns its sequence number (the broker's delivery tag). */
  add(entry: PendingPublish): number {
    this.published += 1;
    return this.push(entry);
  }

  /** Forgets the message just added: the client library refused to send it. */
  dropLast(): void {
    const entry = this.slots.pop();
    if (!entry) return;
    this.published -= 1;
    this.inFlightBytes -= entry.message.body.length;
  }

  /**
   * Takes every message still in flight out of the tracker, uncounted, for sending again
   * on a new channel (whose sequence numbers start at 1 again); see `resend`.
   */
  takeInFlight(): PendingPublish[] {
    const pending: PendingPublish[] = [];
    for (let i = this.head; i < this.slots.length; i += 1) {
      const slot = this.slots[i];
      if (slot) pending.push(slot);
    }
    this.slots = [];
    this.head = 0;
    this.base = 1;
    this.lastReturnedSeq = 0;
    this.lastSettledSeq = 0;
    this.inFlightBytes = 0;
    return pending;
  }

  /** Records a message taken by `takeInFlight` as published again; returns its new sequence number. */
  resend(entry: PendingPublish): number {
    entry.returnedWith = undefined;
    this.resent += 1;
    return this.push(entry);
  }

  /** The input line of the oldest message still in flight. */
  get firstInFlightLine(): number | undefined {
    for (let i = this.head; i < this.slots.length; i += 1) {
      const slot = this.slots[i];
      if (slot) return slot.line;
    }
    return undefined;
  }

  private push(entry: PendingPublish): number {
    this.inFlightBytes += entry.message.body.length;
    this.slots.push(entry);
    return this.base + this.slots.length - 1;
  }

  ack(deliveryTag: number, multiple: boolean): void {
    this.settle(deliveryTag, multiple, false);
  }

  nack(deliveryTag: number, multiple: boolean): void {
    this.settle(deliveryTag, multiple, true);
  }

  /**
   * A basic.return names no sequence number, but its place on the channel does: RabbitMQ
   * returns an unroutable message while it routes it, so after every ack of an earlier
   * message and before any ack of this one or a later one, and returns come in publish
   * order. The message is therefore still in flight, after the last one returned and
   * after the last one settled. Among those it is the first that went out with the same
   * exchange, routing key and body, compared as the bytes on the wire (so that a name
   * the encoder altered still matches); when none does, a single candidate is it. Should
   * the return fit several or none, it is not dropped: every candidate counts as returned
   * (none may be taken for confirmed), or the unmatched return fails the run.
   */
  returnedMessage(exchange: string, routingKey: string, body: Buffer, reason: string): void {
    const from = Math.max(
      this.head,
      this.lastReturnedSeq - this.base + 1,
      this.lastSettledSeq - this.base + 1,
    );
    const candidates: number[] = [];
    for (let i = from; i < this.slots.length; i += 1) {
      const slot = this.slots[i];
      if (!slot || slot.returnedWith !== undefined) continue;
      candidates.push(i);
      const sent = slot.message;
      if (
        sameOnWire(sent.exchange, exchange) &&
        sameOnWire(sent.routingKey, routingKey) &&
        sent.body.equals(body)
      ) {
        this.markReturned(i, reason);
        return;
      }
    }
    const only = candidates.length === 1 ? candidates[0] : undefined;
    if (only !== undefined) {
      this.markReturned(only, reason);
      return;
    }
    if (candidates.length === 0) {
      this.unmatchedReturns += 1;
      return;
    }
    this.returnsInDoubt += 1;
    for (const i of candidates) {
      const slot = this.slots[i] as PendingPublish;
      slot.returnedWith = reason;
    }
  }

  private markReturned(index: number, reason: string): void {
    (this.slots[index] as PendingPublish).returnedWith = reason;
    this.lastReturnedSeq = this.base + index;
  }

  /**
   * Everything still in flight, as failures: used when the channel is gone. When the broker
   * closed it refusing one message (`refused` picks it out), that one is `refused`, and those
   * sent after it are `discarded`: a closed channel takes nothing more (AMQP 0-9-1 drops every
   * frame on it but the close). Those before it are unconfirmed: they may have arrived.
   */
  abandonInFlight(reason: string, refused?: (message: OutgoingMessage) => boolean): number {
    let abandoned = 0;
    for (let i = this.head; i < this.slots.length; i += 1) {
      const slot = this.slots[i];
      if (!slot) continue;
      let status: 'unconfirmed' | 'refused' | 'discarded' = 'unconfirmed';
      if (this.refused) {
        this.discarded += 1;
        status = 'discarded';
      } else if (refused?.(slot.message)) {
        this.refused = slot;
        status = 'refused';
      }
      this.remember({ line: slot.line, status, reason });
      this.onSettled?.(slot, this.base + i, status);
      abandoned += 1;
    }
    this.slots = [];
    this.head = 0;
    this.base = this.published + 1;
    this.inFlightBytes = 0;
    return abandoned;
  }

  private settle(deliveryTag: number, multiple: boolean, negative: boolean): void {
    const index = deliveryTag - this.base;
    if (index < this.slots.length) this.lastSettledSeq = Math.max(this.lastSettledSeq, deliveryTag);
    if (multiple) {
      for (let i = this.head; i <= index && i < this.slots.length; i += 1) this.settleSlot(i, negative);
    } else if (index >= this.head && index < this.slots.length) {
      this.settleSlot(index, negative);
    }
    while (this.head < this.slots.length && this.slots[this.head] === null) this.head += 1;
    // Drop the settled prefix now and then, so the array does not grow without bound.
    if (this.head > 4096 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
    this.onSettle();
  }

  private settleSlot(index: number, negative: boolean): void {
    const slot = this.slots[index];
    if (!slot) return;
    this.slots[index] = null;
    this.inFlightBytes -= slot.message.body.length;
    let status: SettleStatus;
    if (negative) {
      this.nacked += 1;
      status = 'nacked';
      this.remember({ line: slot.line, status });
    } else if (slot.returnedWith !== undefined) {
      this.returned += 1;
      status = 'returned';
      this.remember({ line: slot.line, status, reason: slot.returnedWith });
    } else {
      this.confirmed += 1;
      status = 'confirmed';
    }
    this.onSettled?.(slot, this.base + index, status);
  }

  private remember(failure: Undelivered): void {
    if (this.failures.length < REMEMBERED_FAILURES) this.failures.push(failure);
  }
}

/**
 * Whether a name warren sent is the one the broker gave back: equal as strings, or (a
 * string UTF-8 cannot carry as it is, such as a lone surrogate) equal as encoded bytes.
 */
function sameOnWire(sent: string, echoed: string): boolean {
  return sent === echoed || (echoed.includes('\uFFFD') && Buffer.from(sent).equals(Buffer.from(echoed)));
}
