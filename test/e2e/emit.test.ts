/**
 * `warren consume QUEUE --exec CMD --emit EXCHANGE[:KEY]` end to end: what a handler writes
 * on stdout is published as events (raw: one event; --emit-format ndjson: one envelope per
 * line), stamped with the input's id, and the input is acked only once every event is
 * confirmed. Each test looks at what ended up in which queue: the events, byte for byte,
 * and the inputs (gone, dead-lettered or still queued).
 */

import { createHash, randomBytes } from 'node:crypto';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execPrefetch } from '../../src/exec/heldDeliveries.js';
import { connectTestBroker, eventually, expiring, type TestBroker, uniqueName } from '../helpers/broker.js';
import { numbered, publishMany, takeAllFast } from '../helpers/bulk.js';
import { collect, type RunResult, runWarren, startWarren } from '../helpers/cli.js';
import { cuttingProxy } from '../helpers/cuttingProxy.js';
import { deadLettered, errors, expectClean, expectUsageErrors, warnings } from '../helpers/execRuns.js';
import { forceCloseNextConnectionOf } from '../helpers/rabbitmqctl.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterAll(async () => {
  await broker?.cleanup();
});

const sha256 = (body: Buffer | string) => `sha256:${createHash('sha256').update(body).digest('hex')}`;
const header = (message: amqp.Message, name: string) =>
  (message.properties.headers as Record<string, unknown> | undefined)?.[name];
const causation = (message: amqp.Message) => header(message, 'x-warren-causation-id');
const idsOf = (messages: amqp.Message[]) => messages.map((m) => m.properties.messageId as string);
const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);

/** A queue holding these messages (body, and amqplib options: messageId and so on). */
async function inputQueue(
  prefix: string,
  messages: { body: Buffer | string; options?: amqp.Options.Publish }[],
) {
  const queue = await broker.queue(prefix);
  await publishMany(broker.connection, '', queue, messages);
  return queue;
}

const withDeadLetters = (prefix: string) => deadLettered(broker, prefix);

/**
 * `count` numbered inputs (`prefix`-1…) in a work queue with a DLQ, handled by `command`
 * emitting to a queue of their own with --on-failure reject: what went where.
 */
async function rejectingRun(name: string, prefix: string, count: number, command: string, ...more: string[]) {
  const out = await broker.queue(`${name}-out`);
  const { work, dlq } = await withDeadLetters(name);
  await publishMany(broker.connection, '', work, numbered(prefix, count));
  const result = await handled(
    work,
    command,
    ...more,
    '--emit',
    `:${out}`,
    '--on-failure',
    'reject',
    '--count',
    String(count),
  );
  return { result, out, work, dlq };
}

/** A topic exchange with a queue bound to `pattern`: where events go. */
async function topicWithQueue(prefix: string, pattern: string) {
  const exchange = await broker.exchange(prefix, 'topic');
  const queue = await broker.queue(`${prefix}-q`);
  await broker.channel.bindQueue(queue, exchange, pattern);
  return { exchange, queue };
}

const consume = (queue: string, command: string, ...more: string[]) =>
  runWarren(['consume', queue, '--exec', command, ...more]);

/** `consume QUEUE` with a handler whose event is its input's message id, to the queue `out`. */
const shippingIds = (queue: string, out: string, ...more: string[]) => [
  'consume',
  queue,
  '--exec',
  'printf "%s" "$WARREN_MESSAGE_ID"',
  '--emit',
  `:${out}`,
  ...more,
];

/** `consume` that must end well: exit 0, nothing on stdout, no crash. */
async function handled(queue: string, command: string, ...more: string[]): Promise<RunResult> {
  const result = await consume(queue, command, ...more);
  expect(result.code, result.stderr).toBe(0);
  expectClean(result);
  return result;
}

describe.concurrent('consume --exec --emit', () => {
  describe('raw: all of stdout is one event', () => {
    it('to EXCHANGE:KEY (a topic exchange bound to a queue): one event per input, stamped, then the input is acked', async () => {
      const { exchange, queue: shipments } = await topicWithQueue('emit-raw-topic', 'order.*');
      const orders = await inputQueue('emit-raw-orders', numbered('o', 5));
      const result = await handled(
        orders,
        'printf "shipped:"; cat',
        '--emit',
        `${exchange}:order.shipped`,
        '--count',
        '5',
      );
      expect(warnings(result.stderr)).toEqual([]);
      expect(result.stderr).toMatch(
        new RegExp(`handled 5 messages from '${orders}': 5 acked, 5 events emitted in `),
      );
      expect(await broker.messageCount(orders)).toBe(0);
      const events = await broker.drain(shipments);
      expect(events.map((e) => e.content.toString())).toEqual(
        [1, 2, 3, 4, 5].map((i) => `shipped:{"i":${i}}`),
      );
      for (const [index, event] of events.entries()) {
        expect(event.fields.exchange).toBe(exchange);
        expect(event.fields.routingKey).toBe('order.shipped');
        expect(event.properties.correlationId).toBe(`o-${index + 1}`);
        expect(causation(event)).toBe(`o-${index + 1}`);
        // Kept across a broker restart, as publish's messages are.
        expect(event.properties.deliveryMode).toBe(2);
      }
    });

    it('to :QUEUE (the default exchange): the event lands in QUEUE', async () => {
      const shipments = await broker.queue('emit-raw-default-out');
      const orders = await inputQueue('emit-raw-default', [{ body: 'one', options: { messageId: 'd-1' } }]);
      const result = await handled(orders, 'tr a-z A-Z', '--emit', `:${shipments}`, '--count', '1');
      expect(result.stderr).toMatch(/1 acked, 1 event emitted in /);
      const events = await broker.drain(shipments);
      expect(events.map((e) => [e.fields.exchange, e.fields.routingKey, e.content.toString()])).toEqual([
        ['', shipments, 'ONE'],
      ]);
      expect(await broker.messageCount(orders)).toBe(0);
    });

    it('--emit :QUEUE:WITH:COLONS: up to the first colon is the exchange, the rest is the key', async () => {
      const shipments = `${uniqueName('emit-colon')}:with:colons`;
      await broker.channel.assertQueue(shipments, expiring({ durable: false }));
      try {
        const orders = await inputQueue('emit-colon-in', [{ body: 'x', options: { messageId: 'k-1' } }]);
        await handled(orders, 'cat', '--emit', `:${shipments}`, '--count', '1');
        expect((await broker.drain(shipments)).map((e) => e.fields.routingKey)).toEqual([shipments]);
      } finally {
        await broker.channel.deleteQueue(shipments);
      }
    });

    it('an empty stdout emits nothing, and the input is acked', async () => {
      const shipments = await broker.queue('emit-empty-out');
      const orders = await inputQueue('emit-empty', numbered('e', 3));
      const result = await handled(orders, 'cat > /dev/null', '--emit', `:${shipments}`, '--count', '3');
      expect(warnings(result.stderr)).toEqual([]);
      expect(result.stderr).toMatch(/handled 3 messages from '.*': 3 acked, 0 events emitted in /);
      expect(await broker.messageCount(orders)).toBe(0);
      expect(await broker.messageCount(shipments)).toBe(0);
    });

    it('binary bodies and odd unicode pass byte for byte, trailing newlines and all', async () => {
      const shipments = await broker.queue('emit-bytes-out');
      const bodies = [
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x80, 0xc3]),
        Buffer.from('line one\r\nline two\n\n', 'utf8'),
        Buffer.from('\ufeffbom, e\u0301, \u2028\u2029, 😀, \u202eevil, \u0000 nul', 'utf8'),
        randomBytes(100_000),
      ];
      const orders = await inputQueue(
        'emit-bytes',
        bodies.map((body, i) => ({ body, options: { messageId: `b-${i + 1}` } })),
      );
      await handled(orders, 'cat', '--emit', `:${shipments}`, '--count', String(bodies.length));
      const events = await broker.drain(shipments);
      expect(events).toHaveLength(bodies.length);
      for (const [i, event] of events.entries()) {
        expect(event.content.equals(bodies[i] as Buffer), `body ${i + 1}`).toBe(true);
        expect(causation(event)).toBe(`b-${i + 1}`);
      }
    });
  });

  describe('ndjson: one envelope per line', () => {
    it('each line may name its exchange, key, properties, headers and a base64 body; --emit gives the defaults', async () => {
      const { exchange, queue: topicQueue } = await topicWithQueue('emit-nd-topic', 'ship.#');
      const fallback = await broker.queue('emit-nd-default');
      const other = await broker.queue('emit-nd-other');
      const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0a, 0x0d]);
      const handlerLines = [
        // All defaults: --emit's exchange and key.
        { body: 'plain' },
        // Its own key on the default exchange.
        { routingKey: 'ship.express', body: 'express' },
        // Its own exchange (the default one) and key, properties and headers, a binary body.
        {
          exchange: '',
          routingKey: other,
          properties: { contentType: 'application/octet-stream', type: 'parcel', messageId: 'p-9' },
          headers: { weight: 12, fragile: true, label: 'b\u00e9b\u00e9 😀' },
          body: binary.toString('base64'),
          bodyEncoding: 'base64',
        },
        // A transient event, as the line asks.
        { routingKey: 'ship.slow', properties: { deliveryMode: 1 }, body: 'odd \u2028 text \ud83d\ude00' },
      ];
      // Blank lines (and CRLF endings) are no events.
      const stdout = `${handlerLines.map((line) => JSON.stringify(line)).join('\r\n')}\n\n`;
      const orders = await inputQueue('emit-nd', [{ body: stdout, options: { messageId: 'n-1' } }]);
      // The handler prints its input: the test's lines, byte for byte.
      const result = await handled(
        orders,
        'cat',
        '--emit-format',
        'ndjson',
        '--emit',
        `${exchange}:ship.standard`,
        '--count',
        '1',
      );
      expect(warnings(result.stderr)).toEqual([]);
      expect(result.stderr).toMatch(/1 acked, 4 events emitted in /);
      expect(await broker.messageCount(fallback)).toBe(0);

      const viaTopic = await broker.drain(topicQueue);
      expect(viaTopic.map((e) => [e.fields.exchange, e.fields.routingKey, e.content.toString()])).toEqual([
        [exchange, 'ship.standard', 'plain'],
        [exchange, 'ship.express', 'express'],
        [exchange, 'ship.slow', 'odd \u2028 text 😀'],
      ]);
      expect(viaTopic.map((e) => e.properties.deliveryMode)).toEqual([2, 2, 1]);
      const [parcel, ...rest] = await broker.drain(other);
      expect(rest).toEqual([]);
      expect(parcel?.content.equals(binary)).toBe(true);
      expect(parcel?.properties).toMatchObject({
        contentType: 'application/octet-stream',
        type: 'parcel',
        messageId: 'p-9',
        deliveryMode: 2,
        correlationId: 'n-1',
      });
      expect(parcel?.properties.headers).toEqual({
        weight: 12,
        fragile: true,
        label: 'b\u00e9b\u00e9 😀',
        'x-warren-causation-id': 'n-1',
      });
      for (const event of viaTopic) expect(causation(event)).toBe('n-1');
    });

    it('--emit-format ndjson alone: the default exchange, each line naming its queue', async () => {
      const out = await broker.queue('emit-nd-alone-out');
      const orders = await inputQueue('emit-nd-alone', [
        { body: JSON.stringify({ routingKey: out, body: 'hello' }), options: { messageId: 'a-1' } },
      ]);
      await handled(orders, 'cat', '--emit-format', 'ndjson', '--count', '1');
      expect((await broker.drain(out)).map((e) => e.content.toString())).toEqual(['hello']);
    });
  });

  describe('the input names the events', () => {
    it("correlationId is the input's message id, unless the event sets one; the causation header is the input's id", async () => {
      const out = await broker.queue('emit-corr-out');
      const lines = [
        // A line cannot name another cause: warren sets the header.
        JSON.stringify({
          body: 'mine',
          properties: { correlationId: 'set-by-handler' },
          headers: { 'x-warren-causation-id': 'forged' },
        }),
        JSON.stringify({ body: 'stamped' }),
      ].join('\n');
      const orders = await inputQueue('emit-corr', [
        { body: lines, options: { messageId: 'c-1', correlationId: 'input-corr' } },
      ]);
      await handled(orders, 'cat', '--emit-format', 'ndjson', '--emit', `:${out}`, '--count', '1');
      const events = await broker.drain(out);
      expect(events.map((e) => [e.content.toString(), e.properties.correlationId, causation(e)])).toEqual([
        ['mine', 'set-by-handler', 'c-1'],
        ['stamped', 'c-1', 'c-1'],
      ]);
    });

    it('an input without a message id: the causation header is sha256:<hex> of its body (a redelivery has the same)', async () => {
      const out = await broker.queue('emit-hash-out');
      const bodies = ['first order', Buffer.from([0, 0xff, 0x10])];
      const orders = await inputQueue('emit-hash', [
        { body: bodies[0] as string },
        { body: bodies[1] as Buffer, options: { correlationId: 'its-corr' } },
      ]);
      await handled(orders, 'echo shipped', '--emit', `:${out}`, '--count', '2');
      const events = await broker.drain(out);
      expect(events.map(causation)).toEqual(bodies.map(sha256));
      // Without a message id, the input's own correlation id is passed on, if it has one.
      expect(events.map((e) => e.properties.correlationId)).toEqual([undefined, 'its-corr']);
    });
  });

  describe('what fails the input', () => {
    it('a failing handler (exit 1) emits nothing, whatever it printed; its input follows --on-failure', async () => {
      const { result, out, work, dlq } = await rejectingRun(
        'emit-fail',
        'f',
        3,
        'echo "half an event"; [ "$WARREN_MESSAGE_ID" = f-2 ] || exit 1',
      );
      expect(warnings(result.stderr)).toEqual([
        'warning: message f-1: handler exit 1: rejected',
        'warning: message f-3: handler exit 1: rejected',
      ]);
      expect(result.stderr).toMatch(
        /3 messages from '.*': 1 acked, 2 rejected \(2 runs failed\), 1 event emitted in /,
      );
      const events = await broker.drain(out);
      expect(events.map((e) => [e.content.toString(), causation(e)])).toEqual([['half an event\n', 'f-2']]);
      expect((await broker.drain(dlq)).map((m) => m.properties.messageId)).toEqual(['f-1', 'f-3']);
      expect(await broker.messageCount(work)).toBe(0);
    });

    it('a failing handler with --on-failure requeue (the default): its input comes back, and what the failed try printed is not emitted', async () => {
      const out = await broker.queue('emit-failrq-out');
      const orders = await inputQueue('emit-failrq', numbered('q', 1));
      // The first try prints an event and fails; the second (redelivered) prints nothing.
      const handler = 'if [ "$WARREN_REDELIVERED" = false ]; then echo event; exit 3; fi';
      const result = await handled(orders, handler, '--emit', `:${out}`, '--count', '1');
      expect(result.code, result.stderr).toBe(0);
      expect(warnings(result.stderr)).toEqual(['warning: message q-1: handler exit 3: requeued']);
      expect(result.stderr).toMatch(
        /1 message from '.*': 1 acked \(1 requeue, 1 run failed\), 0 events emitted in /,
      );
      expect(await broker.messageCount(out)).toBe(0);
      expect(await broker.messageCount(orders)).toBe(0);
    });

    it('an unroutable event (returned: mandatory) fails its input: with --on-failure reject it is dead-lettered, the event went nowhere', async () => {
      const { exchange, queue: bound } = await topicWithQueue('emit-unroutable', 'order.shipped');
      const { work, dlq } = await withDeadLetters('emit-unroutable-in');
      await publishMany(broker.connection, '', work, numbered('u', 2));
      // u-1's event goes to a key no queue is bound to; u-2's to the bound one.
      const result = await consume(
        work,
        `printf '{"body":"x"}\\n'; [ "$WARREN_MESSAGE_ID" = u-1 ] || printf '{"routingKey":"order.shipped","body":"y"}\\n'`,
        '--emit-format',
        'ndjson',
        '--emit',
        `${exchange}:order.lost`,
        '--on-failure',
        'reject',
        '--count',
        '2',
      );
      const warned = warnings(result.stderr);
      expect(warned).toHaveLength(2);
      for (const id of ['u-1', 'u-2']) {
        expect(warned.find((w) => w.includes(`message ${id}:`))).toMatch(
          new RegExp(
            `^warning: message ${id}: handler succeeded, but an event to '${exchange}' with key 'order.lost' was returned \\(312 NO_ROUTE\\): rejected$`,
          ),
        );
      }
      expect((await broker.drain(dlq)).map((m) => m.properties.messageId).sort()).toEqual(['u-1', 'u-2']);
      expect(await broker.messageCount(work)).toBe(0);
      // u-2's other event was routable and is there: an event once confirmed cannot be taken back.
      expect((await broker.drain(bound)).map((e) => [e.content.toString(), causation(e)])).toEqual([
        ['y', 'u-2'],
      ]);
      expect(result.stderr).toMatch(
        /2 messages from '.*': 0 acked, 2 rejected \(2 runs failed\), 1 event emitted in /,
      );
    });

    it('--max-retries 1 with an event that never routes: tried twice, then dead-lettered; nothing emitted', async () => {
      const { exchange } = await topicWithQueue('emit-retry', 'order.shipped');
      const { work, dlq } = await withDeadLetters('emit-retry-in');
      await publishMany(broker.connection, '', work, numbered('r', 1));
      const result = await handled(
        work,
        'echo event',
        '--emit',
        `${exchange}:order.lost`,
        '--max-retries',
        '1',
        '--count',
        '1',
      );
      const returned = `handler succeeded, but an event to '${exchange}' with key 'order.lost' was returned (312 NO_ROUTE)`;
      expect(warnings(result.stderr)).toEqual([
        `warning: message r-1: ${returned}: retried`,
        `warning: message r-1: ${returned}; gave up after 1 retry: rejected`,
      ]);
      const dead = await broker.drain(dlq);
      expect(idsOf(dead)).toEqual(['r-1']);
      expect(header(dead[0] as amqp.Message, 'x-warren-retries')).toBe(1);
      expect(result.stderr).toMatch(/, 0 events emitted in /);
      expect(await broker.messageCount(work)).toBe(0);
    });

    it('output that is not an envelope fails the input, with a warning naming the line', async () => {
      const { result, out, dlq } = await rejectingRun(
        'emit-garbage',
        'g',
        1,
        `printf '{"body":"fine"}\\nnot json at all\\n'`,
        '--emit-format',
        'ndjson',
      );
      const warned = warnings(result.stderr);
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatch(
        /^warning: message g-1: handler succeeded, but its output line 2 is not an event: invalid JSON.*: rejected$/,
      );
      // Not even the good first line went out: the output is taken whole or not at all.
      expect(await broker.messageCount(out)).toBe(0);
      expect((await broker.drain(dlq)).map((m) => m.properties.messageId)).toEqual(['g-1']);
    });

    it.each([
      ['without end', 'yes shipped'],
      // The shell is gone at once; what it left behind writes on: it must be killed too.
      ['from a process left behind', 'yes shipped & exit 0'],
    ])(
      'a handler writing more than 128 MiB (%s) is killed, its input failed, nothing emitted',
      async (_how, command) => {
        // Its output is kept in memory until it ends: the cap is RabbitMQ's default largest message.
        const { result, out, dlq } = await rejectingRun('emit-huge', 'h', 1, command);
        expect(warnings(result.stderr)).toEqual([
          'warning: message h-1: handler wrote over 128 MiB on stdout, more than a message may hold: killed: rejected',
        ]);
        expect(result.stderr).toMatch(
          /1 message from '.*': 0 acked, 1 rejected \(1 run failed\), 0 events emitted in /,
        );
        expect(await broker.messageCount(out)).toBe(0);
        expect((await broker.drain(dlq)).map((m) => m.properties.messageId)).toEqual(['h-1']);
      },
    );

    it('an ndjson line with an unknown field, or bytes that are not UTF-8, fails the input naming the line', async () => {
      const out = await broker.queue('emit-badline-out');
      const { work, dlq } = await withDeadLetters('emit-badline');
      await publishMany(broker.connection, '', work, [
        { body: '{"body":"a","colour":"red"}', options: { messageId: 'x-1' } },
        {
          body: Buffer.from([0x7b, 0x22, 0x62, 0x6f, 0x64, 0x79, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
          options: { messageId: 'x-2' },
        },
      ]);
      const result = await handled(
        work,
        'cat',
        '--emit-format',
        'ndjson',
        '--emit',
        `:${out}`,
        '--on-failure',
        'reject',
        '--count',
        '2',
      );
      expect(warnings(result.stderr)).toEqual([
        'warning: message x-1: handler succeeded, but its output line 1 is not an event: unknown field "colour": rejected',
        expect.stringMatching(
          /^warning: message x-2: handler succeeded, but its output line 1 is not an event: not valid UTF-8 .*: rejected$/,
        ),
      ]);
      expect(await broker.messageCount(out)).toBe(0);
      expect((await broker.drain(dlq)).map((m) => m.properties.messageId)).toEqual(['x-1', 'x-2']);
    });
  });

  it('--concurrency 4: every input emits its events, each event names its own input', async () => {
    const out = await broker.queue('emit-conc-out');
    const orders = await inputQueue('emit-conc', numbered('p', 40));
    const result = await handled(
      orders,
      // Two events per input, on separate lines, each naming the input it came from.
      'printf \'{"body":"%s/1"}\\n{"body":"%s/2"}\\n\' "$WARREN_MESSAGE_ID" "$WARREN_MESSAGE_ID"',
      '--emit-format',
      'ndjson',
      '--emit',
      `:${out}`,
      '--concurrency',
      '4',
      '--count',
      '40',
    );
    expect(warnings(result.stderr)).toEqual([]);
    expect(result.stderr).toMatch(/handled 40 messages from '.*': 40 acked, 80 events emitted in /);
    const events = await takeAllFast(broker.connection, out);
    expect(events).toHaveLength(80);
    for (const event of events) {
      const [input] = event.content.toString().split('/');
      expect(causation(event)).toBe(input);
      expect(event.properties.correlationId).toBe(input);
    }
    const bodies = events.map((e) => e.content.toString()).sort();
    const expected = Array.from({ length: 40 }, (_, i) => [`p-${i + 1}/1`, `p-${i + 1}/2`])
      .flat()
      .sort();
    expect(bodies).toEqual(expected);
    expect(await broker.messageCount(orders)).toBe(0);
  });

  describe('stopping and losing the connection', () => {
    it('SIGTERM mid-run: each input is either acked with its event or back in the queue, never both, never neither', async () => {
      const out = await broker.queue('emit-term-out');
      const total = 60;
      const orders = await inputQueue('emit-term', numbered('t', total));
      const child = startWarren([
        'consume',
        orders,
        '--exec',
        'sleep 0.1; printf "%s" "$WARREN_MESSAGE_ID"',
        '--emit',
        `:${out}`,
        '--concurrency',
        '4',
      ]);
      const done = collect(child, 60_000);
      await eventually(async () => (await broker.messageCount(out)) >= 5);
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(143);
      expectClean(result);
      const emitted = (await broker.drain(out)).map((e) => e.content.toString());
      const queued = idsOf(await broker.drain(orders));
      expect(
        emitted.filter((id) => queued.includes(id)),
        'emitted and still queued',
      ).toEqual([]);
      expect(new Set(emitted).size, 'emitted twice').toBe(emitted.length);
      expect([...emitted, ...queued].sort()).toEqual(ids('t', total).sort());
      expect(result.stderr).toMatch(
        new RegExp(
          `handled ${emitted.length} messages from '.*': ${emitted.length} acked, ${emitted.length} events emitted in `,
        ),
      );
    });

    it('the connection cut 3 times mid-run: reconnects, every input has its event, duplicates at most the prefetch per cut', async () => {
      const out = await broker.queue('emit-cut-out');
      // Enough that the run is still going at the third cut, however long a cut takes.
      const total = 2000;
      const orders = await inputQueue('emit-cut', numbered('c', total));
      const child = startWarren(shippingIds(orders, out, '--concurrency', '8', '--timeout', '10s'));
      const done = collect(child, 300_000);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const reconnections = () => (stderr.match(/lost the connection.*reconnecting/g) ?? []).length;
      for (const [cut, after] of [100, 300, 500].entries()) {
        await eventually(async () => (await broker.messageCount(out)) >= after, 120_000);
        await forceCloseNextConnectionOf(child.pid as number, 'warren consume --exec');
        await eventually(async () => reconnections() > cut, 30_000).catch((error) => {
          throw new Error(`no reconnection after cut ${cut + 1}: ${stderr}`, { cause: error });
        });
      }
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(await broker.messageCount(orders)).toBe(0);
      const emitted = (await takeAllFast(broker.connection, out)).map((e) => e.content.toString());
      const missing = ids('c', total).filter((id) => !emitted.includes(id));
      expect(missing, 'inputs without their event').toEqual([]);
      // Unacked at a cut: at most the prefetch (the handlers' and those taken ahead).
      expect(emitted.length - total, 'events sent again').toBeLessThanOrEqual(3 * execPrefetch(8));
    }, 300_000);
  });

  describe('the connection lost again while a reconnection sets up', () => {
    // The first connection is cut at its first commit (a message settled); the second at a
    // step of its set-up: the run must take it as one more lost connection and go on.
    it.each([
      ['confirm.select (the events publisher)', [85, 10] as const],
      ['basic.qos (the prefetch)', [60, 10] as const],
      ['tx.select', [90, 10] as const],
      ['basic.consume', [60, 20] as const],
    ])('at %s: reconnects once more, every input has its event', async (_step, method) => {
      const proxy = await cuttingProxy([[90, 20], method]);
      try {
        const out = await broker.queue('emit-setup-cut-out');
        const orders = await inputQueue('emit-setup-cut', numbered('s', 20));
        const result = await runWarren(shippingIds(orders, out, '--timeout', '2s'), {
          env: { WARREN_URL: proxy.url },
        });
        expect(result.code, result.stderr).toBe(0);
        expectClean(result);
        expect(warnings(result.stderr).filter((w) => /reconnecting \(\d of 5\)$/.test(w))).toHaveLength(2);
        expect(proxy.connections()).toBe(3);
        expect(await broker.messageCount(orders)).toBe(0);
        const emitted = new Set((await broker.drain(out)).map((e) => e.content.toString()));
        expect(ids('s', 20).filter((id) => !emitted.has(id))).toEqual([]);
      } finally {
        await proxy.close();
      }
    });
  });

  it('the first connection lost while it sets up: exit 69 saying so (not the client library words), nothing taken', async () => {
    const proxy = await cuttingProxy([[85, 10]]);
    try {
      const out = await broker.queue('emit-first-cut-out');
      const orders = await inputQueue('emit-first-cut', numbered('f', 3));
      const result = await runWarren(
        ['consume', orders, '--exec', 'cat', '--emit', `:${out}`, '--timeout', '2s'],
        {
          env: { WARREN_URL: proxy.url },
        },
      );
      expect(result.code, result.stderr).toBe(69);
      expectClean(result);
      const errorLines = errors(result.stderr);
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toMatch(/^error: lost the connection to /);
      expect(await broker.messageCount(orders)).toBe(3);
      expect(await broker.messageCount(out)).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  describe('errors', () => {
    it('--emit to a missing exchange: exit 5 before taking anything, the queue keeps its messages', async () => {
      const orders = await inputQueue('emit-noexchange', numbered('m', 3));
      const missing = `warren-test.no-such-exchange.${process.pid}.${randomBytes(4).toString('hex')}`;
      const result = await consume(orders, 'cat', '--emit', `${missing}:k`, '--timeout', '5s');
      expect(result.code, result.stderr).toBe(5);
      expectClean(result);
      const errorLines = errors(result.stderr);
      expect(errorLines).toEqual([
        `error: --emit: there is no exchange '${missing}' to publish the events to`,
      ]);
      expect(result.stderr).toContain(`warren declare exchange ${missing}`);
      // Nothing was taken: no summary, and every message still there, never delivered.
      expect(result.stderr).not.toMatch(/handled/);
      const left = await broker.drain(orders);
      expect(left.map((m) => [m.properties.messageId, m.fields.redelivered])).toEqual([
        ['m-1', false],
        ['m-2', false],
        ['m-3', false],
      ]);
    });

    it('an ndjson line naming a missing exchange: exit 5 naming it, and the inputs go back to the queue (not counted as settled)', async () => {
      // The broker closes the publishing channel for it, which ends the run; a reject sent
      // then would be dropped, so the inputs must not be counted (nor said) rejected.
      const { work, dlq } = await withDeadLetters('emit-line-noexchange');
      await publishMany(broker.connection, '', work, numbered('l', 3));
      const missing = `warren-test.no-such-exchange.${process.pid}.${randomBytes(4).toString('hex')}`;
      const result = await consume(
        work,
        `printf '{"exchange":"${missing}","body":"x"}\\n'`,
        '--emit-format',
        'ndjson',
        '--on-failure',
        'reject',
        '--concurrency',
        '2',
        '--timeout',
        '5s',
      );
      expect(result.code, result.stderr).toBe(5);
      expectClean(result);
      const errorLines = errors(result.stderr);
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toContain(`no exchange '${missing}'`);
      expect(result.stderr).not.toMatch(/rejected/);
      expect(result.stderr).toMatch(
        /handled 0 messages from '.*': 0 acked, \d unsettled, 0 events emitted in /,
      );
      expect(await broker.messageCount(dlq)).toBe(0);
      const back = await broker.drain(work);
      expect(back.map((m) => m.properties.messageId).sort()).toEqual(['l-1', 'l-2', 'l-3']);
    });

    it('usage errors exit 2 before anything is taken', async () => {
      const orders = await inputQueue('emit-usage', numbered('z', 1));
      const cases: [string[], RegExp][] = [
        [
          ['--exec', 'cat', '--emit', 'x:y', '--reply'],
          /--reply does not go with --emit|--emit does not go with --reply/,
        ],
        [
          ['--exec', 'cat', '--emit-format', 'ndjson', '--reply'],
          /--reply does not go with --emit-format|--emit-format does not go with --reply/,
        ],
        [['--exec', 'cat', '--emit-format', 'raw'], /--emit-format raw needs --emit EXCHANGE\[:KEY\]/],
        [['--exec', 'cat', '--emit', ''], /--emit '' names no exchange and no key/],
        [['--exec', 'cat', '--emit', ':'], /--emit '' names no exchange and no key/],
        [['--exec', 'cat', '--emit', `x:${'k'.repeat(256)}`], /--emit: the routing key is over 255 bytes/],
        [['--exec', 'cat', '--emit-format', 'yaml', '--emit', 'x'], /--emit-format.*yaml/],
        [['--emit', 'x'], /--emit goes with --exec/],
        [['--emit-format', 'ndjson'], /--emit-format goes with --exec/],
      ];
      await expectUsageErrors(orders, cases);
      expect(await broker.messageCount(orders)).toBe(1);
    });
  });
});
