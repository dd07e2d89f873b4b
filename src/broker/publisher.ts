/** The publisher: messages on a confirm channel, written in batches, settled by the broker. */
import type * as Amqp from 'amqplib';
import { protocolDefinitions } from './amqplibPatch.js';
import type { ConfirmTracker, PendingPublish } from './confirmTracker.js';
import { FrameBatch } from './frameBatch.js';
import type { MessageProperties, OutgoingMessage } from './message.js';

/** What a publisher needs of its session: to know when the connection is gone. */
export interface LossWatch {
  readonly lost: unknown;
  onLost(listener: () => void): void;
}

/** Publishes on a confirm channel and feeds the confirm tracker. */
export class Publisher {
  private drainWaiters: (() => void)[] = [];
  private blocked = false;
  private closed = false;
  private readonly internals: ChannelInternals | undefined;
  private readonly batch: FrameBatch | undefined;

  constructor(
    private readonly channel: Amqp.ConfirmChannel,
    private readonly mandatory: boolean,
    readonly tracker: ConfirmTracker,
    private readonly session: LossWatch,
  ) {
    this.internals = internalsOf(channel);
    this.batch = this.internals
      ? batchFor(
          this.internals,
          () => this.closed,
          () => {
            this.blocked = true;
          },
        )
      : undefined;
    channel.on('close', () => {
      this.closed = true;
    });
    channel.on('ack', (f: { deliveryTag: number; multiple: boolean }) =>
      tracker.ack(f.deliveryTag, f.multiple),
    );
    channel.on('nack', (f: { deliveryTag: number; multiple: boolean }) =>
      tracker.nack(f.deliveryTag, f.multiple),
    );
    channel.on('return', (message: Amqp.Message) => {
      const fields = message.fields as Amqp.MessageFields & { replyCode?: number; replyText?: string };
      tracker.returnedMessage(
        fields.exchange,
        fields.routingKey,
        message.content,
        `${fields.replyCode ?? 312} ${fields.replyText ?? 'NO_ROUTE'}`,
      );
    });
    channel.on('drain', () => {
      this.blocked = false;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    });
    session.onLost(() => {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    });
  }

  /** False while the channel's write buffer is full: wait for `writable()` before more. */
  get canWrite(): boolean {
    return !this.blocked;
  }

  writable(): Promise<void> {
    if (!this.blocked || this.session.lost) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Publishes a message and tracks it until the broker settles it. */
  publish(message: OutgoingMessage, line: number, ref?: number): void {
    const pending: PendingPublish = { line, message, returnedWith: undefined, ref };
    this.tracker.add(pending);
    try {
      this.write(message);
    } catch (error) {
      // Refused by the client library before anything was sent (it cannot encode it).
      this.tracker.dropLast();
      throw error;
    }
  }

  /** Sends a message again that a lost connection left unconfirmed (see ConfirmTracker.takeInFlight). */
  resend(entry: PendingPublish): void {
    this.tracker.resend(entry);
    this.write(entry.message);
  }

  /**
   * Encodes and writes the message; once the channel is closed, nothing: the message stays
   * in flight, unconfirmed, to be sent again on a new connection or reported.
   */
  private write(message: OutgoingMessage): void {
    if (this.closed) return;
    const p = message.properties;
    // One object of one shape for every message: amqplib's `publish` would build it from
    // options of many shapes (Args.publish), which costs more than all of warren's parsing.
    const frame: PublishFrame = {
      exchange: message.exchange,
      routingKey: message.routingKey,
      mandatory: message.mandatory ?? this.mandatory,
      immediate: false,
      ticket: undefined,
      contentType: p.contentType,
      contentEncoding: p.contentEncoding,
      headers: message.headers ?? NO_HEADERS,
      deliveryMode: p.deliveryMode,
      priority: p.priority,
      correlationId: p.correlationId,
      replyTo: p.replyTo,
      expiration: p.expiration,
      messageId: p.messageId,
      timestamp: p.timestamp,
      type: p.type,
      userId: p.userId,
      appId: p.appId,
      // amqplib never sends cluster-id (deprecated in AMQP 0-9-1); neither does warren.
      clusterId: undefined,
    };
    const internals = this.internals;
    if (!internals) {
      if (
        !this.channel.publish(frame.exchange, frame.routingKey, message.body, frame as Amqp.Options.Publish)
      )
        this.blocked = true;
      return;
    }
    if (!this.batch?.add(frame, message.body) && !internals.sendMessage(frame, frame, message.body))
      this.blocked = true;
    // The confirm slot amqplib's ConfirmChannel.publish would hold for the message.
    internals.pushConfirmCallback(false);
  }
}

/** The FrameBatch of a channel, writing into the channel's own queue; undefined if amqplib's
 * internals are not as expected (then each message goes through `publish`). */
function batchFor(
  channel: ChannelInternals,
  closed: () => boolean,
  onFull: () => void,
): FrameBatch | undefined {
  const connection = channel.connection;
  const queue = connection?.channels?.[channel.ch]?.buffer;
  if (!queue || typeof connection.frameMax !== 'number') return undefined;
  const protocol = protocolDefinitions();
  if (!protocol) return undefined;
  return new FrameBatch(
    {
      write: (frames) => {
        // A batch made before the channel closed: its messages stay unconfirmed.
        if (closed()) return;
        connection.sentSinceLastCheck = true;
        if (!queue.write(frames)) onFull();
      },
    },
    channel.ch,
    connection.frameMax,
    protocol,
  );
}

/** basic.publish's fields and the message's properties, in the one object amqplib encodes. */
interface PublishFrame extends MessageProperties {
  exchange: string;
  routingKey: string;
  mandatory: boolean;
  immediate: false;
  ticket: undefined;
  headers: Record<string, unknown>;
}

/**
 * What amqplib's ConfirmChannel.publish does once its options are turned into a frame
 * (amqplib 2.3): encode and write the message, then hold a confirm slot for it. Used
 * directly when present; `publish` is the fallback.
 */
interface ChannelInternals {
  ch: number;
  connection: {
    frameMax: number;
    sentSinceLastCheck: boolean;
    channels?: ({ buffer: { write(frames: Buffer): boolean } } | null)[];
  };
  sendMessage(fields: PublishFrame, properties: PublishFrame, content: Buffer): boolean;
  pushConfirmCallback(callback: false): void;
}

function internalsOf(channel: Amqp.ConfirmChannel): ChannelInternals | undefined {
  const inside = channel as unknown as Partial<ChannelInternals>;
  return typeof inside.sendMessage === 'function' &&
    typeof inside.pushConfirmCallback === 'function' &&
    typeof inside.ch === 'number' &&
    inside.connection
    ? (inside as ChannelInternals)
    : undefined;
}

/** amqplib always sends a headers table, empty when there are none; so does warren. */
const NO_HEADERS: Record<string, unknown> = Object.freeze(Object.create(null));
