#!/usr/bin/env node
/**
 * The raw amqplib event-handler loop a `consume --emit` run is measured against: consume
 * --queue (prefetch --prefetch, 500 by default), publish one message per input, its body and
 * properties, to --exchange with --routing-key on a confirm channel (mandatory, the input's
 * message id as correlationId), and ack the input once that publish is confirmed; stops
 * after --count inputs. A publish that is nacked or returned fails the run (exit 1).
 *
 *   node bench/baseline-emit.js --url URL --queue IN --exchange X [--routing-key KEY]
 *     --count N [--prefetch P]
 *
 * --exchange '' with --routing-key QUEUE publishes straight to a queue. Says on stderr how
 * many it handled and how long that took.
 */
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.WARREN_URL ?? 'amqp://guest:guest@127.0.0.1:5672/' },
    queue: { type: 'string' },
    exchange: { type: 'string', default: '' },
    'routing-key': { type: 'string', default: '' },
    count: { type: 'string' },
    prefetch: { type: 'string', default: '500' },
  },
});
const count = Number(values.count);
if (values.queue === undefined || !(count > 0)) {
  process.stderr.write('baseline-emit: --queue and a --count above 0 are needed\n');
  process.exit(2);
}
const started = performance.now();
const connection = await amqp.connect(values.url, { noDelay: true });
const consumer = await connection.createChannel();
const publisher = await connection.createConfirmChannel();
await consumer.prefetch(Math.min(Number(values.prefetch), count));
publisher.on('return', (message) => {
  process.stderr.write(`baseline-emit: an emit was returned (${message.fields.replyText})\n`);
  process.exit(1);
});

let received = 0;
let acked = 0;
let finish;
const finished = new Promise((resolve) => {
  finish = resolve;
});
const { consumerTag } = await consumer.consume(values.queue, (message) => {
  if (message === null || received >= count) return;
  received += 1;
  const { properties } = message;
  const emitted = {
    ...properties,
    correlationId: properties.correlationId ?? properties.messageId,
    mandatory: true,
  };
  publisher.publish(values.exchange, values['routing-key'], message.content, emitted, (error) => {
    if (error) {
      process.stderr.write('baseline-emit: an emit was nacked\n');
      process.exit(1);
    }
    consumer.ack(message);
    acked += 1;
    if (acked === count) finish();
  });
});
await finished;
await consumer.cancel(consumerTag);
await consumer.close();
await publisher.close();
await connection.close();
process.stderr.write(`baseline-emit: handled ${acked} in ${Math.round(performance.now() - started)}ms\n`);
