#!/usr/bin/env node
/**
 * The least a Node program can do to publish one message with a confirm through amqplib:
 * the floor under `warren publish … x`, for comparison with `node -e 0`.
 *
 *   node bench/baseline-single.js --url URL --routing-key QUEUE
 */
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.WARREN_URL ?? 'amqp://guest:guest@127.0.0.1:5672/' },
    'routing-key': { type: 'string' },
  },
});
const connection = await amqp.connect(values.url, { noDelay: true });
const channel = await connection.createConfirmChannel();
channel.publish('', values['routing-key'], Buffer.from('x'), { mandatory: true, persistent: true });
await channel.waitForConfirms();
await connection.close();
