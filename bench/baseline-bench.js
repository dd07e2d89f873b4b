#!/usr/bin/env node
/**
 * The raw amqplib load loop `warren bench` is measured against: one producer and one
 * consumer on connections of their own, at once, over one queue of its own. The producer
 * publishes --count messages (--size bytes, transient, the send time in the first 8 bytes)
 * on a confirm channel with a window of --window unconfirmed; the consumer (prefetch
 * --prefetch) records each delivery's latency and acks the deliveries of one turn of the
 * event loop with one multiple ack. As `warren bench` does by default, with nothing else.
 *
 *   node bench/baseline-bench.js --url URL --count N [--size 100] [--window 256] [--prefetch 100]
 *
 * Prints one JSON line on stdout: {publish, consume} in msg/s (publish: first publish to
 * last confirm; consume: first publish to last delivery) and the median latency in µs.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.WARREN_URL ?? 'amqp://guest:guest@127.0.0.1:5672/' },
    count: { type: 'string', default: '100000' },
    size: { type: 'string', default: '100' },
    window: { type: 'string', default: '256' },
    prefetch: { type: 'string', default: '100' },
  },
});
const count = Number(values.count);
const size = Number(values.size);
const window = Number(values.window);
const now = () => (performance.timeOrigin + performance.now()) * 1000;

const queue = `warren-bench-baseline-${randomBytes(4).toString('hex')}`;
const consumerConnection = await amqp.connect(values.url, { noDelay: true });
const consumerChannel = await consumerConnection.createChannel();
await consumerChannel.assertQueue(queue, {
  durable: false,
  autoDelete: true,
  arguments: { 'x-expires': 60_000 },
});
await consumerChannel.prefetch(Number(values.prefetch));
const producerConnection = await amqp.connect(values.url, { noDelay: true });
const producerChannel = await producerConnection.createConfirmChannel();

const latencies = new Float64Array(count);
let consumed = 0;
let lastDelivery = 0;
let consumedAll;
const allConsumed = new Promise((resolve) => {
  consumedAll = resolve;
});
let lastUnacked;
const ackTurn = () => {
  consumerChannel.ack(lastUnacked, true);
  lastUnacked = undefined;
};
await consumerChannel.consume(queue, (message) => {
  if (message === null) return;
  latencies[consumed] = now() - message.content.readDoubleLE(0);
  consumed += 1;
  if (lastUnacked === undefined) setImmediate(ackTurn);
  lastUnacked = message;
  if (consumed === count) {
    lastDelivery = performance.now();
    consumedAll();
  }
});

const started = performance.now();
let published = 0;
let confirmed = 0;
let lastConfirm = 0;
let wake;
const onConfirm = () => {
  confirmed += 1;
  if (confirmed === count) lastConfirm = performance.now();
  if (wake && published - confirmed < window) {
    const resume = wake;
    wake = undefined;
    resume();
  }
};
const properties = { deliveryMode: 1 };
while (published < count) {
  if (published - confirmed >= window) await new Promise((resolve) => (wake = resolve));
  const body = Buffer.alloc(size);
  body.writeDoubleLE(now(), 0);
  published += 1;
  if (!producerChannel.publish('', queue, body, properties, onConfirm)) {
    await new Promise((resolve) => producerChannel.once('drain', resolve));
  }
}
await producerChannel.waitForConfirms();
await allConsumed;
latencies.sort();
process.stdout.write(
  `${JSON.stringify({
    publish: (count * 1000) / (lastConfirm - started),
    consume: (count * 1000) / (lastDelivery - started),
    p50: latencies[Math.floor(count / 2)],
  })}\n`,
);
await consumerChannel.deleteQueue(queue);
await producerConnection.close();
await consumerConnection.close();
