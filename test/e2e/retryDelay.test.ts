import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expiresOf, retryQueueName } from '../../src/exec/retryQueues.js';
import { connectTestBroker, eventually, type TestBroker, uniqueName } from '../helpers/broker.js';
import { collect, runWarren, startWarren } from '../helpers/cli.js';
import {
  deadLettered,
  errors,
  expectClean,
  fileLines,
  newHandlerDir,
  warnings,
} from '../helpers/execRuns.js';
import { apiGet } from '../helpers/managementApi.js';

let broker: TestBroker;
let root: string;
/** Retry queues warren declared: deleted at the end (they would expire by themselves too). */
const declared = new Set<string>();

beforeAll(async () => {
  broker = await connectTestBroker();
  root = mkdtempSync(join(tmpdir(), 'warren-retry-delay-'));
});

afterAll(async () => {
  for (const queue of declared) await broker.channel.deleteQueue(queue).catch(() => {});
  await broker?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

const handlerDir = (name: string) => newHandlerDir(root, name);

/** The retry queue of `work` for a delay, noted for deletion. */
function retryQueue(work: string, delayMs: number): string {
  const name = retryQueueName(work, delayMs);
  declared.add(name);
  return name;
}

const withDeadLetters = (prefix: string, options: amqp.Options.AssertQueue = {}) =>
  deadLettered(broker, prefix, options);

/** Messages ready in a queue; 0 when there is no such queue (yet), on a channel of its own. */
async function countIn(queue: string): Promise<number> {
  const channel = await broker.connection.createChannel();
  channel.on('error', () => {});
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } catch {
    return 0;
  } finally {
    await channel.close().catch(() => {});
  }
}

/** A handler's log of `$WARREN_RETRIES $WARREN_HEADERS` lines: each try's count and x-death. */
const triesLogged = (path: string) =>
  fileLines(path).map((line) => {
    const [retries, ...headers] = line.split(' ');
    const deaths = JSON.parse(headers.join(' '))['x-death'] as
      | { queue: string; reason: string }[]
      | undefined;
    return { retries, deaths };
  });

const deaths = (message: amqp.Message | undefined) =>
  (message?.properties.headers?.['x-death'] ?? []) as { queue: string; reason: string }[];

describe('consume --exec --retry-delay', () => {
  it.each([
    ['classic', {}],
    ['quorum', { durable: true, arguments: { 'x-queue-type': 'quorum' } }],
  ] as const)(
    'on a %s queue, --retry-delay 300ms --max-retries 2: tried 3 times, each retry through its own retry queue, then to the DLQ',
    async (kind, options) => {
      const dir = handlerDir(`poison-${kind}`);
      const { work, dlq } = await withDeadLetters(`retry-delay-poison-${kind}`, options);
      await broker.publish('', work, 'poison', { messageId: 'p-1', headers: { 'x-tenant': 'acme' } });
      const result = await runWarren(
        [
          'consume',
          work,
          '--exec',
          'echo "$WARREN_RETRIES $WARREN_REDELIVERED" >> "$HDIR/runs"; exit 3',
          '--retry-delay',
          '300ms',
          '--max-retries',
          '2',
          '--count',
          '1',
        ],
        { env: { HDIR: dir } },
      );
      const first = retryQueue(work, 300);
      const second = retryQueue(work, 600);
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(fileLines(join(dir, 'runs')), 'each try a fresh copy, counted').toEqual([
        '0 false',
        '1 false',
        '2 false',
      ]);
      expect(warnings(result.stderr)).toEqual([
        'warning: message p-1: handler exit 3: retried in 300ms',
        'warning: message p-1: handler exit 3: retried in 600ms',
        'warning: message p-1: handler exit 3; gave up after 2 retries: rejected',
      ]);
      // One message, three tries: the retries are counted beside it, not as messages.
      expect(result.stderr).toMatch(
        /handled 1 message from '.*': 0 acked, 1 rejected \(2 retries, 3 runs failed\) in /,
      );
      expect(await broker.messageCount(work)).toBe(0);
      const dead = await broker.drain(dlq);
      expect(dead.map((m) => m.properties.messageId)).toEqual(['p-1']);
      expect(dead[0]?.content.toString()).toBe('poison');
      expect(dead[0]?.properties.headers?.['x-warren-retries']).toBe(2);
      expect(dead[0]?.properties.headers?.['x-tenant']).toBe('acme');
      // It came back from each retry queue by expiring there: it waited in the broker.
      expect(
        deaths(dead[0])
          .map((death) => `${death.reason} ${death.queue}`)
          .sort(),
      ).toEqual([`expired ${first}`, `expired ${second}`, `rejected ${work}`].sort());
      for (const queue of [first, second]) expect(await broker.messageCount(queue)).toBe(0);
    },
  );

  it('a retry waits in its retry queue, not in warren: SIGKILL loses nothing; the queue is declared as documented', async () => {
    const dir = handlerDir('waits');
    const { work } = await withDeadLetters('retry-delay-waits');
    await broker.publish('', work, 'later', { messageId: 'w-1' });
    const waiting = retryQueue(work, 600_000);
    const child = startWarren(
      [
        'consume',
        work,
        '--exec',
        'echo "$WARREN_RETRIES" >> "$HDIR/runs"; exit 75',
        '--retry-delay',
        '10m',
        '--retry-delay-max',
        '10m',
      ],
      { env: { HDIR: dir } },
    );
    const done = collect(child, 60_000);
    // Ten minutes: while the test looks, the message can only be in the retry queue.
    await eventually(async () => (await countIn(waiting)) === 1, 30_000);
    expect(await broker.messageCount(work)).toBe(0);
    child.kill('SIGKILL');
    const result = await done;
    expect(result.signal).toBe('SIGKILL');
    expect(await countIn(waiting), 'still waiting after warren is gone').toBe(1);
    expect(await broker.messageCount(work)).toBe(0);
    expect(fileLines(join(dir, 'runs'))).toEqual(['0']);

    const info = await apiGet<{ durable: boolean; arguments: Record<string, unknown> }>(
      `queues/%2F/${encodeURIComponent(waiting)}`,
    );
    expect(info?.durable).toBe(true);
    expect(info?.arguments).toEqual({
      'x-message-ttl': 600_000,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': work,
      'x-expires': expiresOf(600_000),
    });
    const copy = (await broker.drain(waiting))[0];
    expect(copy?.properties.messageId).toBe('w-1');
    expect(copy?.properties.headers?.['x-warren-retries']).toBe(1);
  });

  it('SIGKILL while a message waits: it comes back to the queue by itself and the next warren handles it', async () => {
    const dir = handlerDir('restart');
    const { work } = await withDeadLetters('retry-delay-restart');
    await broker.publish('', work, 'again', { messageId: 'r-1' });
    const waiting = retryQueue(work, 2000);
    const flags = ['--retry-delay', '2s', '--max-retries', '3'];
    // The first try fails; a later one in this warren (had the message come back before the
    // kill) holds on until warren is gone, so that it goes back to the queue unacked.
    const holding =
      'echo "$WARREN_RETRIES" >> "$HDIR/first"; if [ "$WARREN_RETRIES" = 0 ]; then exit 3; fi; while kill -0 "$PPID" 2>/dev/null; do sleep 0.1; done; exit 3';
    const child = startWarren(['consume', work, '--exec', holding, ...flags], { env: { HDIR: dir } });
    const done = collect(child, 60_000);
    await eventually(
      async () => (await countIn(waiting)) === 1 || fileLines(join(dir, 'first')).length > 1,
      30_000,
    );
    child.kill('SIGKILL');
    await done;
    // Nothing of warren is left: the broker alone brings the message back.
    await eventually(async () => (await broker.messageCount(work)) === 1, 30_000);
    expect(await broker.messageCount(waiting)).toBe(0);

    const result = await runWarren(
      [
        'consume',
        work,
        '--exec',
        'echo "$WARREN_RETRIES $WARREN_HEADERS" >> "$HDIR/second"',
        ...flags,
        '--count',
        '1',
      ],
      { env: { HDIR: dir } },
    );
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(result.stderr).toMatch(/handled 1 message from '.*': 1 acked in /);
    const runs = triesLogged(join(dir, 'second'));
    expect(runs.map((run) => run.retries)).toEqual(['1']);
    expect(runs[0]?.deaths?.[0]).toMatchObject({ queue: waiting, reason: 'expired' });
    expect(await broker.messageCount(work)).toBe(0);
  });

  it('exit 75 without --max-retries waits too, as a counted retry (a queue name too long for the suffix gets a hashed one)', async () => {
    const dir = handlerDir('tempfail');
    // 255 bytes in all: no room for `.retry.200ms`.
    const work = await broker.queue('t'.repeat(255 - uniqueName('').length));
    expect(Buffer.byteLength(work)).toBe(255);
    await broker.publish('', work, 'busy', { messageId: 't-1' });
    const waiting = retryQueue(work, 200);
    expect(waiting).toMatch(/~[0-9a-f]{16}\.retry\.200ms$/);
    const result = await runWarren(
      [
        'consume',
        work,
        '--exec',
        'echo "$WARREN_RETRIES $WARREN_REDELIVERED" >> "$HDIR/runs"; [ "$WARREN_RETRIES" -ge 1 ] || exit 75',
        '--retry-delay',
        '200ms',
        '--on-failure',
        'reject',
        '--count',
        '1',
      ],
      { env: { HDIR: dir } },
    );
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(fileLines(join(dir, 'runs'))).toEqual(['0 false', '1 false']);
    expect(warnings(result.stderr)).toEqual(['warning: message t-1: handler exit 75: retried in 200ms']);
    expect(result.stderr).toMatch(/handled 1 message from '.*': 1 acked \(1 retry, 1 run failed\) in /);
    expect(await broker.messageCount(work)).toBe(0);
    expect(await broker.messageCount(waiting)).toBe(0);
  });

  it('a message that once expired in the work queue (a replayed DLQ) still comes back: its copy leaves x-death out, which the broker would take for a cycle', async () => {
    const dir = handlerDir('cycle');
    const { work } = await withDeadLetters('retry-delay-cycle');
    // As RabbitMQ wrote it when the message expired from this queue into its DLQ.
    const deathHere = { queue: work, reason: 'expired', count: 1, exchange: '', 'routing-keys': [work] };
    await broker.publish('', work, 'replayed', { messageId: 'y-1', headers: { 'x-death': [deathHere] } });
    const waiting = retryQueue(work, 200);
    const result = await runWarren(
      [
        'consume',
        work,
        '--exec',
        'echo "$WARREN_RETRIES $WARREN_HEADERS" >> "$HDIR/runs"; [ "$WARREN_RETRIES" -ge 1 ]',
        '--retry-delay',
        '200ms',
        '--count',
        '1',
        // Bounds a run whose message the broker dropped (it would wait for ever).
        '--timeout',
        '20s',
      ],
      { env: { HDIR: dir } },
    );
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    const runs = triesLogged(join(dir, 'runs'));
    expect(runs.map((run) => run.retries)).toEqual(['0', '1']);
    expect(runs[0]?.deaths).toMatchObject([{ queue: work, reason: 'expired' }]);
    expect(runs[1]?.deaths, 'the broker wrote its own, for the retry queue').toMatchObject([
      { queue: waiting, reason: 'expired' },
    ]);
    expect(runs[1]?.deaths).toHaveLength(1);
  });

  it('a retry queue that exists with other arguments: exit 5 naming it and what differs, nothing taken', async () => {
    const { work } = await withDeadLetters('retry-delay-clash');
    await broker.publish('', work, 'untouched', { messageId: 'c-1' });
    const clash = retryQueue(work, 300);
    // As warren would declare it but for its TTL (the broker names the first difference).
    await broker.channel.assertQueue(clash, {
      durable: true,
      expires: expiresOf(300),
      arguments: { 'x-message-ttl': 5000 },
    });
    const result = await runWarren(['consume', work, '--exec', 'true', '--retry-delay', '300ms']);
    expect(result.code, result.stderr).toBe(5);
    expectClean(result);
    const [error, ...others] = errors(result.stderr);
    expect(others).toEqual([]);
    expect(error).toContain(`the retry queue '${clash}' exists with other settings`);
    expect(error).toMatch(/inequivalent arg 'x-message-ttl'/);
    expect(result.stderr).toMatch(/x-message-ttl 300, x-dead-letter-exchange '', /);
    expect(result.stderr).not.toMatch(/handled/);
    expect(await broker.messageCount(work)).toBe(1);
  });
});
