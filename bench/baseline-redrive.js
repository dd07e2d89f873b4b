#!/usr/bin/env node
/**
 * The raw amqplib dead-letter re-drive warren is measured against: consume the dead-letter
 * queue (prefetch 500), publish each message to the target queue on a confirm channel, ack
 * it on the dead-letter queue once its publish is confirmed; stops after --count messages.
 *
 *   node bench/baseline-redrive.js --url URL --queue DLQ --to QUEUE --count N
 */
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.WARREN_URL ?? 'amqp://guest:guest@127.0.0.1:5672/' },
    queue: { type: 'string' },
    to: { type: 'string' },
    count: { type: 'string' },
  },
});
const count = Number(values.count);
const connection = await amqp.connect(values.url, { noDelay: true });
const consumer = await connection.createChannel();
const publisher = await connection.createConfirmChannel();
await consumer.prefetch(Math.min(500, count));

let received = 0;
let acked = 0;
let finish;
const finished = new Promise((resolve) => {
  finish = resolve;
});
await consumer.consume(values.queue, (message) => {
  if (message === null || received >= count) return;
  received += 1;
  publisher.publish('', values.to, message.content, { ...message.properties, mandatory: true }, (error) => {
    if (error) throw error;
    consumer.ack(message);
    acked += 1;
    if (acked === count) finish();
  });
});
await finished;
await consumer.close();
await publisher.close();
await connection.close();
