#!/usr/bin/env node
// A long-running warren handler in Node (no packages needed): it "ships" each order and
// answers with an order.shipped event; what is not an order is rejected.
//
//   warren consume orders --pipe 'node examples/handlers/ship.mjs' --emit shipments
//
// warren writes one JSON envelope per line on stdin, with a "seq"; the handler answers
// each with one JSON line on stdout naming that seq (docs/handlers.md, "Long-running
// handlers"). Node sends each write to the pipe at once: nothing waits in a buffer, so
// warren sees every answer as soon as it is written.
import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
for await (const line of lines) {
  if (line.trim() === '') continue;
  process.stdout.write(`${JSON.stringify(answer(JSON.parse(line)))}\n`);
}
// stdin ended: warren is stopping, and every message has been answered. Exit.

function answer(message) {
  const body = Buffer.from(message.body, message.bodyEncoding === 'base64' ? 'base64' : 'utf8');
  let order;
  try {
    order = JSON.parse(body.toString('utf8'));
  } catch {
    order = undefined;
  }
  if (typeof order !== 'object' || order === null || typeof order.id !== 'string') {
    // Bad data: another try would fail the same way. To the dead-letter queue, if any.
    return { seq: message.seq, outcome: 'reject', reason: 'not an order (no "id")' };
  }
  // ... the real shipping goes here; a passing failure would answer "retry" ...
  const shipped = { id: order.id, shippedAt: new Date().toISOString() };
  return {
    seq: message.seq,
    outcome: 'ack',
    emit: [
      {
        routingKey: 'order.shipped',
        properties: { type: 'order.shipped', contentType: 'application/json' },
        body: JSON.stringify(shipped),
      },
    ],
  };
}
