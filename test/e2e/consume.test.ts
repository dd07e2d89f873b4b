/**
 * `warren consume` end to end: the records on stdout, the exit codes, and above all the
 * guarantee that nothing is lost: a message is acked only once its record was written,
 * whatever stops the run (count, timeout, `| head`, SIGINT, SIGTERM, a lost connection).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker } from '../helpers/broker.js';
import { numbered, publishMany, takeAllFast } from '../helpers/bulk.js';
import {
  collect,
  ndjson,
  type RunResult,
  runWarren,
  startWarren,
  testEnv,
  WARREN_BIN,
} from '../helpers/cli.js';
import { forceCloseConnectionOf } from '../helpers/rabbitmqctl.js';
import { hasStackTrace, runShell } from '../helpers/spawn.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterAll(async () => {
  await broker?.cleanup();
});

/** A queue holding `count` messages with messageId `m-1`…`m-count` and body `{"i":n}`. */
async function filledQueue(prefix: string, count: number, options: amqp.Options.AssertQueue = {}) {
  const queue = await broker.queue(prefix, options);
  await publishMany(broker.connection, '', queue, numbered('m', count));
  expect(await broker.messageCount(queue)).toBe(count);
  return queue;
}

const idOf = (record: Record<string, unknown>) =>
  (record['properties'] as Record<string, unknown> | undefined)?.['messageId'] as string;
const seq = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m-${from + i}`);

/** Resolves once the child has written at least `bytes` to stdout. */
function outputArrives(child: ChildProcess, bytes = 1): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen >= bytes) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('close', () => reject(new Error('warren exited before writing anything')));
  });
}

/** The records of a run that stopped; the last one must be complete (no torn line). */
/** Closes warren's connection from the broker while it is mid-stream (its stdout held). */
async function cutMidStream(child: ChildProcess): Promise<void> {
  await outputArrives(child);
  child.stdout?.pause();
  try {
    await forceCloseConnectionOf(child.pid as number, 'warren consume');
  } finally {
    child.stdout?.resume();
  }
}

function records(result: RunResult): Record<string, unknown>[] {
  if (result.stdout.length > 0) expect(result.stdout.at(-1), 'stdout ends with a newline').toBe(0x0a);
  return ndjson(result.stdout);
}

function consumedCount(stderr: string): number | undefined {
  const match = /consumed (\d+) messages?/.exec(stderr);
  return match ? Number(match[1]) : undefined;
}

/**
 * Nothing lost, nothing doubled: the records and what is left in the queue are together
 * exactly the N messages, each once.
 */
async function expectExactlyOnce(queue: string, written: Record<string, unknown>[], count: number) {
  const left = (await takeAllFast(broker.connection, queue)).map((m) => m.properties.messageId as string);
  const printed = written.map(idOf);
  expect(new Set(printed).size, 'no record printed twice').toBe(printed.length);
  const leftSet = new Set(left);
  expect(leftSet.size, 'no message twice in the queue').toBe(left.length);
  const both = printed.filter((id) => leftSet.has(id));
  expect(both, 'printed AND still in the queue (acks lost)').toEqual([]);
  expect(printed.length + left.length, `printed ${printed.length} + left ${left.length}`).toBe(count);
  expect(new Set([...printed, ...left])).toEqual(new Set(seq(1, count)));
  return { printed, left };
}

describe('output formats', () => {
  it('writes one NDJSON envelope per message to a pipe by default, data only on stdout', async () => {
    const q = await broker.queue('con-ndjson');
    await broker.publish('', q, '{"id":42}', {
      contentType: 'application/json',
      messageId: 'm-1',
      timestamp: 1795770000,
      headers: { 'x-tenant': 'acme', 'x-attempt': 2 },
    });
    await broker.publish('', q, Buffer.from([0xff, 0x00, 0x0a]));
    const result = await runWarren(['consume', q, '--count', '2']);
    expect(result.code).toBe(0);
    const [first, second, third] = records(result);
    expect(third).toBeUndefined();
    expect(first).toMatchObject({
      exchange: '',
      routingKey: q,
      redelivered: false,
      properties: { contentType: 'application/json', messageId: 'm-1', timestamp: 1795770000 },
      headers: { 'x-tenant': 'acme', 'x-attempt': 2 },
      body: '{"id":42}',
      bodyEncoding: 'utf8',
    });
    expect(new Date(first?.['receivedAt'] as string).toISOString()).toBe(first?.['receivedAt']);
    expect(second).toMatchObject({
      body: Buffer.from([0xff, 0x00, 0x0a]).toString('base64'),
      bodyEncoding: 'base64',
    });
    expect(result.stderr).toMatch(/consumed 2 messages/);
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('--format body writes each raw body and a newline', async () => {
    const q = await broker.queue('con-body');
    const bodies = [
      Buffer.from('first'),
      Buffer.from([0x00, 0xff, 0xc3, 0x28]),
      Buffer.alloc(0),
      Buffer.from('a\nb'),
    ];
    for (const body of bodies) await broker.publish('', q, body);
    const result = await runWarren(['consume', q, '--format', 'body', '--count', String(bodies.length)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toEqual(Buffer.concat(bodies.flatMap((b) => [b, Buffer.from('\n')])));
  });

  it('--template prints one line per message from placeholders', async () => {
    const q = await broker.queue('con-template');
    await broker.publish('', q, 'hello', {
      messageId: 'id-1',
      headers: { 'x-id': 'abc', 'x-wide': { '!': 'int64', value: 7 } },
    });
    await broker.publish('', q, 'world', { messageId: 'id-2' });
    const result = await runWarren([
      'consume',
      q,
      '--count',
      '2',
      '--template',
      '{routingKey}|{properties.messageId}|{headers.x-id}|{headers.x-wide}|{body}',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${q}|id-1|abc|7|hello\n${q}|id-2|||world\n`);
  });

  it('rejects an unknown --template placeholder as a usage error before taking anything', async () => {
    const q = await filledQueue('con-template-bad', 2);
    const result = await runWarren(['consume', q, '--template', '{nope}']);
    expect(result.code).toBe(2);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stdout.length).toBe(0);
    expect(await broker.messageCount(q)).toBe(2);
  });
});

describe('--count and --timeout', () => {
  it('--count N takes the first N in order and leaves the rest', async () => {
    const q = await filledQueue('con-count', 10);
    const result = await runWarren(['consume', q, '--count', '4']);
    expect(result.code).toBe(0);
    expect(records(result).map(idOf)).toEqual(seq(1, 4));
    const left = (await broker.drain(q)).map((m) => m.properties.messageId);
    expect(left).toEqual(seq(5, 10));
  });

  it('--count N acknowledges all N before exiting: nothing printed stays in the queue', async () => {
    // A few large messages among small ones: the last acks used to race the connection close.
    const q = await broker.queue('con-count-acks');
    const messages = numbered('m', 200).map((m, i) =>
      i < 3 ? { ...m, body: Buffer.alloc(1024 * 1024, 0x61) } : m,
    );
    await publishMany(broker.connection, '', q, messages);
    const result = await runWarren(['consume', q, '--count', '200']);
    expect(result.code).toBe(0);
    const written = records(result);
    expect(written.map(idOf)).toEqual(seq(1, 200));
    expect(await broker.messageCount(q), 'messages printed but not acked').toBe(0);
  });

  it('--timeout with --count not reached: exit 3, what came is printed and taken', async () => {
    const q = await filledQueue('con-timeout', 2);
    const result = await runWarren(['consume', q, '--count', '5', '--timeout', '500ms']);
    expect(result.code).toBe(3);
    expect(records(result).map(idOf)).toEqual(seq(1, 2));
    const errors = result.stderr.split('\n').filter((line) => /^error/.test(line));
    expect(errors).toHaveLength(1);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('--timeout without --count: exit 0 once the queue is idle', async () => {
    const q = await filledQueue('con-timeout-nocount', 3);
    const result = await runWarren(['consume', q, '--timeout', '500ms']);
    expect(result.code).toBe(0);
    expect(records(result).map(idOf)).toEqual(seq(1, 3));
    expect(await broker.messageCount(q)).toBe(0);

    const empty = await runWarren(['consume', q, '--timeout', '300ms']);
    expect(empty.code).toBe(0);
    expect(empty.stdout.length).toBe(0);
  });

  it('--timeout counts only a queue that has nothing, never a reader that is slow', async () => {
    const n = 3000;
    const q = await filledQueue('con-timeout-slow', n);
    // More than the pipe and the prefetch window hold: warren must wait for the reader.
    const result = await runShell(
      `node bin/warren.js consume '${q}' --timeout 1s | { sleep 4; cat; }; echo "exit=\${PIPESTATUS[0]}" >&2`,
      { timeoutMs: 60_000 },
    );
    expect(/exit=(\d+)\s*$/.exec(result.stderr)?.[1], result.stderr).toBe('0');
    expect(records(result).map(idOf)).toEqual(seq(1, n));
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('exits 5 for a queue that does not exist, naming it in one line', async () => {
    const missing = `warren-test.no-such-queue.${process.pid}.${Date.now()}`;
    const result = await runWarren(['consume', missing, '--timeout', '2s']);
    expect(result.code).toBe(5);
    expect(result.stdout.length).toBe(0);
    const errors = result.stderr.split('\n').filter((line) => /^error/.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(missing);
    // The same hint as tail gives for an exchange that is not there.
    expect(result.stderr).toContain(
      `\n  check the name (and the vhost in --url), or declare it: warren declare queue ${missing}\n`,
    );
    expect(hasStackTrace(result.stderr)).toBe(false);
  });
});

describe('--ack-mode', () => {
  it('requeue (peek) prints each message once and leaves the queue as it was', async () => {
    const q = await broker.queue('con-peek');
    const bodies = ['a', 'b', Buffer.from([0xff, 0xfe]), 'd', '', 'f'];
    for (const [i, body] of bodies.entries()) await broker.publish('', q, body, { messageId: `m-${i + 1}` });
    const result = await runWarren(['consume', q, '--ack-mode', 'requeue']);
    expect(result.code).toBe(0);
    const written = records(result);
    expect(written.map(idOf)).toEqual(seq(1, 6));
    expect(result.stderr).toMatch(/6 messages/);
    const left = await broker.drain(q);
    expect(left.map((m) => m.properties.messageId)).toEqual(seq(1, 6));
    expect(left.map((m) => m.content)).toEqual(bodies.map((b) => (Buffer.isBuffer(b) ? b : Buffer.from(b))));
  });

  it('requeue with --count peeks at the first N only, and the queue keeps all, in order', async () => {
    const q = await filledQueue('con-peek-count', 8);
    const result = await runWarren(['consume', q, '--ack-mode', 'requeue', '--count', '3']);
    expect(result.code).toBe(0);
    expect(records(result).map(idOf)).toEqual(seq(1, 3));
    const left = await broker.drain(q);
    expect(left.map((m) => m.properties.messageId)).toEqual(seq(1, 8));
  });

  it('reject dead-letters every printed message, in order', async () => {
    const dlx = await broker.exchange('con-dlx', 'fanout');
    const dlq = await broker.queue('con-dlq');
    await broker.channel.bindQueue(dlq, dlx, '');
    const q = await filledQueue('con-reject', 5, { arguments: { 'x-dead-letter-exchange': dlx } });
    const result = await runWarren(['consume', q, '--ack-mode', 'reject', '--count', '5']);
    expect(result.code).toBe(0);
    expect(records(result).map(idOf)).toEqual(seq(1, 5));
    expect(await broker.messageCount(q)).toBe(0);
    const dead = await broker.drain(dlq);
    expect(dead.map((m) => m.properties.messageId)).toEqual(seq(1, 5));
    const death = (dead[0]?.properties.headers?.['x-death'] as Record<string, unknown>[] | undefined)?.[0];
    expect(death?.['reason']).toBe('rejected');
    expect(death?.['queue']).toBe(q);
  });

  it('none (broker auto-ack) prints and takes the messages', async () => {
    const q = await filledQueue('con-none', 5);
    const result = await runWarren(['consume', q, '--ack-mode', 'none', '--count', '5']);
    expect(result.code).toBe(0);
    expect(records(result).map(idOf)).toEqual(seq(1, 5));
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('none with --count N takes only N: the messages it does not print stay in the queue', async () => {
    const q = await filledQueue('con-none-count', 10);
    const result = await runWarren(['consume', q, '--ack-mode', 'none', '--count', '3']);
    expect(result.code).toBe(0);
    expect(records(result).map(idOf)).toEqual(seq(1, 3));
    expect(await broker.messageCount(q), 'messages auto-acked but never printed are lost').toBe(7);
  });
});

describe('stopping early loses nothing', () => {
  it('`| head -n 3`: exit 0, head gets 3 lines, every message not acked is still in the queue', async () => {
    const n = 5000;
    const q = await filledQueue('con-head', n);
    const result = await runShell(
      `node bin/warren.js consume '${q}' | head -n 3; echo "exit=\${PIPESTATUS[0]}" >&2`,
    );
    const status = /exit=(\d+)\s*$/.exec(result.stderr);
    expect(status?.[1], result.stderr).toBe('0');
    expect(hasStackTrace(result.stderr)).toBe(false);
    const headLines = result.stdout.toString().split('\n').filter(Boolean);
    const headIds = headLines.map((line) => idOf(JSON.parse(line) as Record<string, unknown>));
    expect(headIds).toEqual(seq(1, 3));

    // Acks go in delivery order, so what is left must be exactly m-(k+1) … m-n for some k ≥ 3.
    const left = (await takeAllFast(broker.connection, q)).map((m) => m.properties.messageId as string);
    expect(
      left.filter((id) => headIds.includes(id)),
      'printed by head, yet still in the queue (acks lost)',
    ).toEqual([]);
    const acked = n - left.length;
    expect(acked).toBeGreaterThanOrEqual(3);
    expect(acked, 'warren stopped at the broken pipe instead of draining the queue').toBeLessThan(n);
    expect(left).toEqual(seq(acked + 1, n));
  });

  it('SIGINT mid-stream: exit 130, each message either printed or still queued, never both', async () => {
    const n = 20_000;
    const q = await filledQueue('con-sigint', n);
    const child = startWarren(['consume', q]);
    const done = collect(child);
    await outputArrives(child);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    expect(hasStackTrace(result.stderr)).toBe(false);
    const written = records(result);
    expect(written.map(idOf), 'records come in queue order').toEqual(seq(1, written.length));
    const { left } = await expectExactlyOnce(q, written, n);
    expect(left.length, 'the run was stopped mid-stream').toBeGreaterThan(0);
    const summary = consumedCount(result.stderr);
    if (summary !== undefined) expect(summary).toBe(written.length);
  });

  it('a second SIGINT while a reader holds the output up: the summary still says how many were consumed', async () => {
    const n = 20_000;
    const q = await filledQueue('con-sigint-twice', n);
    // A reader that never reads: warren writes into a FIFO whose read end is open and left
    // alone. Its 64 KiB fill up with about 300 records, and the first SIGINT waits for the
    // rest of the prefetch window (a pipe to this process would be read into its buffers).
    const dir = mkdtempSync(join(tmpdir(), 'warren-fifo-'));
    const fifo = join(dir, 'out');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, 'w');
    try {
      const child = spawn(process.execPath, [WARREN_BIN, 'consume', q], {
        env: testEnv(),
        stdio: ['ignore', writer, 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const ended = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('close', (_code, signal) => resolve(signal)),
      );
      // The whole prefetch window (1000 records, more than the FIFO holds) is delivered.
      await eventually(async () => (await broker.messageCount(q)) <= n - 1000);
      child.kill('SIGINT');
      // The first Ctrl-C is taken once warren cancels its consumer: only then the second (two
      // SIGINTs sent at once can arrive as one).
      await eventually(async () => (await broker.channel.checkQueue(q)).consumerCount === 0);
      child.kill('SIGINT');
      expect(await ended, stderr).toBe('SIGINT');
      expect(stderr).toMatch(/consumed \d+ messages from '[^']+' \(quit at a second Ctrl-C: /);
      expect(hasStackTrace(stderr)).toBe(false);
    } finally {
      closeSync(writer);
      closeSync(reader);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGINT while waiting on an empty queue: exit 130, and a later message is left for others', async () => {
    const q = await broker.queue('con-sigint-idle');
    const child = startWarren(['consume', q]);
    const done = collect(child);
    await eventually(async () => (await broker.channel.checkQueue(q)).consumerCount === 1, 10_000);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stdout.length).toBe(0);
    expect(hasStackTrace(result.stderr)).toBe(false);
    await broker.publish('', q, 'after');
    expect(await broker.messageCount(q)).toBe(1);
  });

  it('SIGTERM while stdout is slow: exit 143, each message either printed or still queued', async () => {
    const n = 20_000;
    const q = await filledQueue('con-sigterm', n);
    const child = startWarren(['consume', q]);
    const done = collect(child);
    await outputArrives(child);
    // A reader that stops reading: the pipe fills up and warren must not ack past it.
    child.stdout?.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.stdout?.resume();
    const result = await done;
    expect(result.code, result.stderr).toBe(143);
    expect(hasStackTrace(result.stderr)).toBe(false);
    const written = records(result);
    expect(written.map(idOf)).toEqual(seq(1, written.length));
    const { left } = await expectExactlyOnce(q, written, n);
    expect(left.length).toBeGreaterThan(0);
  });

  it('a lost connection with --retries 0: exit 69, nothing lost, a message printed twice only if redelivered', async () => {
    const n = 20_000;
    const q = await filledQueue('con-lost', n);
    const child = startWarren(['consume', q, '--retries', '0']);
    const done = collect(child);
    await cutMidStream(child);
    const result = await done;
    expect(result.code, result.stderr).toBe(69);
    expect(hasStackTrace(result.stderr)).toBe(false);
    const errors = result.stderr.split('\n').filter((line) => /^error/.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/connection/i);

    const written = records(result);
    const printed = written.map(idOf);
    expect(new Set(printed).size).toBe(printed.length);
    const left = await takeAllFast(broker.connection, q);
    const leftIds = new Set(left.map((m) => m.properties.messageId as string));
    expect(leftIds.size).toBe(left.length);
    expect(new Set([...printed, ...leftIds]), 'every message printed or still queued').toEqual(
      new Set(seq(1, n)),
    );
    const printedSet = new Set(printed);
    for (const message of left) {
      if (printedSet.has(message.properties.messageId as string)) {
        expect(message.fields.redelivered, `${message.properties.messageId} printed and queued again`).toBe(
          true,
        );
      }
    }
    expect(left.length).toBeGreaterThan(0);
  });

  it('a lost connection: reconnects, takes every message (twice only if redelivered), exit 0', async () => {
    const n = 20_000;
    const q = await filledQueue('con-reconnect', n);
    const child = startWarren(['consume', q, '--count', String(n)]);
    const done = collect(child, 60_000);
    await cutMidStream(child);
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stderr).toMatch(/warning: lost the connection.*CONNECTION_FORCED.*reconnecting \(1 of 5\)/);
    expect(result.stderr).toMatch(new RegExp(`consumed ${n} messages from`));

    const written = records(result);
    expect(written).toHaveLength(n);
    const firstSeen = new Set<string>();
    let again = 0;
    for (const record of written) {
      const id = idOf(record);
      if (firstSeen.has(id)) {
        expect(record['redelivered'], `${id} printed twice`).toBe(true);
        again += 1;
      }
      firstSeen.add(id);
    }
    // Each record printed twice stands in for one not printed: --count counts records.
    const left = await takeAllFast(broker.connection, q);
    expect(firstSeen.size + left.length).toBe(n);
    const leftIds = left.map((m) => m.properties.messageId as string);
    expect(new Set([...firstSeen, ...leftIds])).toEqual(new Set(seq(1, n)));
    expect(left.length).toBe(again);
  });
});

describe('a stream queue', () => {
  // A stream keeps its messages for every reader: consume cannot take them. It waited for new
  // messages and exited 3 (ack, reject, exec), or showed the broker's raw words (none, requeue).
  let stream: string;
  beforeAll(async () => {
    stream = await broker.queue('con-stream', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    for (const body of ['s0', 's1', 's2', 's3']) await broker.publish('', stream, body);
  });

  it.each([
    ['--ack-mode', 'ack'],
    ['--ack-mode', 'reject'],
    ['--ack-mode', 'none'],
    ['--ack-mode', 'requeue'],
    ['--exec', 'cat'],
  ])(
    'consume %s %s is refused at once (exit 5), pointing at tail --stream and replay --from-stream',
    async (flag, value) => {
      const result = await runWarren(['consume', stream, flag, value, '--count', '1', '--timeout', '20s']);
      expect(result.code, result.stderr).toBe(5);
      expect(result.stdout.length).toBe(0);
      expect(result.stderr).toBe(
        `error: '${stream}' is a stream queue: it keeps its messages for every reader, so nothing can be taken from it\n` +
          `  read it in place: warren tail --stream ${stream} --offset first (or re-publish a range: warren replay --from-stream ${stream})\n`,
      );
    },
  );

  it('without --count, auto-ack and a peek are refused the same way', async () => {
    for (const mode of ['none', 'requeue']) {
      const result = await runWarren(['consume', stream, '--ack-mode', mode]);
      expect(result.code, result.stderr).toBe(5);
      expect(result.stderr).toMatch(/is a stream queue: .* nothing can be taken from it\n/);
    }
  });

  it('the hint works: tail --stream reads all four, in place', async () => {
    const args = ['tail', '--stream', stream, '--offset', 'first', '--count', '4', '--template', '{body}'];
    const result = await runWarren(args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toString()).toBe('s0\ns1\ns2\ns3\n');
  });
});
