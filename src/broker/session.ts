/**
 * The broker session: one connection (opened by connect.ts) and its channels, each step on
 * a channel of its own; consumers and publishers are in consumption.ts and publisher.ts.
 * Everything it hands out is plain data (DeliveredMessage, counts) or a small interface of
 * its own; its errors are what SessionOptions.explain makes of a BrokerError.
 */
import type * as Amqp from 'amqplib';
import { BrokerError, brokerErrorOf, brokerText, type ExplainedError } from './brokerError.js';
import type { ConfirmTracker } from './confirmTracker.js';
import type { BrokerUrl, Explainer, SessionOptions } from './connect.js';
import { type ConsumeOptions, type Consumption, openConsumption } from './consumption.js';
import { type BindingSpec, describeBinding, type ExchangeSpec, type QueueSpec } from './declarations.js';
import { type DeliveredMessage, receivedFromAmqp } from './delivery.js';
import { Publisher } from './publisher.js';
import { refusedAsStream } from './streamQueue.js';

export type { Consumption } from './consumption.js';
export type { DeliveredMessage } from './delivery.js';
export type { Publisher } from './publisher.js';

/** RabbitMQ's pseudo-queue for replies straight to the requesting channel. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

export interface QueueCounts {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

export interface Browser {
  next(): Promise<DeliveredMessage | undefined>;
  release(): Promise<void>;
}

/** The exchanges every vhost has; their names are reserved, so they cannot be probed. */
const STANDARD_EXCHANGE_TYPES: Record<string, string> = {
  'amq.direct': 'direct',
  'amq.fanout': 'fanout',
  'amq.topic': 'topic',
  'amq.headers': 'headers',
  'amq.match': 'headers',
  'amq.rabbitmq.trace': 'topic',
};

/** The vhost a URL names, decoded (empty for none: the broker's default, `/`). */
export function vhostOf(url: BrokerUrl): string {
  const path = new URL(url.url).pathname.slice(1);
  try {
    return decodeURIComponent(path);
  } catch {
    // Shown as written.
    return path;
  }
}

/** Connection-level closes that answer a command warren sent, rather than a lost link. */
const CONNECTION_REFUSALS = new Set([403, 503, 530, 540]);

export class Session {
  private closing = false;
  private lostListeners: ((error: ExplainedError) => void)[] = [];
  /** Why the session died, as data, and as its owner tells it. */
  private lostCause: BrokerError | undefined;
  private lostError: ExplainedError | undefined;
  private readonly channels = new Set<Amqp.Channel>();
  /** Why the broker blocks this connection's publishers (connection.blocked), while it does. */
  private blockedBy: string | undefined;
  private blockedListeners: ((reason: string) => void)[] = [];
  private readonly explain: Explainer;
  private readonly log: ((line: string) => void) | undefined;
  /** The vhost the connection opened (`/` for the URL's default). */
  readonly vhost: string;
  /** The URL connected to, its password masked. */
  readonly masked: string;

  constructor(
    private readonly model: Amqp.ChannelModel,
    url: BrokerUrl,
    options: Pick<SessionOptions, 'explain' | 'log' | 'warn'>,
  ) {
    this.explain = options.explain;
    this.log = options.log;
    this.vhost = vhostOf(url) || '/';
    this.masked = url.masked;
    model.on('error', () => {});
    model.on('close', (error?: Error) => {
      if (this.closing) return;
      const code = (error as { code?: unknown } | undefined)?.code;
      const said = error ? { cause: error, brokerText: brokerText(error) } : {};
      // The broker closes the whole connection for some refusals (an unknown exchange
      // type is 503 COMMAND_INVALID): that is a refusal, not an unreachable broker.
      if (error && typeof code === 'number' && CONNECTION_REFUSALS.has(code)) {
        this.fail(new BrokerError('connection-refused', { ...said, replyCode: code }));
      } else this.fail(new BrokerError('connection-lost', { ...said, url: url.masked }));
    });
    // A publisher that stops for a memory or disk alarm would look hung: say why, and when it ends.
    const warn = options.warn ?? options.log;
    model.on('blocked', (reason: string) => {
      this.blockedBy = reason;
      for (const listener of this.blockedListeners) listener(reason);
      if (this.blockedListeners.length === 0) {
        warn?.(`the broker is blocking publishers (${reason}): waiting until it lets them go on`);
      }
    });
    model.on('unblocked', () => {
      this.blockedBy = undefined;
      if (this.blockedListeners.length === 0) warn?.('the broker lets publishers go on again');
    });
  }

  /** Registers a listener for the session (connection or a channel) dying under us. */
  onLost(listener: (error: ExplainedError) => void): void {
    if (this.lostError) listener(this.lostError);
    else this.lostListeners.push(listener);
  }

  /**
   * Calls `listener` when the broker blocks this connection's publishers (connection.blocked,
   * for a memory or disk alarm), at once if it does now. A listener takes over the warning
   * the session would give on stderr.
   */
  onBlocked(listener: (reason: string) => void): void {
    this.blockedListeners.push(listener);
    if (this.blockedBy !== undefined) listener(this.blockedBy);
  }

  /**
   * Ends the connection without the closing handshake: a broker that blocked the connection
   * reads nothing more from it, so it would never answer a close.
   */
  abandon(): void {
    this.closing = true;
    (this.model.connection as unknown as { stream?: { destroy?: () => void } }).stream?.destroy?.();
  }

  get lost(): ExplainedError | undefined {
    return this.lostError;
  }

  private fail(cause: BrokerError): void {
    if (this.lostError) return;
    this.lostCause = cause;
    const error = this.explain.error(cause);
    this.lostError = error;
    for (const listener of this.lostListeners) listener(error);
  }

  /**
   * The error to throw for a step that failed: the session's loss when it is lost (the
   * more telling), else the step's own. `takingFrom`: the step took messages from that
   * queue, which may be a stream that refuses it.
   */
  private refusal(error: unknown, operation: string, takingFrom?: string): ExplainedError {
    const cause = this.lostCause ?? brokerErrorOf(error, operation);
    const refused = takingFrom === undefined ? cause : refusedAsStream(takingFrom, cause);
    if (this.lostError && refused === this.lostCause) return this.lostError;
    return this.explain.error(refused);
  }

  private watchChannel(channel: Amqp.Channel, what: string): void {
    this.channels.add(channel);
    channel.on('error', (error: Error) => {
      this.fail(brokerErrorOf(error, what));
    });
    channel.on('close', () => {
      this.channels.delete(channel);
      // A connection going down closes its channels first: wait a tick, so that the
      // connection's own (more telling) error is the one reported.
      setImmediate(() => {
        if (!this.closing) this.fail(new BrokerError('channel-closed', { operation: what }));
      });
    });
  }

  /** When the broker's TLS certificate stops being valid (amqps), or undefined over plain TCP. */
  certificateValidTo(): Date | undefined {
    const socket = (
      this.model.connection as unknown as { stream?: { getPeerCertificate?: () => { valid_to?: string } } }
    ).stream;
    const validTo = socket?.getPeerCertificate?.()?.valid_to;
    return validTo ? new Date(validTo) : undefined;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.lostCause?.kind === 'connection-lost') return;
    try {
      // amqplib sends channel frames (such as the last acks) on the next turn of the event
      // loop but connection.close at once: closing each channel first, which waits for the
      // broker's reply, makes sure everything sent on it arrived before the connection ends.
      await Promise.all([...this.channels].map((channel) => channel.close().catch(() => {})));
      await this.model.close();
    } catch {
      // Already closed by the broker or the network; nothing left to release.
    }
  }

  /**
   * Runs one protocol step on a channel of its own, so that a refusal (which closes the
   * channel) fails this step only; the session and its other steps carry on. `recover`
   * may turn a refusal into an answer (a passive check that found nothing).
   */
  private async onChannel<T>(
    what: string,
    step: (channel: Amqp.Channel) => Promise<T>,
    recover?: (refused: BrokerError) => T | undefined,
  ): Promise<T> {
    // A lost connection takes no more steps: amqplib would wait for an answer never to come.
    if (this.lostError) throw this.lostError;
    const channel = await this.model.createChannel();
    channel.on('error', () => {});
    try {
      return await step(channel);
    } catch (error) {
      const answer = this.lostCause ? undefined : recover?.(brokerErrorOf(error, what));
      if (answer !== undefined) return answer;
      throw this.refusal(error, what);
    } finally {
      channel.close().catch(() => {});
    }
  }

  /** Whether an exchange exists (a passive declare). */
  async exchangeExists(name: string): Promise<boolean> {
    return this.existence(`exchange '${name}'`, (channel) => channel.checkExchange(name));
  }

  /** A queue's counts, or undefined when there is no such queue (a passive declare). */
  async queueInfo(name: string): Promise<QueueCounts | undefined> {
    let counts: QueueCounts | undefined;
    const exists = await this.existence(`queue '${name}'`, async (channel) => {
      const reply = await channel.checkQueue(name);
      counts = { queue: reply.queue, messageCount: reply.messageCount, consumerCount: reply.consumerCount };
    });
    return exists ? counts : undefined;
  }

  private async existence(
    what: string,
    check: (channel: Amqp.Channel) => Promise<unknown>,
  ): Promise<boolean> {
    return this.onChannel(
      what,
      async (channel) => {
        await check(channel);
        return true;
      },
      (refused) => (refused.replyCode === 404 ? false : undefined),
    );
  }

  /**
   * An exchange's type. AMQP has no query for it, but declaring an existing exchange with
   * another type is refused (changing nothing) with a reply that names the current type.
   */
  async exchangeType(name: string): Promise<string> {
    const standard = STANDARD_EXCHANGE_TYPES[name];
    if (standard) return standard;
    if (!(await this.exchangeExists(name))) {
      throw this.explain.error(new BrokerError('not-found', { entity: { kind: 'exchange', name } }));
    }
    return this.onChannel(
      `exchange '${name}'`,
      async (channel) => {
        await channel.assertExchange(name, 'headers', { durable: true, autoDelete: false, internal: false });
        return 'headers';
      },
      (refused) => {
        const text = refused.replyCode === undefined ? '' : (refused.brokerText ?? '');
        const current = /inequivalent arg 'type'.*current is '([^']+)'/.exec(text)?.[1];
        // The type matched when another setting (durable…) differed.
        return current ?? (/inequivalent arg/.test(text) ? 'headers' : undefined);
      },
    );
  }

  async declareExchange(spec: ExchangeSpec): Promise<void> {
    await this.onChannel(`exchange '${spec.name}'`, (channel) =>
      channel.assertExchange(spec.name, spec.type, {
        durable: spec.durable,
        autoDelete: spec.autoDelete,
        internal: spec.internal,
        arguments: spec.arguments,
      }),
    );
  }

  async declareQueue(spec: QueueSpec): Promise<QueueCounts> {
    return this.onChannel(`queue '${spec.name}'`, async (channel) => {
      const reply = await channel.assertQueue(spec.name, {
        durable: spec.durable,
        exclusive: spec.exclusive,
        autoDelete: spec.autoDelete,
        arguments: spec.arguments,
      });
      return { queue: reply.queue, messageCount: reply.messageCount, consumerCount: reply.consumerCount };
    });
  }

  async bind(spec: BindingSpec, remove = false): Promise<void> {
    const what = describeBinding(spec);
    await this.onChannel(what, async (channel) => {
      if ('queue' in spec.destination) {
        const method = remove ? channel.unbindQueue : channel.bindQueue;
        await method.call(channel, spec.destination.queue, spec.source, spec.key, spec.arguments);
      } else {
        const method = remove ? channel.unbindExchange : channel.bindExchange;
        await method.call(channel, spec.destination.exchange, spec.source, spec.key, spec.arguments);
      }
    });
  }

  /** Removes every ready message; returns how many there were. */
  async purgeQueue(name: string): Promise<number> {
    return this.onChannel(
      `purge queue '${name}'`,
      async (channel) => (await channel.purgeQueue(name)).messageCount,
    );
  }

  /** Deletes a queue; returns how many messages went with it. */
  async deleteQueue(name: string, options: { ifUnused: boolean; ifEmpty: boolean }): Promise<number> {
    return this.onChannel(
      `delete queue '${name}'`,
      async (channel) => (await channel.deleteQueue(name, options)).messageCount,
    );
  }

  async deleteExchange(name: string, options: { ifUnused: boolean }): Promise<void> {
    await this.onChannel(`delete exchange '${name}'`, (channel) => channel.deleteExchange(name, options));
  }

  /**
   * A publisher with confirms. With `onReply`, the channel also consumes RabbitMQ's direct
   * reply-to pseudo-queue, so that messages published on it with `replyTo` set to
   * DIRECT_REPLY_TO get their replies here (it must be the same channel).
   */
  async openPublisher(options: {
    mandatory: boolean;
    tracker: ConfirmTracker;
    onReply?: (message: DeliveredMessage) => void;
  }): Promise<Publisher> {
    const channel = await this.model.createConfirmChannel();
    this.watchChannel(channel, 'publish');
    const onReply = options.onReply;
    if (onReply) {
      try {
        await channel.consume(DIRECT_REPLY_TO, (message) => message && onReply(receivedFromAmqp(message)), {
          noAck: true,
        });
      } catch (error) {
        throw this.refusal(error, 'consume replies');
      }
    }
    this.log?.(`publisher confirms on, mandatory ${options.mandatory ? 'on' : 'off'}`);
    return new Publisher(channel, options.mandatory, options.tracker, this);
  }

  /** Consumes from a queue; each delivery is handed over as plain data, in order. */
  async consume(
    queue: string,
    options: ConsumeOptions,
    onMessage: (message: DeliveredMessage) => void,
    onCancelled: () => void,
  ): Promise<Consumption> {
    const channel = await this.model.createChannel();
    this.watchChannel(channel, `consume from '${queue}'`);
    return openConsumption(
      channel,
      queue,
      options,
      { onMessage, onCancelled },
      {
        usable: () => !this.lostError && !this.closing,
        refusal: (error, operation, takingFrom) => this.refusal(error, operation, takingFrom),
        release: () => this.channels.delete(channel),
        log: this.log,
      },
    );
  }

  /**
   * Takes messages one at a time with basic.get. Without noAck nothing is acknowledged,
   * so each is seen once and closing the channel puts them all back in their places; with
   * noAck each message is gone from the queue as soon as it is taken.
   */
  async openBrowser(queue: string, options: { noAck: boolean }): Promise<Browser> {
    const channel = await this.model.createChannel();
    this.watchChannel(channel, `read '${queue}'`);
    this.log?.(
      `reading '${queue}' one message at a time (${options.noAck ? 'broker auto-ack' : 'acking nothing: all go back at the end'})`,
    );
    return {
      next: async () => {
        try {
          const message = await channel.get(queue, { noAck: options.noAck });
          return message === false ? undefined : receivedFromAmqp(message);
        } catch (error) {
          throw this.refusal(error, `read '${queue}'`, queue);
        }
      },
      release: async () => {
        if (!this.lostError) await channel.close().catch(() => {});
      },
    };
  }
}
