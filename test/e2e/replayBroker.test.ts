/**
 * `warren replay --from-queue` (dead-letter re-drive) and `--from-stream` end to end,
 * against the real broker: exit codes, what stdout and stderr say, and above all what is
 * left in which queue afterwards, counted and compared id by id.
 */
import type { ChildProcess } from 'node:child_process';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker } from '../helpers/broker.js';
import { type BulkMessage, publishMany, takeAllFast } from '../helpers/bulk.js';
import { collect, ndjson, runWarren, startWarren } from '../helpers/cli.js';
import { forceCloseConnectionOf } from '../helpers/rabbitmqctl.js';
import { hasStackTrace } from '../helpers/spawn.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterAll(async () => {
  await broker?.cleanup();
});

const ORIGIN_KEY = 'order.created';

/** Headers of every kind a message may carry, for the "unchanged" comparison. */
function headersOf(i: number): Record<string, unknown> {
  return {
    'x-tenant': 'acme',
    n: i,
    negative: -7,
    big: 2 ** 40,
    ratio: 1.5,
    flag: true,
    nested: { a: 'b', depth: { c: 1 } },
    list: ['one', 2, false],
    raw: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
  };
}

/** The properties each message is published with (besides its headers). */
function propertiesOf(prefix: string, i: number): amqp.Options.Publish {
  return {
    messageId: `${prefix}-${i}`,
    correlationId: `corr-${i}`,
    contentType: 'application/json',
    contentEncoding: 'identity',
    type: 'order.created',
    appId: 'replay-test',
    replyTo: 'somewhere',
    priority: 3,
    deliveryMode: 2,
    timestamp: 1795770000 + i,
  };
}

function bodyOf(prefix: string, i: number): Buffer {
  return Buffer.from(JSON.stringify({ id: `${prefix}-${i}`, i }));
}

function originals(prefix: string, count: number, from = 1): BulkMessage[] {
  return Array.from({ length: count }, (_, index) => {
    const i = from + index;
    return { body: bodyOf(prefix, i), options: { ...propertiesOf(prefix, i), headers: headersOf(i) } };
  });
}

const ids = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${from + i}`);
const idsOf = (messages: amqp.Message[]) => messages.map((m) => m.properties.messageId as string);

/** The headers the broker adds when it dead-letters a message. */
const BROKER_HEADERS = /^x-(death|first-death-|last-death-)/;

interface DeadLetterSetup {
  exchange: string;
  work: string;
  dlq: string;
}

/**
 * A topic exchange E, a work queue W bound to it with `order.*` that dead-letters to D via
 * the default exchange, and D itself (classic, or of the type `dlqOptions` says).
 */
async function deadLetterSetup(prefix: string, dlqOptions: amqp.Options.AssertQueue = {}) {
  const exchange = await broker.exchange(`${prefix}-e`, 'topic');
  const dlq = await broker.queue(`${prefix}-dlq`, dlqOptions);
  const work = await broker.queue(`${prefix}-work`, {
    arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq },
  });
  await broker.channel.bindQueue(work, exchange, 'order.*');
  return { exchange, work, dlq } satisfies DeadLetterSetup;
}

/** Takes `count` messages from `queue` and rejects them (requeue=false): they die to its DLX. */
async function rejectAll(queue: string, count: number): Promise<void> {
  const channel = await broker.connection.createChannel();
  try {
    await channel.prefetch(1000);
    let seen = 0;
    await new Promise<void>((resolve, reject) => {
      channel.on('error', reject);
      channel
        .consume(queue, (message) => {
          if (message === null) return reject(new Error(`consumer on ${queue} was cancelled`));
          seen += 1;
          if (seen === count) {
            channel.nack(message, true, false);
            resolve();
          } else if (seen % 500 === 0) channel.nack(message, true, false);
        })
        .catch(reject);
    });
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Publishes `messages` to E with `order.created` and dead-letters them all into D. */
async function deadLetter(setup: DeadLetterSetup, messages: BulkMessage[]): Promise<void> {
  const before = await broker.messageCount(setup.dlq);
  await publishMany(broker.connection, setup.exchange, ORIGIN_KEY, messages);
  await rejectAll(setup.work, messages.length);
  await eventually(async () => (await broker.messageCount(setup.dlq)) === before + messages.length);
  expect(await broker.messageCount(setup.work)).toBe(0);
}

/** A dead-letter set-up whose D holds `count` dead-lettered messages `m-1`…`m-count`. */
async function filledDlq(prefix: string, count: number, dlqOptions: amqp.Options.AssertQueue = {}) {
  const setup = await deadLetterSetup(prefix, dlqOptions);
  await deadLetter(setup, originals('m', count));
  return setup;
}

/**
 * Re-drives a DLQ of `n` dead-lettered messages at 1000/s and interrupts warren once 300 of
 * them are back in the work queue.
 */
async function redriveInterrupted(
  prefix: string,
  n: number,
  interrupt: (child: ChildProcess) => Promise<void>,
  rate = '1000/s',
) {
  const setup = await filledDlq(prefix, n);
  const child = startWarren(['replay', '--from-queue', setup.dlq, '--rate', rate]);
  const done = collect(child, 60_000);
  await eventually(async () => (await broker.messageCount(setup.work)) >= 300, 10_000);
  await interrupt(child);
  return { setup, result: await done };
}

/** After an interrupted re-drive: every id is in the work queue or still in the DLQ. */
async function expectEveryIdKept(setup: DeadLetterSetup, n: number, how: string): Promise<void> {
  // Wait for the broker to give back what the dead connection held unacked.
  let last = '';
  let stableSince = Date.now();
  await eventually(async () => {
    const dlq = await broker.channel.checkQueue(setup.dlq);
    const work = await broker.messageCount(setup.work);
    const now = `${dlq.consumerCount}/${dlq.messageCount}/${work}`;
    if (now !== last) {
      last = now;
      stableSince = Date.now();
      return false;
    }
    return dlq.consumerCount === 0 && Date.now() - stableSince >= 300;
  }, 10_000);
  const work = await takeAllFast(broker.connection, setup.work);
  const dlq = await takeAllFast(broker.connection, setup.dlq);
  console.log(
    `${how} re-drive of ${n}: work queue ${work.length}, DLQ ${dlq.length}, total ${work.length + dlq.length}`,
  );
  expect(work.length, `the re-drive was under way when ${how}`).toBeGreaterThan(0);
  expect(dlq.length, `the re-drive was ${how} before it finished`).toBeGreaterThan(0);
  expect(work.length + dlq.length).toBeGreaterThanOrEqual(n);
  const present = new Set([...idsOf(work), ...idsOf(dlq)]);
  const missing = ids('m', 1, n).filter((id) => !present.has(id));
  expect(missing, 'ids lost').toEqual([]);
}

/** Polls until the queue holds exactly `count` ready messages (unacked ones may be on their way back). */
async function settlesAt(queue: string, count: number): Promise<void> {
  await eventually(async () => (await broker.messageCount(queue)) === count).catch(async () => {
    throw new Error(`queue ${queue} holds ${await broker.messageCount(queue)}, expected ${count}`);
  });
}

describe('replay --from-queue (dead-letter re-drive)', () => {
  it('moves every message back where it was published, unchanged, and empties the DLQ', async () => {
    const n = 25;
    const setup = await filledDlq('rd-all', n);
    const result = await runWarren(['replay', '--from-queue', setup.dlq]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`published ${n}, confirmed ${n}, returned 0, nacked 0`));
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stdout.length).toBe(0);
    await settlesAt(setup.dlq, 0);
    const back = await takeAllFast(broker.connection, setup.work);
    expect(idsOf(back)).toEqual(ids('m', 1, n));
    for (const [index, message] of back.entries()) {
      const i = index + 1;
      expect(message.fields.exchange).toBe(setup.exchange);
      expect(message.fields.routingKey).toBe(ORIGIN_KEY);
      expect(message.content).toEqual(bodyOf('m', i));
      const { headers, ...properties } = message.properties;
      const expected = propertiesOf('m', i);
      for (const [key, value] of Object.entries(expected)) {
        expect(properties[key as keyof typeof properties], `properties.${key} of m-${i}`).toEqual(value);
      }
      for (const key of ['expiration', 'userId', 'clusterId'] as const) {
        expect(properties[key], `properties.${key} of m-${i}`).toBeUndefined();
      }
      const own = Object.fromEntries(
        Object.entries(headers ?? {}).filter(([key]) => !BROKER_HEADERS.test(key)),
      );
      expect(own, `headers of m-${i}`).toEqual(headersOf(i));
    }
  });

  it('leaves a message without x-death in place, warns and counts it; --exchange/--routing-key re-drive it too', async () => {
    const n = 5;
    const setup = await filledDlq('rd-nodeath', n);
    await broker.publish('', setup.dlq, 'stray', { messageId: 'stray-1' });
    const result = await runWarren(['replay', '--from-queue', setup.dlq]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/1 message has no x-death header/);
    expect(result.stderr).toMatch(new RegExp(`published ${n}, confirmed ${n}`));
    expect(result.stderr).toMatch(/1 without x-death/);
    await settlesAt(setup.dlq, 1);
    const left = await broker.drain(setup.dlq);
    expect(idsOf(left)).toEqual(['stray-1']);
    expect(idsOf(await takeAllFast(broker.connection, setup.work))).toEqual(ids('m', 1, n));

    // Put it back, and re-drive it with an explicit target.
    await broker.publish('', setup.dlq, 'stray', { messageId: 'stray-1' });
    const forced = await runWarren([
      'replay',
      '--from-queue',
      setup.dlq,
      '--exchange',
      '',
      '--routing-key',
      setup.work,
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/published 1, confirmed 1/);
    expect(forced.stderr).not.toMatch(/x-death/);
    await settlesAt(setup.dlq, 0);
    const moved = await broker.drain(setup.work);
    expect(idsOf(moved)).toEqual(['stray-1']);
    expect(moved[0]?.content.toString()).toBe('stray');
  });

  it('--to-exchange and --routing-key win over the x-death origin', async () => {
    const n = 6;
    const setup = await filledDlq('rd-override', n);
    const other = await broker.exchange('rd-override-other', 'direct');
    const elsewhere = await broker.queue('rd-override-elsewhere');
    await broker.channel.bindQueue(elsewhere, other, 'parked');
    const result = await runWarren([
      'replay',
      '--from-queue',
      setup.dlq,
      '--to-exchange',
      other,
      '--routing-key',
      'parked',
      '--count',
      '3',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/published 3, confirmed 3/);
    const parked = await takeAllFast(broker.connection, elsewhere);
    expect(idsOf(parked)).toEqual(ids('m', 1, 3));
    expect(parked.map((m) => [m.fields.exchange, m.fields.routingKey])).toEqual(
      Array(3).fill([other, 'parked']),
    );
    expect(await broker.messageCount(setup.work)).toBe(0);

    // --routing-key alone keeps the origin exchange.
    const keyOnly = await runWarren(['replay', '--from-queue', setup.dlq, '--routing-key', 'order.updated']);
    expect(keyOnly.code, keyOnly.stderr).toBe(0);
    await settlesAt(setup.dlq, 0);
    const back = await takeAllFast(broker.connection, setup.work);
    expect(idsOf(back)).toEqual(ids('m', 4, n));
    expect(back.map((m) => [m.fields.exchange, m.fields.routingKey])).toEqual(
      Array(n - 3).fill([setup.exchange, 'order.updated']),
    );
  });

  it('--dry-run prints every envelope with its origin and publishes nothing', async () => {
    const n = 8;
    const setup = await filledDlq('rd-dry', n);
    const result = await runWarren(['replay', '--from-queue', setup.dlq, '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    const records = ndjson(result.stdout);
    expect(records).toHaveLength(n);
    expect(records.map((r) => (r['properties'] as Record<string, unknown>)['messageId'])).toEqual(
      ids('m', 1, n),
    );
    for (const record of records) {
      expect(record['exchange']).toBe(setup.exchange);
      expect(record['routingKey']).toBe(ORIGIN_KEY);
    }
    expect(result.stderr).toMatch(new RegExp(`would publish ${n} messages .*published nothing`));
    await settlesAt(setup.dlq, n);
    expect(await broker.messageCount(setup.work)).toBe(0);
    expect(idsOf(await takeAllFast(broker.connection, setup.dlq))).toEqual(ids('m', 1, n));
  });

  it('--count 3 re-drives exactly 3 and the DLQ keeps the rest', async () => {
    const n = 10;
    const setup = await filledDlq('rd-count', n);
    const result = await runWarren(['replay', '--from-queue', setup.dlq, '--count', '3']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/published 3, confirmed 3/);
    await settlesAt(setup.dlq, n - 3);
    expect(idsOf(await takeAllFast(broker.connection, setup.work))).toEqual(ids('m', 1, 3));
    expect(idsOf(await takeAllFast(broker.connection, setup.dlq))).toEqual(ids('m', 4, n));
  });

  it('an origin that routes nowhere any more: exit 4, says returned, and every message stays in the DLQ', async () => {
    const n = 7;
    const setup = await filledDlq('rd-unroutable', n);
    await broker.channel.unbindQueue(setup.work, setup.exchange, 'order.*');
    const result = await runWarren(['replay', '--from-queue', setup.dlq]);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`${n} of ${n} messages not delivered; ${n} returned`));
    expect(result.stderr).toMatch(/published 7, confirmed 0, returned 7/);
    expect(hasStackTrace(result.stderr)).toBe(false);
    await settlesAt(setup.dlq, n);
    expect(await broker.messageCount(setup.work)).toBe(0);
    const left = await takeAllFast(broker.connection, setup.dlq);
    expect(new Set(idsOf(left))).toEqual(new Set(ids('m', 1, n)));
    expect(left).toHaveLength(n);
  });

  it('an origin exchange that is gone, with more messages than the window: exit 5 at once, every message stays in the DLQ', async () => {
    // 2000 > the 500 held unconfirmed when the 404 closed the publishing channel: the run
    // used to wait for ever for deliveries that window held back.
    const n = 2000;
    const setup = await filledDlq('rd-gone', n);
    await broker.channel.deleteExchange(setup.exchange);
    const result = await runWarren(['replay', '--from-queue', setup.dlq], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(5);
    expect(hasStackTrace(result.stderr)).toBe(false);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error'));
    expect(errors).toEqual([expect.stringMatching(/NOT_FOUND - no exchange/)]);
    await settlesAt(setup.dlq, n);
    const left = await takeAllFast(broker.connection, setup.dlq);
    expect(new Set(idsOf(left))).toEqual(new Set(ids('m', 1, n)));
  });

  it('SIGKILL mid-way loses nothing: every id is in the work queue or the DLQ', async () => {
    const n = 5000;
    const { setup, result } = await redriveInterrupted('rd-kill', n, async (child) => {
      child.kill('SIGKILL');
    });
    expect(result.signal).toBe('SIGKILL');
    await expectEveryIdKept(setup, n, 'killed');
  });

  it('the broker closes the connection mid-way: exit 69 in one line, nothing lost', async () => {
    const n = 5000;
    // 200/s: the re-drive would take 25 s, so the close (two rabbitmqctl runs, seconds on a
    // busy machine) always comes mid-way.
    const { setup, result } = await redriveInterrupted(
      'rd-cut',
      n,
      async (child) => {
        await forceCloseConnectionOf(child.pid as number, 'warren replay');
      },
      '200/s',
    );
    expect(result.code, result.stderr).toBe(69);
    expect(hasStackTrace(result.stderr)).toBe(false);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/lost the connection.*CONNECTION_FORCED/);
    await expectEveryIdKept(setup, n, 'cut');
  });

  it('more messages without x-death than the prefetch window: all re-drivable ones go, the rest stay', async () => {
    const setup = await deadLetterSetup('rd-window');
    // Ten rounds of 70 strays then 30 dead-lettered ones: 700 without x-death, 300 with.
    for (let round = 0; round < 10; round += 1) {
      const strays = Array.from({ length: 70 }, (_, k) => ({
        body: `stray ${round * 70 + k + 1}`,
        options: { messageId: `s-${round * 70 + k + 1}` },
      }));
      await publishMany(broker.connection, '', setup.dlq, strays);
      await deadLetter(setup, originals('m', 30, round * 30 + 1));
    }
    expect(await broker.messageCount(setup.dlq)).toBe(1000);
    const result = await runWarren(['replay', '--from-queue', setup.dlq], { timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/published 300, confirmed 300/);
    expect(result.stderr).toMatch(/700 without x-death/);
    expect(result.stderr).toMatch(/700 messages have no x-death header/);
    await settlesAt(setup.dlq, 700);
    expect(idsOf(await takeAllFast(broker.connection, setup.work))).toEqual(ids('m', 1, 300));
    const left = idsOf(await takeAllFast(broker.connection, setup.dlq));
    expect(left).toHaveLength(700);
    expect(new Set(left)).toEqual(new Set(ids('s', 1, 700)));
  });

  it('re-drives a quorum DLQ', async () => {
    const n = 20;
    const setup = await filledDlq('rd-quorum', n, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const result = await runWarren(['replay', '--from-queue', setup.dlq]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`published ${n}, confirmed ${n}`));
    await settlesAt(setup.dlq, 0);
    expect(idsOf(await takeAllFast(broker.connection, setup.work))).toEqual(ids('m', 1, n));
  });

  it('a queue that does not exist: exit 5, naming it', async () => {
    const missing = `warren-test.no-such-dlq.${process.pid}.${Date.now()}`;
    const result = await runWarren(['replay', '--from-queue', missing]);
    expect(result.code).toBe(5);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toMatch(/does not exist/);
    expect(hasStackTrace(result.stderr)).toBe(false);
  });
});

/** Every message now in a stream, read from its first offset (streams report no count). */
async function readStream(queue: string): Promise<amqp.ConsumeMessage[]> {
  const channel = await broker.connection.createChannel();
  try {
    await channel.prefetch(1000);
    const messages: amqp.ConsumeMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      let idle = setTimeout(resolve, 1000);
      channel.on('error', reject);
      channel
        .consume(
          queue,
          (message) => {
            if (message === null) return reject(new Error(`consumer on ${queue} was cancelled`));
            messages.push(message);
            channel.ack(message);
            clearTimeout(idle);
            idle = setTimeout(resolve, 250);
          },
          { arguments: { 'x-stream-offset': 'first' } },
        )
        .catch(reject);
    });
    return messages;
  } finally {
    await channel.close().catch(() => {});
  }
}

/** A fresh stream holding bodies '0'…'count-1', so a body is its offset. */
async function filledStream(prefix: string, count = 100): Promise<string> {
  const stream = await broker.queue(prefix, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  await publishMany(
    broker.connection,
    '',
    stream,
    Array.from({ length: count }, (_, i) => ({ body: String(i) })),
  );
  return stream;
}

/**
 * Starts `replay --from-stream STREAM --offset next` and waits until it reads the stream: the
 * probes that find the stream's end consume with prefetch 1, the replay itself with a wider
 * window; only once that consumer is attached does "next" mean "from now on".
 */
async function replayingNext(stream: string, flags: string[]): Promise<{ done: ReturnType<typeof collect> }> {
  const child = startWarren(['-v', 'replay', '--from-stream', stream, '--offset', 'next', ...flags]);
  const done = collect(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await eventually(async () => /consuming from '[^']+' as \S+ \(prefetch (?!1\))\d+\)/.test(stderr), 10_000);
  // Wrapped: an async function would otherwise wait for the run to end.
  return { done };
}

const bodies = (messages: amqp.Message[]) => messages.map((m) => m.content.toString());
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => String(from + i));

describe('replay --from-stream', () => {
  let stream: string;
  beforeAll(async () => {
    stream = await filledStream('rs-shared');
    expect(bodies(await readStream(stream))).toEqual(range(0, 100));
  });

  it('--offset 10 --until 20 publishes exactly 10..19, in order, with receipts naming the offsets', async () => {
    const out = await broker.queue('rs-out');
    const result = await runWarren([
      'replay',
      '--from-stream',
      stream,
      '--offset',
      '10',
      '--until',
      '20',
      '--exchange',
      '',
      '--routing-key',
      out,
      '--receipts',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const receipts = ndjson(result.stdout);
    expect(receipts.map((r) => r['line'])).toEqual(range(10, 20).map(Number));
    expect(receipts.every((r) => r['status'] === 'confirmed')).toBe(true);
    expect(result.stderr).toMatch(/published 10, confirmed 10/);
    expect(bodies(await takeAllFast(broker.connection, out))).toEqual(range(10, 20));
  });

  it('--offset first replays all that was there at the start and stops by itself; --offset 95 the tail', async () => {
    const out = await broker.queue('rs-first');
    const all = await runWarren([
      'replay',
      '--from-stream',
      stream,
      '--offset',
      'first',
      '-e',
      '',
      '-k',
      out,
    ]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toMatch(/published 100, confirmed 100/);
    expect(bodies(await takeAllFast(broker.connection, out))).toEqual(range(0, 100));

    const tail = await runWarren(['replay', '--from-stream', stream, '--offset', '95', '-e', '', '-k', out]);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stderr).toMatch(/published 5, confirmed 5/);
    expect(bodies(await takeAllFast(broker.connection, out))).toEqual(range(95, 100));
  });

  it.each([
    ['a time still to come', ['--offset', '2099-01-01T00:00:00Z']],
    ['an offset past --until', ['--offset', '50', '--until', '20']],
    ['a time to come, with --until', ['--offset', '2099-01-01T00:00:00Z', '--until', '20']],
  ])('a start beyond the range (%s): 0 messages, exit 0, at once', async (_, flags) => {
    const out = await broker.queue('rs-beyond');
    const result = await runWarren(['replay', '--from-stream', stream, ...flags, '-e', '', '-k', out], {
      timeoutMs: 20_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/published 0, confirmed 0/);
    expect(await broker.messageCount(out)).toBe(0);
  });

  it('--offset next --count 2 replays what is published after it started', async () => {
    const own = await filledStream('rs-next', 10);
    const out = await broker.queue('rs-next-out');
    const { done } = await replayingNext(own, ['--count', '2', '-e', '', '-k', out]);
    await publishMany(broker.connection, '', own, [{ body: 'new-1' }, { body: 'new-2' }]);
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/published 2, confirmed 2/);
    expect(bodies(await takeAllFast(broker.connection, out))).toEqual(['new-1', 'new-2']);
  });

  it('a stream deleted while the replay waits for it: exit 5, in the words consume uses', async () => {
    const own = await filledStream('rs-deleted', 1);
    const { done } = await replayingNext(own, ['-e', '', '-k', own]);
    await broker.channel.deleteQueue(own);
    const result = await done;
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toContain(`the broker cancelled the consumer on '${own}' (queue deleted?)`);
    expect(hasStackTrace(result.stderr)).toBe(false);
  });

  it('replaying into the exchange that feeds the stream does not loop', async () => {
    const fanout = await broker.exchange('rs-loop-f', 'fanout');
    const looped = await broker.queue('rs-loop', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    await broker.channel.bindQueue(looped, fanout, '');
    await publishMany(
      broker.connection,
      fanout,
      'loop.key',
      Array.from({ length: 20 }, (_, i) => ({ body: `l${i}` })),
    );
    const result = await runWarren(['replay', '--from-stream', looped, '--offset', 'first'], {
      timeoutMs: 15_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/published 20, confirmed 20/);
    const held = await readStream(looped);
    expect(held).toHaveLength(40);
    const expected = Array.from({ length: 20 }, (_, i) => `l${i}`);
    expect(bodies(held)).toEqual([...expected, ...expected]);
    expect(
      held.slice(20).every((m) => m.fields.exchange === fanout && m.fields.routingKey === 'loop.key'),
    ).toBe(true);
  });

  it('a classic queue is refused (exit 5, not a stream) and keeps all its messages', async () => {
    const classic = await broker.queue('rs-classic');
    await publishMany(
      broker.connection,
      '',
      classic,
      Array.from({ length: 5 }, (_, i) => ({ body: `c${i}`, options: { messageId: `c-${i}` } })),
    );
    const out = await broker.queue('rs-classic-out');
    const result = await runWarren(['replay', '--from-stream', classic, '-e', '', '-k', out]);
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/not a stream/);
    expect(hasStackTrace(result.stderr)).toBe(false);
    await settlesAt(classic, 5);
    expect(await broker.messageCount(out)).toBe(0);
    expect(idsOf(await takeAllFast(broker.connection, classic))).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4']);
  });

  it('--dry-run prints the envelopes without x-stream-offset and publishes nothing', async () => {
    const result = await runWarren([
      'replay',
      '--from-stream',
      stream,
      '--offset',
      '40',
      '--until',
      '45',
      '--dry-run',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const records = ndjson(result.stdout);
    expect(records.map((r) => r['body'])).toEqual(range(40, 45));
    for (const record of records) {
      // No override: back to where it was published, the default exchange and the stream.
      expect(record['exchange']).toBe('');
      expect(record['routingKey']).toBe(stream);
      const headers = record['headers'] as Record<string, unknown> | undefined;
      expect(headers?.['x-stream-offset']).toBeUndefined();
    }
    expect(result.stderr).toMatch(/would publish 5 messages .*published nothing/);
    expect(bodies(await readStream(stream))).toEqual(range(0, 100));
  });
});

describe('replay --from-queue of a stream queue', () => {
  it('is refused (exit 5), pointing at --from-stream, even while its count reads 0', async () => {
    // Its passive declare may count 0: the replay ended at once, "published 0", exit 0.
    const stream = await broker.queue('rq-stream', {
      durable: true,
      arguments: { 'x-queue-type': 'stream' },
    });
    await broker.publish('', stream, 's0');
    const result = await runWarren([
      'replay',
      '--from-queue',
      stream,
      '--exchange',
      '',
      '--routing-key',
      stream,
    ]);
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(
      /is a stream queue: .* nothing can be taken from it\n.*warren replay --from-stream/,
    );
    const dryRun = await runWarren(['replay', '--from-queue', stream, '--dry-run']);
    expect(dryRun.code, dryRun.stderr).toBe(5);
    expect(dryRun.stdout.length).toBe(0);
    expect(dryRun.stderr).toMatch(/is a stream queue: .* nothing can be taken from it\n/);
  });
});
