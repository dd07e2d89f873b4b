#!/usr/bin/env node
/**
 * The raw amqplib consume loop warren is measured against: prefetch 1000, one record per
 * message on stdout, written in batches (one per event-loop turn) and acked (multiple)
 * once the batch was written; stops after --count messages.
 *
 *   node bench/baseline-consume.js --url URL --queue QUEUE --count N [--format ndjson|body] > file
 *   node bench/baseline-consume.js --url URL --exchange X --count N > file   (a tap: its own
 *     exclusive queue bound to X; says "bound" on stderr once it is)
 */
import { isUtf8 } from 'node:buffer';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.WARREN_URL ?? 'amqp://guest:guest@127.0.0.1:5672/' },
    queue: { type: 'string' },
    exchange: { type: 'string' },
    count: { type: 'string' },
    prefetch: { type: 'string', default: '1000' },
    format: { type: 'string', default: 'ndjson' },
  },
});
const count = Number(values.count);
const asBody = values.format === 'body';
const NEWLINE = Buffer.from('\n');

function ndjsonRecord(message) {
  // amqplib sets every property key, most of them undefined: keep only those present.
  const properties = {};
  let headers;
  for (const [name, value] of Object.entries(message.properties)) {
    if (value === undefined) continue;
    if (name === 'headers') headers = Object.keys(value).length > 0 ? value : undefined;
    else properties[name] = value;
  }
  const utf8 = isUtf8(message.content);
  const envelope = {
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    redelivered: message.fields.redelivered,
    properties,
    headers,
    body: message.content.toString(utf8 ? 'utf8' : 'base64'),
    bodyEncoding: utf8 ? 'utf8' : 'base64',
    receivedAt: new Date().toISOString(),
  };
  return `${JSON.stringify(envelope)}\n`;
}

const started = performance.now();
const connection = await amqp.connect(values.url, { noDelay: true });
const channel = await connection.createChannel();
await channel.prefetch(Math.min(Number(values.prefetch), count));

let received = 0;
let batch = [];
let lastMessage;
let scheduled = false;
let pendingWrites = 0;
let finish;
const finished = new Promise((resolve) => {
  finish = resolve;
});

function flush() {
  scheduled = false;
  if (batch.length === 0) return;
  const chunk = asBody ? Buffer.concat(batch) : batch.join('');
  const upTo = lastMessage;
  batch = [];
  pendingWrites += 1;
  process.stdout.write(chunk, (error) => {
    if (error) throw error;
    pendingWrites -= 1;
    channel.ack(upTo, true);
    if (received >= count && pendingWrites === 0) finish();
  });
}

let queue = values.queue;
if (values.exchange !== undefined) {
  ({ queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true }));
  await channel.bindQueue(queue, values.exchange, '#');
  process.stderr.write('bound\n');
}
const { consumerTag } = await channel.consume(queue, (message) => {
  if (message === null || received >= count) return;
  received += 1;
  batch.push(asBody ? Buffer.concat([message.content, NEWLINE]) : ndjsonRecord(message));
  lastMessage = message;
  if (received >= count) flush();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});

await finished;
await channel.cancel(consumerTag);
await connection.close();
process.stderr.write(`baseline: consumed ${received} in ${Math.round(performance.now() - started)}ms\n`);
