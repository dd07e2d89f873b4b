/**
 * A poison message: headers another client may send (RabbitMQ accepts them) that nest
 * deeper than warren decodes. Every reader must still deliver it, its headers kept whole as
 * the raw field table, with a warning; nothing behind it may be held up, nothing lost.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type amqp from 'amqplib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_URL, connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { collect, ndjson, type RunResult, runWarren, startWarren } from '../helpers/cli.js';
import { hostileTable, withBytes } from '../helpers/hostileTables.js';
import { publishRawFrames } from '../helpers/rawFrames.js';
import {
  encodeWireTable,
  nestedArrays,
  rawCapturingAmqplib,
  rawHeaderBytes,
  verbatimHeaders,
} from '../helpers/wire.js';

let broker: TestBroker;
let hostile: amqp.ChannelModel;
let hostileChannel: amqp.ConfirmChannel;
let scratch: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  hostile = await rawCapturingAmqplib().connect(BROKER_URL);
  hostileChannel = await hostile.createConfirmChannel();
  scratch = mkdtempSync(join(tmpdir(), 'warren-poison-'));
});

afterAll(async () => {
  await hostile?.close().catch(() => {});
  await broker?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** Headers 5,000 arrays deep (beside a plain one), as bytes: what amqplib's decoder died on. */
const POISON = encodeWireTable({
  'x-tenant': { tag: 'S', value: 'acme' },
  'x-deep': nestedArrays(5000),
});

/** Publishes the poison, then a plain message behind it, to `routingKey` on `exchange`. */
async function publishPoisonThenPlain(exchange: string, routingKey: string): Promise<void> {
  hostileChannel.publish(exchange, routingKey, Buffer.from('poison'), {
    messageId: 'poison',
    headers: verbatimHeaders(POISON),
  });
  hostileChannel.publish(exchange, routingKey, Buffer.from('plain'), { messageId: 'plain' });
  await hostileChannel.waitForConfirms();
}

async function poisonedQueue(prefix: string): Promise<string> {
  const queue = await broker.queue(prefix);
  await publishPoisonThenPlain('', queue);
  return queue;
}

/** The header bytes of every message in the queue, read without warren (and taken). */
async function headerBytesIn(queue: string): Promise<(Buffer | undefined)[]> {
  const channel = await hostile.createChannel();
  try {
    const found: (Buffer | undefined)[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) return found;
      found.push(rawHeaderBytes(message));
    }
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Starts `tail EXCHANGE --count N` and waits until its queue is bound (it says so with -v). */
async function startTail(exchange: string, count: number): Promise<{ done: Promise<RunResult> }> {
  const child = startWarren(['-v', 'tail', exchange, '--count', String(count), '--timeout', '30s']);
  const done = collect(child, 60_000);
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/through queue '/.test(stderr)) resolve();
    });
    child.on('close', () => reject(new Error(`tail ended before binding: ${stderr}`)));
  });
  // In an object: an async function returning the promise itself would wait for it.
  return { done };
}

/** `consume QUEUE --count N --timeout 20s`, and more flags. */
function consumeAll(queue: string, count: number, ...more: string[]): Promise<RunResult> {
  return runWarren(['consume', queue, '--count', String(count), '--timeout', '20s', ...more]);
}

/**
 * `consume QUEUE --count N --exec` with a handler that writes a line per message: the
 * variable `id` names (the message id), a space, WARREN_HEADERS_RAW. Gives what it wrote.
 */
async function handleAll(
  queue: string,
  count: number,
  id = 'WARREN_MESSAGE_ID',
  then = '',
  ...more: string[]
): Promise<{ result: RunResult; seen: string }> {
  const file = join(scratch, `${queue}.txt`);
  const result = await consumeAll(
    queue,
    count,
    ...more,
    '--exec',
    `printf '%s %s\\n' "$${id}" "$WARREN_HEADERS_RAW" >> '${file}'${then}`,
  );
  return { result, seen: readFileSync(file, 'utf8') };
}

const idOf = (record: Record<string, unknown>) =>
  (record['properties'] as Record<string, unknown>)['messageId'];

/** The poison's record: its headers whole as base64, a warning that names the deep header. */
function expectPoisonRecord(record: Record<string, unknown> | undefined): void {
  expect(record?.['rawHeaders']).toBe(POISON.toString('base64'));
  expect(record?.['headers']).toBeUndefined();
  expect(record?.['warning']).toMatch(/x-deep/);
  expect(record?.['body']).toBe('poison');
}

describe('a message whose headers nest 5,000 deep', () => {
  for (const ackMode of ['ack', 'requeue', 'none']) {
    it(`consume --ack-mode ${ackMode} delivers it with its headers raw, and the message behind it`, async () => {
      const queue = await poisonedQueue(`poison-${ackMode}`);
      const result = await runWarren([
        'consume',
        queue,
        '--ack-mode',
        ackMode,
        '--count',
        '2',
        '--timeout',
        '10s',
        '--format',
        'ndjson',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const records = ndjson(result.stdout);
      expect(records.map(idOf)).toEqual(['poison', 'plain']);
      expectPoisonRecord(records[0]);
      expect(records[1]?.['warning']).toBeUndefined();
      expect(await broker.messageCount(queue)).toBe(ackMode === 'requeue' ? 2 : 0);
    });
  }

  it('consume --ack-mode none --count 1 takes only the poison, and prints it', async () => {
    const queue = await poisonedQueue('poison-none-1');
    const result = await runWarren(['consume', queue, '--ack-mode', 'none', '--count', '1']);
    expect(result.code, result.stderr).toBe(0);
    const records = ndjson(result.stdout);
    expect(records).toHaveLength(1);
    expectPoisonRecord(records[0]);
    expect(await broker.messageCount(queue)).toBe(1);
  });

  it('its record, published again with publish --input ndjson, carries the very same header bytes', async () => {
    const queue = await poisonedQueue('poison-roundtrip');
    const target = await broker.queue('poison-roundtrip-target');
    const consumed = await runWarren(['consume', queue, '--count', '2', '--format', 'ndjson']);
    expect(consumed.code, consumed.stderr).toBe(0);
    const published = await runWarren(['publish', '--input', 'ndjson', '-k', target], {
      stdin: consumed.stdout,
    });
    expect(published.code, published.stderr).toBe(0);
    expect(await headerBytesIn(target)).toEqual([POISON, Buffer.alloc(0)]);
  });

  it('published again with -H, the header is replaced in the raw table and the rest kept byte for byte', async () => {
    const queue = await poisonedQueue('poison-override');
    const target = await broker.queue('poison-override-target');
    const consumed = await runWarren(['consume', queue, '--count', '1', '--format', 'ndjson']);
    const published = await runWarren(
      ['publish', '--input', 'ndjson', '-k', target, '-H', 'x-tenant=other', '-H', 'x-new:=1'],
      { stdin: consumed.stdout },
    );
    expect(published.code, published.stderr).toBe(0);
    expect(await headerBytesIn(target)).toEqual([
      Buffer.concat([
        encodeWireTable({ 'x-deep': nestedArrays(5000) }),
        encodeWireTable({ 'x-tenant': { tag: 'S', value: 'other' }, 'x-new': { tag: 'b', hex: '01' } }),
      ]),
    ]);
  });

  it('tail prints it and the message behind it', async () => {
    const exchange = await broker.exchange('poison-tail', 'fanout');
    const { done } = await startTail(exchange, 2);
    await publishPoisonThenPlain(exchange, '');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    const records = ndjson(result.stdout);
    expect(records.map(idOf)).toEqual(['poison', 'plain']);
    expectPoisonRecord(records[0]);
  });

  it('replay --from-queue re-publishes it with the very same header bytes, and acks it', async () => {
    const queue = await poisonedQueue('poison-replay');
    const target = await broker.queue('poison-replay-target');
    const result = await runWarren(['replay', '--from-queue', queue, '-e', '', '-k', target]);
    expect(result.code, result.stderr).toBe(0);
    expect(await broker.messageCount(queue)).toBe(0);
    expect(await headerBytesIn(target)).toEqual([POISON, Buffer.alloc(0)]);
  });

  it('replay --from-queue --dry-run shows it with its headers raw', async () => {
    const queue = await poisonedQueue('poison-replay-dry');
    const result = await runWarren(['replay', '--from-queue', queue, '-e', '', '-k', 'x', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    const records = ndjson(result.stdout);
    expect(records.map(idOf)).toEqual(['poison', 'plain']);
    expectPoisonRecord(records[0]);
    expect(await broker.messageCount(queue)).toBe(2);
  });

  // RabbitMQ 3.10's streams keep no array or table headers (it drops them, shallow or deep,
  // as it stores the message): what the stream gives back is re-published as it came.
  it('replay --from-stream re-publishes it as the stream gives it back (the stream offset taken out)', async () => {
    const stream = await broker.queue('poison-stream', {
      durable: true,
      arguments: { 'x-queue-type': 'stream' },
    });
    await publishPoisonThenPlain('', stream);
    const target = await broker.queue('poison-stream-target');
    const result = await runWarren([
      'replay',
      '--from-stream',
      stream,
      '--count',
      '2',
      '-e',
      '',
      '-k',
      target,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const tenantOnly = encodeWireTable({ 'x-tenant': { tag: 'S', value: 'acme' } });
    expect(await headerBytesIn(target)).toEqual([tenantOnly, Buffer.alloc(0)]);
  });

  it('the headers it could decode are still there for --match', async () => {
    const queue = await poisonedQueue('poison-match');
    const result = await runWarren([
      'replay',
      '--from-queue',
      queue,
      '-e',
      '',
      '-k',
      'x',
      '--dry-run',
      '--match',
      'headers.x-tenant=acme',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson(result.stdout).map(idOf)).toEqual(['poison']);
  });

  it('consume --exec --max-retries sends the retry copy with its headers as they came, and the count added', async () => {
    const queue = await broker.queue('poison-retry');
    hostileChannel.publish('', queue, Buffer.from('poison'), {
      messageId: 'poison',
      headers: verbatimHeaders(POISON),
    });
    await hostileChannel.waitForConfirms();
    const { result, seen } = await handleAll(queue, 1, 'WARREN_RETRIES', '; exit 3', '--max-retries', '1');
    expect(result.code, result.stderr).toBe(0);
    const retried = Buffer.concat([POISON, encodeWireTable({ 'x-warren-retries': { tag: 'b', hex: '01' } })]);
    expect(seen).toBe(`0 ${POISON.toString('base64')}\n1 ${retried.toString('base64')}\n`);
    expect(result.stderr).toMatch(/1 rejected \(1 retry, 2 runs failed\)/);
  });

  it('consume --exec hands it to the handler, with its headers raw in WARREN_HEADERS_RAW', async () => {
    const queue = await poisonedQueue('poison-exec');
    const { result, seen } = await handleAll(queue, 2);
    expect(result.code, result.stderr).toBe(0);
    expect(seen).toBe(`poison ${POISON.toString('base64')}\nplain \n`);
    expect(await broker.messageCount(queue)).toBe(0);
  });

  it('publish --rpc prints a reply that carries it', async () => {
    const queue = await broker.queue('poison-rpc');
    const channel = await hostile.createChannel();
    await channel.consume(queue, (request) => {
      if (!request) return;
      channel.publish('', request.properties.replyTo as string, Buffer.from('poison'), {
        correlationId: request.properties.correlationId,
        messageId: 'poison',
        headers: verbatimHeaders(POISON),
      });
      channel.ack(request);
    });
    try {
      const result = await runWarren(['publish', '--rpc', '-k', queue, '--format', 'ndjson', 'ping']);
      expect(result.code, result.stderr).toBe(0);
      expectPoisonRecord(ndjson(result.stdout)[0]);
    } finally {
      await channel.close().catch(() => {});
    }
  });
});

describe('headers over 64 KiB, 20,000 levels deep, sent frame by frame (amqplib cannot send them)', () => {
  const HUGE = encodeWireTable({
    'x-big': { tag: 'S', value: 'x'.repeat(20_000) },
    'x-deep': nestedArrays(20_000),
  });

  it('consume delivers it raw; replay --from-queue leaves it in the queue, says why, and re-drives the rest', async () => {
    const queue = await broker.queue('poison-huge');
    await publishRawFrames(BROKER_URL, '', queue, [
      { headers: HUGE, body: Buffer.from('huge'), messageId: 'huge' },
      { headers: Buffer.alloc(0), body: Buffer.from('plain'), messageId: 'plain' },
    ]);
    const peeked = await runWarren([
      'consume',
      queue,
      '--ack-mode',
      'requeue',
      '--count',
      '2',
      '--timeout',
      '10s',
    ]);
    expect(peeked.code, peeked.stderr).toBe(0);
    const records = ndjson(peeked.stdout);
    expect(records.map(idOf)).toEqual(['huge', 'plain']);
    expect(records[0]?.['rawHeaders']).toBe(HUGE.toString('base64'));

    const target = await broker.queue('poison-huge-target');
    const replayed = await runWarren(['replay', '--from-queue', queue, '-e', '', '-k', target]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stderr).toMatch(
      /message 1: headers: \d+ bytes, over the 65536 a message may carry: left where it is/,
    );
    expect(replayed.stderr).toMatch(/confirmed 1, .*1 that cannot be sent as they came, 1 left in/);
    expect(await headerBytesIn(queue)).toEqual([HUGE]);
    expect(await broker.messageCount(target)).toBe(1);
  });
});

describe('an NDJSON line nested 5,000 deep', () => {
  const deepLine = `{"body":"2","headers":{"h":${'['.repeat(5000)}${']'.repeat(5000)}}}`;

  it('publish --skip-invalid warns, naming the line, and publishes the others', async () => {
    const queue = await broker.queue('poison-skip');
    const result = await runWarren(['publish', '-k', queue, '--input', 'ndjson', '--skip-invalid'], {
      stdin: `{"body":"1"}\n${deepLine}\n{"body":"3"}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /line 2: invalid JSON at column \d+: nested deeper than 256 levels \(skipped\)/,
    );
    expect((await broker.drain(queue)).map((m) => m.content.toString())).toEqual(['1', '3']);
  });
});

describe('hostile field tables from fast-check, through every reader', () => {
  it('none crashes, stalls or ends early, none loses one; each record holds its table, raw or decoded, and goes out again byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileTable, { minLength: 3, maxLength: 6 }), async (generated) => {
        const tables = generated.map((table, i) => ({ ...withBytes(table), id: `m-${i}` }));
        // What warren can send again: amqplib encodes headers into 64 KiB.
        const sendable = tables.filter(({ bytes }) => bytes.length + 4 <= 65536);
        const tooLarge = tables.filter(({ bytes }) => bytes.length + 4 > 65536);
        const publish = (exchange: string, routingKey: string) =>
          publishRawFrames(
            BROKER_URL,
            exchange,
            routingKey,
            tables.map(({ bytes, id }) => ({
              headers: bytes,
              body: Buffer.from(`body of ${id}`),
              messageId: id,
            })),
          );
        const records = (result: RunResult, reader: string, expected = tables) => {
          expect(result.code, `${reader}: ${result.stderr}`).toBe(0);
          const found = ndjson(result.stdout);
          expect(found.map(idOf), reader).toEqual(expected.map(({ id }) => id));
          found.forEach((record, i) => {
            const { bytes, depth } = expected[i] as (typeof tables)[number];
            if (depth > 100) expect(record['rawHeaders'], reader).toBe(bytes.toString('base64'));
            else expect(record['rawHeaders'], reader).toBeUndefined();
          });
          return found;
        };
        const consume = (queue: string, count: number, ...more: string[]) =>
          consumeAll(queue, count, '--format', 'ndjson', ...more);

        const queue = await broker.queue('hostile');
        await publish('', queue);
        const peeked = records(
          await consume(queue, tables.length, '--ack-mode', 'requeue'),
          'consume --ack-mode requeue',
        );
        expect(await broker.messageCount(queue)).toBe(tables.length);

        const redriven = await broker.queue('hostile-redriven');
        const replayed = await runWarren(['replay', '--from-queue', queue, '-e', '', '-k', redriven]);
        expect(replayed.code, replayed.stderr).toBe(0);
        expect(await headerBytesIn(queue), 'left by replay').toEqual(tooLarge.map(({ bytes }) => bytes));
        if (sendable.length > 0) {
          const taken = await consume(redriven, sendable.length);
          records(taken, 'replay --from-queue, then consume', sendable);
          expect(await broker.messageCount(redriven)).toBe(0);
          const republished = await broker.queue('hostile-republished');
          const published = await runWarren(['publish', '--input', 'ndjson', '-k', republished], {
            stdin: taken.stdout,
          });
          expect(published.code, published.stderr).toBe(0);
          expect(await headerBytesIn(republished)).toEqual(sendable.map(({ bytes }) => bytes));
        }

        const autoAcked = await broker.queue('hostile-none');
        await publish('', autoAcked);
        records(await consume(autoAcked, tables.length, '--ack-mode', 'none'), 'consume --ack-mode none');
        expect(await broker.messageCount(autoAcked)).toBe(0);

        // A handler gets each message whose headers fit in an environment variable (128 KiB,
        // with the name); the others are rejected, as documented: here into a dead-letter queue.
        const fits = (name: string, value: string) =>
          name.length + 1 + Buffer.byteLength(value) + 1 <= 131072;
        const handledIds = tables
          .filter(({ bytes, depth }, i) => {
            const headers = JSON.stringify(peeked[i]?.['headers'] ?? {});
            return (
              fits('WARREN_HEADERS', headers) &&
              (depth <= 100 || fits('WARREN_HEADERS_RAW', bytes.toString('base64')))
            );
          })
          .map(({ id }) => id);
        const rejected = await broker.queue('hostile-exec-rejected');
        const handled = await broker.queue('hostile-exec', {
          arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': rejected },
        });
        await publish('', handled);
        const { result: exec, seen } = await handleAll(handled, tables.length);
        expect(exec.code, exec.stderr).toBe(0);
        expect(seen).toBe(
          tables
            .filter(({ id }) => handledIds.includes(id))
            .map(({ bytes, depth, id }) => `${id} ${depth > 100 ? bytes.toString('base64') : ''}\n`)
            .join(''),
        );
        expect(await broker.messageCount(handled)).toBe(0);
        expect(await headerBytesIn(rejected), 'dead-lettered').toHaveLength(
          tables.length - handledIds.length,
        );

        const exchange = await broker.exchange('hostile-tail', 'fanout');
        const tailed = await startTail(exchange, tables.length);
        await publish(exchange, '');
        records(await tailed.done, 'tail');
      }),
      { seed: 0x5eed_2026, numRuns: 3, endOnFailure: true },
    );
  }, 240_000);
});

describe('a dead-lettered message whose routing key is not UTF-8 (another client sent its bytes)', () => {
  it('replay --from-queue leaves it in the queue and says why, instead of sending it to a key with U+FFFD', async () => {
    const exchange = await broker.exchange('poison-rk', 'fanout');
    const dead = await broker.queue('poison-rk-dlq');
    const source = await broker.queue('poison-rk-src', {
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead },
    });
    await broker.channel.bindQueue(source, exchange, '');
    // "k-" and a UTF-16 surrogate as CESU-8 writes it: no UTF-8 decoder gives it back.
    const key = Buffer.from([0x6b, 0x2d, 0xed, 0xa0, 0x80]);
    await publishRawFrames(BROKER_URL, exchange, key, [
      { headers: Buffer.alloc(0), body: Buffer.from('bad key'), messageId: 'bad-key' },
    ]);
    const rejected = await consumeAll(source, 1, '--ack-mode', 'reject');
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(await broker.messageCount(dead)).toBe(1);

    const replayed = await runWarren(['replay', '--from-queue', dead]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stderr).toMatch(/message 1: .*routing key .*not UTF-8.*left where it is/);
    expect(replayed.stderr).toMatch(/confirmed 0, .*1 left in/);
    expect(await broker.messageCount(dead)).toBe(1);
    expect(await broker.messageCount(source)).toBe(0);
  });
});
