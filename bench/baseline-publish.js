#!/usr/bin/env node
/**
 * The raw amqplib publish loop warren is measured against: NDJSON envelopes on stdin, one
 * message per line, on a confirm channel with the mandatory flag and a window of
 * unconfirmed messages (no waiting per message, no unbounded buffering).
 *
 *   node bench/baseline-publish.js --url URL --exchange '' --routing-key QUEUE < file.ndjson
 *   node bench/baseline-publish.js --input lines --routing-key QUEUE < file.txt  (a message per line)
 *
 * Prints a one-line summary on stderr; exits 4 if anything was returned or nacked.
 */
import { StringDecoder } from 'node:string_decoder';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.WARREN_URL ?? 'amqp://guest:guest@127.0.0.1:5672/' },
    exchange: { type: 'string', default: '' },
    'routing-key': { type: 'string' },
    window: { type: 'string', default: '4096' },
    input: { type: 'string', default: 'ndjson' },
  },
});
const exchange = values.exchange;
const routingKey = values['routing-key'];
// Stop reading at `window` unconfirmed, resume at half: the input is read in large steps.
const window = Number(values.window);
const resumeAt = window / 2;

const started = performance.now();
const connection = await amqp.connect(values.url, { noDelay: true });
const channel = await connection.createConfirmChannel();

let published = 0;
let settled = 0;
let nacked = 0;
let returned = 0;
let wake;

channel.on('return', () => {
  returned += 1;
});
channel.on('drain', () => wake?.());
const onConfirm = (error) => {
  settled += 1;
  if (error) nacked += 1;
  if (wake && published - settled <= resumeAt) wake();
};
const pause = () =>
  new Promise((resolve) => {
    wake = () => {
      wake = undefined;
      resolve();
    };
  });

const LINE_PROPERTIES = { deliveryMode: 2, mandatory: true };
const publishLine = (line) => {
  if (values.input === 'lines') {
    published += 1;
    return channel.publish(exchange, routingKey, Buffer.from(line), LINE_PROPERTIES, onConfirm);
  }
  const envelope = JSON.parse(line);
  const body = Buffer.from(envelope.body, envelope.bodyEncoding === 'base64' ? 'base64' : 'utf8');
  published += 1;
  return channel.publish(
    exchange ?? envelope.exchange ?? '',
    routingKey ?? envelope.routingKey ?? '',
    body,
    { ...envelope.properties, headers: envelope.headers, mandatory: true },
    onConfirm,
  );
};

const decoder = new StringDecoder('utf8');
let carry = '';
for await (const chunk of process.stdin) {
  const text = carry + decoder.write(chunk);
  let start = 0;
  let newline = text.indexOf('\n');
  let full = false;
  while (newline !== -1) {
    if (newline > start && !publishLine(text.slice(start, newline))) full = true;
    start = newline + 1;
    newline = text.indexOf('\n', start);
  }
  carry = text.slice(start);
  // Either the socket buffer is full (wait for drain) or too much is unconfirmed.
  while (full || published - settled >= window) {
    full = false;
    await pause();
  }
}
carry += decoder.end();
if (carry.length > 0) publishLine(carry);
await channel.waitForConfirms().catch(() => {});
await connection.close();

const elapsed = performance.now() - started;
const confirmed = settled - nacked - returned;
process.stderr.write(
  `baseline: published ${published}, confirmed ${confirmed}, returned ${returned}, nacked ${nacked} in ${Math.round(elapsed)}ms\n`,
);
process.exitCode = returned + nacked > 0 || confirmed !== published ? 4 : 0;
