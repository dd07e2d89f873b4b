/**
 * Test helpers that talk to the real local RabbitMQ directly with amqplib, to set up and
 * inspect what warren did. (warren's own code reaches amqplib only through its session.)
 */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';

export const BROKER_URL = process.env['WARREN_TEST_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672/';

/**
 * How long a test queue may sit unused (no consumer, no get, no declare) before the broker
 * deletes it, so that a run cut short leaves nothing behind. Ten minutes: far longer than any
 * test leaves its queue idle, far shorter than a day of stale queues.
 */
export const TEST_QUEUE_EXPIRES_MS = 10 * 60_000;
/** The same lease for a queue a test has `warren declare queue` create. */
export const EXPIRES_FLAG = ['--expires', '10m'];

/**
 * Queue options with the test lease added, unless the queue goes by itself already (exclusive,
 * or a lease of its own) or cannot have one: a stream refuses x-expires and auto-delete alike,
 * so its test deletes it (see test/globalSetup.ts, which fails a run that leaves one behind).
 */
export function expiring(options: amqp.Options.AssertQueue = {}): amqp.Options.AssertQueue {
  const args = (options.arguments ?? {}) as Record<string, unknown>;
  const goesByItself = options.exclusive === true || options.expires !== undefined || 'x-expires' in args;
  if (goesByItself || args['x-queue-type'] === 'stream') return options;
  return { ...options, expires: TEST_QUEUE_EXPIRES_MS };
}

/** A name no other test (or rerun) uses. */
export function uniqueName(prefix: string): string {
  // The run's tag (set by test/globalSetup.ts) lets its guard tell this run's queues apart.
  const run = process.env['WARREN_TEST_RUN'] ?? '';
  return `warren-test.${prefix}.${process.pid}.${run}${randomBytes(4).toString('hex')}`;
}

export interface TestBroker {
  connection: amqp.ChannelModel;
  channel: amqp.Channel;
  /** Declares a non-durable queue (with the test lease) that is deleted again by `cleanup`. */
  queue(prefix: string, options?: amqp.Options.AssertQueue): Promise<string>;
  exchange(prefix: string, type: string): Promise<string>;
  /** Publishes with confirms, straight through amqplib. */
  publish(
    exchange: string,
    routingKey: string,
    body: Buffer | string,
    options?: amqp.Options.Publish,
  ): Promise<void>;
  /** Takes every message now in the queue (acked), in order. */
  drain(queue: string): Promise<amqp.GetMessage[]>;
  messageCount(queue: string): Promise<number>;
  /** Whether a queue exists, asked on a channel of its own (the 404 of a missing one closes it). */
  queueExists(queue: string): Promise<boolean>;
  cleanup(): Promise<void>;
}

export async function connectTestBroker(): Promise<TestBroker> {
  const connection = await amqp.connect(BROKER_URL);
  const channel = await connection.createChannel();
  const confirm = await connection.createConfirmChannel();
  const queues: string[] = [];
  const exchanges: string[] = [];
  return {
    connection,
    channel,
    async queue(prefix, options = {}) {
      const name = uniqueName(prefix);
      await channel.assertQueue(name, expiring({ durable: false, ...options }));
      queues.push(name);
      return name;
    },
    async exchange(prefix, type) {
      const name = uniqueName(prefix);
      await channel.assertExchange(name, type, { durable: false });
      exchanges.push(name);
      return name;
    },
    async publish(exchange, routingKey, body, options = {}) {
      confirm.publish(exchange, routingKey, Buffer.isBuffer(body) ? body : Buffer.from(body), options);
      await confirm.waitForConfirms();
    },
    async drain(queue) {
      const messages: amqp.GetMessage[] = [];
      for (;;) {
        const message = await channel.get(queue, { noAck: true });
        if (message === false) return messages;
        messages.push(message);
      }
    },
    async messageCount(queue) {
      return (await channel.checkQueue(queue)).messageCount;
    },
    async queueExists(queue) {
      const probe = await connection.createChannel();
      probe.on('error', () => {});
      try {
        await probe.checkQueue(queue);
        await probe.close();
        return true;
      } catch {
        return false;
      }
    },
    async cleanup() {
      for (const queue of queues) await channel.deleteQueue(queue).catch(() => {});
      for (const exchange of exchanges) await channel.deleteExchange(exchange).catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}

/**
 * Polls until `check` is true or `ms` passes (for states the broker reaches shortly). The
 * default is generous because it only bounds a failure: with four test files at once on a
 * loaded machine, starting a warren can take seconds; a passing check returns at once.
 */
export async function eventually(
  check: () => Promise<boolean>,
  ms = 15_000,
  /** What to show when the time is out (what the process said so far, say). */
  context?: () => string,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) {
      throw new Error(`condition not reached in time${context ? `; ${context()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
