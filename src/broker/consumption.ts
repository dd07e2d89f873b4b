/** A consumer on a channel of its own: deliveries in order, acks, and (optionally) transactions. */
import type * as Amqp from 'amqplib';
import { protocolDefinitions } from './amqplibPatch.js';
import { type DeliveredMessage, receivedFromAmqp } from './delivery.js';
import type { ProtocolDefinitions } from './frameBatch.js';
import type { OutgoingMessage } from './message.js';

export interface Consumption {
  ack(deliveryTag: number, allUpTo: boolean): void;
  reject(deliveryTag: number, allUpTo: boolean, requeue: boolean): void;
  /** Stops deliveries; messages not acked go back to the queue when the session closes. */
  cancel(): Promise<void>;
  /**
   * Cancels and consumes again on the same channel. The prefetch limit counts a consumer's
   * own unacked deliveries, so the new consumer has a whole window, however many the old
   * one's messages are still held; and they are still acked by their delivery tags.
   */
  resubscribe(): Promise<void>;
  /** Closes its channel: whatever it did not ack goes back to the queue. */
  close(): Promise<void>;
  /**
   * Consumed with `transactions` only: publishes in the channel's open transaction. Like
   * its acks and rejects, the broker applies it at the next commit, never before.
   */
  publish(message: OutgoingMessage): void;
  /**
   * Applies the acks, rejects and publishes sent since the last commit, together: a
   * connection lost before the commit reached the broker leaves none of them done.
   */
  commit(): Promise<void>;
}

export interface ConsumeOptions {
  prefetch: number;
  noAck: boolean;
  arguments?: Record<string, unknown>;
  /** Settles in transactions (tx.select): see Consumption.commit. */
  transactions?: boolean;
}

/** What a consumption needs of its session. */
export interface ConsumptionOwner {
  /** False once the session is lost or closing: nothing more is sent then. */
  usable(): boolean;
  /** The error to throw for a step that failed (the session's loss, if it is lost). */
  refusal(error: unknown, operation: string, takingFrom?: string): Error;
  /** The channel is closed on purpose: not the session dying. */
  release(): void;
  log?: ((line: string) => void) | undefined;
}

/** amqplib's request/reply step of a channel, which its API does not expose for tx.* (2.3). */
interface ChannelRpc {
  rpc(method: number, fields: object, expect: number): Promise<unknown>;
}

interface TxMethods {
  TxSelect: number;
  TxSelectOk: number;
  TxCommit: number;
  TxCommitOk: number;
}

type Deliveries = { onMessage: (message: DeliveredMessage) => void; onCancelled: () => void };

/** The consumer itself, which `resubscribe` replaces: subscribing and cancelling. */
function subscriber(
  channel: Amqp.Channel,
  queue: string,
  options: ConsumeOptions,
  deliveries: Deliveries,
  owner: ConsumptionOwner,
): { subscribe(): Promise<void>; cancel(): Promise<void> } {
  let consumerTag: string | undefined;
  return {
    subscribe: async () => {
      try {
        const reply = await channel.consume(
          queue,
          (message) => {
            if (message === null) deliveries.onCancelled();
            else deliveries.onMessage(receivedFromAmqp(message));
          },
          // Every consumer's priority is 0 unless it says otherwise, so saying 0 changes nothing,
          // except on a stream queue: RabbitMQ refuses consumer priorities there, before
          // delivering anything. Without it, taking from a stream would wait for messages that
          // are never to come (it would deliver only new ones, and remove nothing).
          { noAck: options.noAck, arguments: options.arguments ?? { 'x-priority': 0 } },
        );
        consumerTag = reply.consumerTag;
        owner.log?.(
          `consuming from '${queue}' as ${consumerTag} (${options.noAck ? 'broker auto-ack' : `prefetch ${options.prefetch}`})`,
        );
      } catch (error) {
        // A stream's reader gives an offset; any other consumer means to take messages.
        throw owner.refusal(error, `consume from '${queue}'`, options.arguments ? undefined : queue);
      }
    },
    cancel: async () => {
      if (consumerTag === undefined || !owner.usable()) return;
      const tag = consumerTag;
      consumerTag = undefined;
      await channel.cancel(tag).catch(() => {});
    },
  };
}

export async function openConsumption(
  channel: Amqp.Channel,
  queue: string,
  options: ConsumeOptions,
  deliveries: Deliveries,
  owner: ConsumptionOwner,
): Promise<Consumption> {
  const acks = options.transactions ? new AckBatch() : undefined;
  const tracked: Deliveries = acks
    ? {
        ...deliveries,
        onMessage: (message) => {
          acks.delivered(message.deliveryTag);
          deliveries.onMessage(message);
        },
      }
    : deliveries;
  const { subscribe, cancel } = subscriber(channel, queue, options, tracked, owner);
  const send = (tag: number, allUpTo: boolean) => {
    if (usable()) channel.ack({ fields: { deliveryTag: tag } } as Amqp.Message, allUpTo);
  };
  if (!options.noAck) await channel.prefetch(options.prefetch);
  const rpc = (channel as unknown as ChannelRpc).rpc.bind(channel);
  const defs = protocolDefinitions() as ProtocolDefinitions & TxMethods;
  if (options.transactions) await rpc(defs.TxSelect, {}, defs.TxSelectOk);
  await subscribe();
  const usable = owner.usable;
  return {
    ack: (tag, allUpTo) => {
      // In a transaction the broker applies acks at the commit only: they are held until
      // then and sent as few frames as they can be (AckBatch).
      if (acks && !allUpTo) acks.ack(tag);
      else {
        acks?.flush(send);
        send(tag, allUpTo);
      }
    },
    reject: (tag, allUpTo, requeue) => {
      if (allUpTo) acks?.flush(send);
      else acks?.settled(tag);
      if (usable()) channel.nack({ fields: { deliveryTag: tag } } as Amqp.Message, allUpTo, requeue);
    },
    cancel,
    resubscribe: async () => {
      await cancel();
      if (usable()) await subscribe();
    },
    publish: (message) => {
      if (!options.transactions) throw new Error('publish needs a transactional consumption');
      if (!usable()) return;
      channel.publish(message.exchange, message.routingKey, message.body, {
        ...message.properties,
        headers: message.headers,
        mandatory: message.mandatory ?? false,
      });
    },
    commit: async () => {
      if (!options.transactions) throw new Error('commit needs a transactional consumption');
      // Acks and rejects are dropped once the session is lost (another of its channels
      // died, say): a commit now, on a channel still open, would confirm what never went.
      if (!usable()) throw owner.refusal(new Error('the session is lost'), `commit on '${queue}'`);
      acks?.flush(send);
      try {
        await rpc(defs.TxCommit, {}, defs.TxCommitOk);
      } catch (error) {
        throw owner.refusal(error, `commit on '${queue}'`);
      }
    },
    close: async () => {
      owner.release();
      channel.removeAllListeners('close');
      if (usable()) await channel.close().catch(() => {});
    },
  };
}

/** Settled deliveries listed behind an unsettled one before the list is cleaned. */
const COMPACT_AFTER = 1024;

/**
 * The acks of a transactional consumption until its next commit. One per message is a frame
 * per message; an ack with `multiple` settles every delivery up to its tag, so acks that
 * cover all the oldest deliveries not yet settled go as one. The rest go one by one. A
 * delivery rejected in between is settled already, so a `multiple` ack past it is right.
 * (Exported for its tests.)
 */
export class AckBatch {
  /** Delivery tags in the order they came (rising), not yet known to be settled. */
  private outstanding: number[] = [];
  /** Of those, settled one way or another: skipped when met at the front. */
  private readonly done = new Set<number>();
  /** Acked since the last flush, not sent. */
  private readonly held = new Set<number>();

  delivered(tag: number): void {
    this.outstanding.push(tag);
  }

  ack(tag: number): void {
    this.held.add(tag);
  }

  /** Settled otherwise (rejected): a `multiple` ack may reach past it. */
  settled(tag: number): void {
    this.done.add(tag);
  }

  /** Sends the held acks: the front of the deliveries as one, the rest one by one. */
  flush(send: (tag: number, allUpTo: boolean) => void): void {
    if (this.held.size === 0) return;
    let front = 0;
    let last: number | undefined;
    let covered = 0;
    for (; front < this.outstanding.length; front += 1) {
      const tag = this.outstanding[front] as number;
      if (this.held.delete(tag)) {
        last = tag;
        covered += 1;
      } else if (!this.done.delete(tag)) break;
    }
    this.outstanding = this.outstanding.slice(front);
    if (last !== undefined) send(last, covered > 1);
    for (const tag of this.held) {
      send(tag, false);
      this.done.add(tag);
    }
    this.held.clear();
    // A delivery held for long at the front keeps the settled ones behind it listed: drop
    // them now and then, so the list stays about as long as the deliveries unsettled.
    if (this.done.size > COMPACT_AFTER && this.done.size * 2 > this.outstanding.length) {
      this.outstanding = this.outstanding.filter((tag) => !this.done.has(tag));
      this.done.clear();
    }
  }
}
