/** Publishing many messages quickly with raw amqplib (one confirm wait, with backpressure). */
import type amqp from 'amqplib';

export interface BulkMessage {
  body: Buffer | string;
  options?: amqp.Options.Publish;
}

/** Publishes every message to `exchange`/`routingKey` on a fresh confirm channel, then waits for all confirms. */
export async function publishMany(
  connection: amqp.ChannelModel,
  exchange: string,
  routingKey: string,
  messages: Iterable<BulkMessage>,
): Promise<void> {
  const channel = await connection.createConfirmChannel();
  try {
    for (const message of messages) {
      const body = Buffer.isBuffer(message.body) ? message.body : Buffer.from(message.body);
      const ok = channel.publish(exchange, routingKey, body, message.options ?? {});
      if (!ok) await new Promise<void>((resolve) => channel.once('drain', () => resolve()));
    }
    await channel.waitForConfirms();
  } finally {
    await channel.close().catch(() => {});
  }
}

/** `count` small messages whose messageId is `${prefix}-${i}` (i from 1) and body `{"i":i}`. */
export function numbered(prefix: string, count: number): BulkMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    body: JSON.stringify({ i: index + 1 }),
    options: { messageId: `${prefix}-${index + 1}`, contentType: 'application/json' },
  }));
}

/**
 * Takes every message now in the queue with a consumer (much faster than basic.get one by
 * one): the messages are acked, in queue order. Only for queues nobody else consumes from.
 */
export async function takeAllFast(
  connection: amqp.ChannelModel,
  queue: string,
): Promise<amqp.ConsumeMessage[]> {
  const channel = await connection.createChannel();
  try {
    const { messageCount } = await channel.checkQueue(queue);
    const messages: amqp.ConsumeMessage[] = [];
    if (messageCount === 0) return messages;
    await channel.prefetch(2000);
    await new Promise<void>((resolve, reject) => {
      channel.on('error', reject);
      channel
        .consume(queue, (message) => {
          if (message === null) return reject(new Error(`consumer on ${queue} was cancelled`));
          messages.push(message);
          if (messages.length === messageCount) {
            channel.ack(message, true);
            resolve();
          } else if (messages.length % 1000 === 0) channel.ack(message, true);
        })
        .catch(reject);
    });
    // The acks must reach the broker before the channel goes: closing is a round trip.
    return messages;
  } finally {
    await channel.close().catch(() => {});
  }
}

/** How often each body (as text) occurs among the messages. */
export function countBodies(messages: amqp.Message[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const message of messages) {
    const body = message.content.toString();
    seen.set(body, (seen.get(body) ?? 0) + 1);
  }
  return seen;
}
