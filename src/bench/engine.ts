/**
 * `warren bench`'s run: producers and consumers, each on a channel of its own (producers and
 * consumers on connections apart, `channelsPerConnection` to one), over queues the run
 * declares and removes. Every message carries its send time (µs since the epoch, so any
 * process on the machine can read it): a float64 in its first 8 bytes, or with a body of the
 * caller's (`payload`) in the SENT_HEADER header. The consumers turn it into end-to-end
 * latency, the producers time their confirms.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ConfirmTracker } from '../broker/confirmTracker.js';
import { typedNumber } from '../broker/fieldTable.js';
import type { OutgoingMessage } from '../broker/message.js';
import type { Consumption, DeliveredMessage, Session } from '../broker/session.js';
import { consumerCancelled } from '../consume/cancelled.js';
import { BrokerRefusedError, UsageError } from '../errors.js';
import { PublishFlow } from '../publish/flow.js';
import { nowMicros } from './clock.js';
import { Histogram } from './histogram.js';
import type { BenchSummary } from './summary.js';

export type BenchQueueType = 'classic' | 'quorum' | 'stream';

export interface BenchOptions {
  producers: number;
  consumers: number;
  /** Producers (or consumers) that share one connection, each on channels of its own. */
  channelsPerConnection: number;
  /** Body bytes, at least 8 (the send time): each message's drawn uniformly from min to max. */
  size: { min: number; max: number };
  /** Every message's body, instead of `size` zeros; its send time goes in SENT_HEADER. */
  payload: Buffer | undefined;
  /** Messages per second per producer; undefined: as fast as confirms allow. */
  rate: number | undefined;
  /** How long to publish, in ms; used when count is undefined. */
  durationMs: number;
  /** Total messages over every producer. */
  count: number | undefined;
  confirmWindow: number;
  prefetch: number;
  /**
   * Ack every N deliveries at once (1: each its own ack); undefined: the deliveries of one
   * turn of the event loop in one multiple ack, at the end of the turn.
   */
  multiAck: number | undefined;
  persistent: boolean;
  queueType: BenchQueueType;
  queues: number;
  autoack: boolean;
  /**
   * An existing queue to bench instead of declaring queues: used as it is and left in place.
   * It must be empty and without consumers, unless `force`.
   */
  queue: string | undefined;
  force: boolean;
  /** Publish to this exchange, which the run's queues are bound to (see docs/commands/bench.md). */
  exchange: string | undefined;
  routingKey: string | undefined;
  /** How long the consumers may take, after publishing ends, to take what was confirmed. */
  drainMs: number;
}

/** One second of the run, as the status line and --csv show it. */
export interface BenchSecond {
  second: number;
  published: number;
  confirmed: number;
  consumed: number;
  p50: number;
  p99: number;
  unconfirmed: number;
  depth: number;
}

export interface BenchHooks {
  /**
   * Connects a session of its own (one for declaring, one per --channels-per-connection
   * producers or consumers), named for its `role` when it has one.
   */
  connect(role?: string): Promise<Session>;
  onSecond(row: BenchSecond): void;
  detail(line: string): void;
}

/** The header that carries the send time (µs since the epoch, a double) beside a payload. */
export const SENT_HEADER = 'x-warren-bench-sent';

/** A message's send time: its SENT_HEADER, else its first 8 bytes; undefined if neither. */
function sentTimeOf(message: DeliveredMessage): number | undefined {
  const header = message.headers?.[SENT_HEADER];
  if (header !== undefined) return typedNumber(header);
  // A message not of the run's (--queue --force) may be too short to carry a send time.
  return message.body.length >= 8 ? message.body.readDoubleLE(0) : undefined;
}

/** How long a declared queue outlives the run should it end without removing it. */
const QUEUE_EXPIRES_MS = 60_000;

export function benchQueueNames(count: number): string[] {
  const run = randomBytes(4).toString('hex');
  return Array.from({ length: count }, (_, i) => `warren-bench-${run}-${i + 1}`);
}

/** How long consumers may catch up after Ctrl-C, at most. */
const STOP_DRAIN_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class BenchRun {
  private stopping = false;
  private readonly endToEnd = new Histogram();
  private readonly confirmLatency = new Histogram();
  private secondLatency = new Histogram();
  private readonly trackers: ConfirmTracker[] = [];
  private consumed = 0;
  private consumedBytes = 0;
  /** When the last confirm and the last delivery came (performance.now()): the rates' ends. */
  private lastConfirmAt = 0;
  private lastDeliveryAt = 0;
  private claimed = 0;
  private depth = 0;
  readonly queues: string[];

  constructor(
    private readonly options: BenchOptions,
    private readonly hooks: BenchHooks,
  ) {
    this.queues = options.queue === undefined ? benchQueueNames(options.queues) : [options.queue];
  }

  /** Stops publishing (Ctrl-C): what is in flight is still confirmed and consumed, briefly. */
  stop(): void {
    this.stopping = true;
  }

  /**
   * What ended the run before its time: a lost connection, or a consumer the broker cancelled
   * (its queue deleted). The summary is of what was measured until then.
   */
  failure: Error | undefined;
  private failNow: (error: Error) => void = () => {};
  /** Rejects with the failure: raced against every wait of the run, which could hang without it. */
  private readonly failed = new Promise<never>((_, reject) => {
    this.failNow = reject;
  });

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.stopping = true;
    this.failNow(error);
  }

  /** `step`, unless the run fails first. */
  private unlessFailed<T>(step: Promise<T>): Promise<T> {
    return Promise.race([step, this.failed]);
  }

  private async connect(role?: string): Promise<Session> {
    const session = await this.hooks.connect(role);
    session.onLost((error) => this.fail(error));
    return session;
  }

  async run(): Promise<BenchSummary> {
    const { options, hooks } = this;
    // Handled where the run ends: a failure before anyone waits on it must not go unhandled.
    this.failed.catch(() => {});
    const admin = await this.connect();
    const sessions: Session[] = [];
    try {
      await this.declare(admin);
      const consumptions: { consumption: Consumption; flush(): void }[] = [];
      const consumerSessions = await this.connections('consumers', options.consumers, sessions);
      for (const [i, session] of consumerSessions.entries()) {
        // Every queue has a consumer: with fewer consumers than queues, some take several.
        for (let q = i; q < Math.max(this.queues.length, i + 1); q += options.consumers) {
          consumptions.push(await this.consumer(session, this.queues[q % this.queues.length] as string));
        }
      }
      const flows: PublishFlow[] = [];
      for (const session of await this.connections('producers', options.producers, sessions)) {
        flows.push(await this.producer(session));
      }
      const start = performance.now();
      let last = { published: 0, confirmed: 0, consumed: 0 };
      let second = 0;
      const tick = setInterval(() => {
        second += 1;
        const now = this.totals();
        const latency = this.secondLatency;
        this.secondLatency = new Histogram();
        hooks.onSecond({
          second,
          published: now.published - last.published,
          confirmed: now.confirmed - last.confirmed,
          consumed: now.consumed - last.consumed,
          p50: latency.percentile(50),
          p99: latency.percentile(99),
          unconfirmed: now.published - now.confirmed - now.failed,
          depth: this.depth,
        });
        last = now;
        void this.measureDepth(admin);
      }, 1000);
      try {
        await this.unlessFailed(Promise.all(flows.map((flow, i) => this.publishAll(flow, i, start))));
        await this.unlessFailed(Promise.all(flows.map((flow) => flow.finish())));
        await this.unlessFailed(this.drain(admin));
      } catch (error) {
        if (error !== this.failure) throw error;
      } finally {
        clearInterval(tick);
        for (const c of consumptions) c.flush();
      }
      return this.summary(start, performance.now());
    } finally {
      await Promise.all(sessions.map((session) => session.close()));
      await this.remove(admin);
      await admin.close();
    }
  }

  /**
   * The session of each of `count` producers (or consumers): a connection for every
   * `channelsPerConnection` of them, added to `opened` as it opens (to be closed at the end).
   * Each producer and consumption opens its own channel on it. Named `<role> <n>`: the
   * broker lists `warren bench (producers 1)`.
   */
  private async connections(
    role: 'producers' | 'consumers',
    count: number,
    opened: Session[],
  ): Promise<Session[]> {
    const each: Session[] = [];
    for (let i = 0; i < count; i++) {
      const per = this.options.channelsPerConnection;
      if (i % per === 0) opened.push(await this.connect(`${role} ${i / per + 1}`));
      each.push(opened.at(-1) as Session);
    }
    return each;
  }

  private async declare(admin: Session): Promise<void> {
    if (this.options.queue !== undefined) return this.checkExisting(admin, this.options.queue);
    const { queueType, persistent, exchange, routingKey } = this.options;
    for (const name of this.queues) {
      // Quorum queues and streams cannot be exclusive or auto-delete: x-expires is their lease.
      const classic = queueType === 'classic';
      await admin.declareQueue({
        name,
        type: queueType,
        durable: !classic || persistent,
        exclusive: false,
        autoDelete: classic,
        arguments: { 'x-expires': QUEUE_EXPIRES_MS },
      });
      this.hooks.detail(`declared ${queueType} queue '${name}'`);
      if (exchange !== undefined) {
        await admin.bind({
          source: exchange,
          destination: { queue: name },
          key: routingKey ?? name,
          arguments: {},
        });
      }
    }
  }

  /**
   * Someone else's queue: its messages would be taken (and acked) by the run and counted in
   * its latency, and its consumers would take the run's messages; so neither, unless --force.
   */
  private async checkExisting(admin: Session, name: string): Promise<void> {
    const info = await admin.queueInfo(name);
    if (!info) {
      throw new BrokerRefusedError(`--queue: there is no queue '${name}'`, {
        hint: 'leave out --queue, and bench declares queues of its own',
      });
    }
    if (this.options.force) return;
    const why: string[] = [];
    if (info.consumerCount > 0)
      why.push(`${info.consumerCount} consumer${info.consumerCount === 1 ? '' : 's'}`);
    if (info.messageCount > 0) why.push(`${info.messageCount} message${info.messageCount === 1 ? '' : 's'}`);
    if (why.length > 0) {
      throw new UsageError(`--queue: '${name}' has ${why.join(' and ')} of its own: bench would take them`, {
        hint: 'bench a queue of its own (leave out --queue), or give --force',
      });
    }
  }

  private async remove(admin: Session): Promise<void> {
    if (this.options.queue !== undefined) return;
    for (const name of this.queues) {
      try {
        await admin.deleteQueue(name, { ifUnused: false, ifEmpty: false });
        this.hooks.detail(`deleted queue '${name}'`);
      } catch {
        // Gone already (auto-delete), or the connection is: x-expires removes it within a minute.
      }
    }
  }

  private async consumer(
    session: Session,
    queue: string,
  ): Promise<{ consumption: Consumption; flush(): void }> {
    const { autoack, multiAck, prefetch } = this.options;
    let unacked = 0;
    let lastTag = 0;
    let consumption: Consumption | undefined;
    const flush = () => {
      if (unacked === 0 || !consumption) return;
      consumption.ack(lastTag, true);
      unacked = 0;
    };
    consumption = await session.consume(
      queue,
      { prefetch, noAck: autoack },
      (message) => {
        this.lastDeliveryAt = performance.now();
        const sentAt = sentTimeOf(message);
        if (sentAt !== undefined) {
          const latency = nowMicros() - sentAt;
          this.endToEnd.record(latency);
          this.secondLatency.record(latency);
        }
        this.consumed += 1;
        this.consumedBytes += message.body.length;
        if (autoack) return;
        // Deliveries can come before consume() has handed over the consumption (a queue with
        // messages already): they are acked together as soon as it has.
        if (multiAck === 1 && consumption) consumption.ack(message.deliveryTag, false);
        else {
          lastTag = message.deliveryTag;
          unacked += 1;
          if (multiAck === undefined) {
            // As `warren consume` acks what it wrote: a burst in one ack, a lone one at once.
            if (unacked === 1) setImmediate(flush);
          } else if (unacked >= multiAck) flush();
        }
      },
      () => this.fail(consumerCancelled(queue)),
    );
    if (!autoack) flush();
    return { consumption, flush };
  }

  private async producer(session: Session): Promise<PublishFlow> {
    const tracker = new ConfirmTracker();
    // The send time rides as the publish's ref: the confirm's latency is measured from it.
    tracker.onSettled = (entry, _seq, status) => {
      this.lastConfirmAt = performance.now();
      if (status === 'confirmed' && entry.ref !== undefined)
        this.confirmLatency.record(nowMicros() - entry.ref);
    };
    this.trackers.push(tracker);
    // Mandatory: a message that reaches no queue (one of the run's deleted under it) is
    // returned and counted as failed, not confirmed as if it had been delivered.
    const publisher = await session.openPublisher({ mandatory: true, tracker });
    return new PublishFlow(session, publisher, {
      maxInFlight: this.options.confirmWindow,
      maxInFlightBytes: Number.POSITIVE_INFINITY,
    });
  }

  /** One producer's messages, round-robin over the queues, at its rate, until the run ends. */
  private async publishAll(flow: PublishFlow, producer: number, start: number): Promise<void> {
    const { size, payload, rate, count, durationMs, persistent, exchange, routingKey } = this.options;
    const sizes = size.max - size.min + 1;
    let sent = 0;
    let next = producer;
    const properties = persistent ? { deliveryMode: 2 } : { deliveryMode: 1 };
    for (;;) {
      if (this.stopping) return;
      if (count !== undefined) {
        if (this.claimed >= count) return;
        this.claimed += 1;
      } else if (performance.now() - start >= durationMs) return;
      if (rate !== undefined) {
        const ahead = start + (sent / rate) * 1000 - performance.now();
        if (ahead >= 1) await sleep(ahead);
      }
      const queue = this.queues[next % this.queues.length] as string;
      next += 1;
      // A payload is sent as it is, every time: only its header is new.
      const body =
        payload ?? Buffer.alloc(sizes === 1 ? size.min : size.min + Math.floor(Math.random() * sizes));
      const sentAt = nowMicros();
      if (!payload) body.writeDoubleLE(sentAt, 0);
      const message: OutgoingMessage = {
        exchange: exchange ?? '',
        routingKey: exchange === undefined ? queue : (routingKey ?? queue),
        body,
        properties,
        // Typed: amqplib would send a number this large as an int64, and refuses a fraction.
        headers: payload ? { [SENT_HEADER]: { '!': 'double', value: sentAt } } : undefined,
      };
      sent += 1;
      const wait = flow.send(message, sent, sentAt);
      if (wait) await wait;
      // Unlimited and never held back: let the confirms, consumers and timer run now and then.
      else if (sent % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Waits until the consumers took every routed, confirmed message, or the drain time passes. */
  private async drain(admin: Session): Promise<void> {
    if (this.options.consumers === 0) return;
    // After Ctrl-C the person wants out: what is in flight gets a moment, not the whole drain.
    const deadline =
      performance.now() +
      (this.stopping ? Math.min(this.options.drainMs, STOP_DRAIN_MS) : this.options.drainMs);
    const copies =
      this.options.exchange !== undefined && this.options.routingKey !== undefined ? this.queues.length : 1;
    while (performance.now() < deadline) {
      const { confirmed } = this.totals();
      // The messages with a send time: with --queue --force, others of the queue are taken too.
      if (this.endToEnd.count >= confirmed * copies) return;
      await sleep(20);
    }
    await this.measureDepth(admin);
  }

  private async measureDepth(admin: Session): Promise<void> {
    let depth = 0;
    for (const name of this.queues) {
      try {
        depth += (await admin.queueInfo(name))?.messageCount ?? 0;
      } catch {
        return;
      }
    }
    this.depth = depth;
  }

  private totals() {
    let published = 0;
    let confirmed = 0;
    let failed = 0;
    for (const t of this.trackers) {
      published += t.published;
      confirmed += t.confirmed;
      failed += t.undelivered;
    }
    return { published, confirmed, failed, consumed: this.consumed };
  }

  /**
   * The rates, each over its own part of the run, from the first publish: publishing lasts
   * until its last confirm (a message is published once the broker has it), consuming until
   * the last delivery. Neither counts the drain's wait after the last message, nor the
   * other's tail.
   */
  private summary(start: number, end: number): BenchSummary {
    const { published, confirmed, failed, consumed } = this.totals();
    const seconds = (until: number) => (until > start ? (until - start) / 1000 : 0);
    const publishS = seconds(this.lastConfirmAt);
    const consumeS = seconds(this.lastDeliveryAt);
    const per = (n: number, s: number) => (s > 0 ? n / s : 0);
    return {
      durationS: seconds(end),
      publishS,
      consumeS,
      published,
      confirmed,
      failed,
      consumed,
      rates: {
        publish: per(published, publishS),
        confirm: per(confirmed, publishS),
        consume: per(consumed, consumeS),
        bytes: per(this.consumedBytes, consumeS),
      },
      latency: this.endToEnd.summary(),
      confirmLatency: this.confirmLatency.summary(),
    };
  }
}
