/**
 * `warren consume QUEUE --exec CMD` end to end: a shell command per message, settled by how
 * it ended. What a person sees (exit codes, stderr lines, an empty stdout) and, above all,
 * what is left in which queue afterwards: acked, requeued, retried or dead-lettered.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker } from '../helpers/broker.js';
import { numbered, publishMany, takeAllFast } from '../helpers/bulk.js';
import { collect, runWarren, startWarren } from '../helpers/cli.js';
import {
  deadLettered,
  errors,
  expectClean,
  expectUsageErrors,
  fileLines,
  lines,
  newHandlerDir,
  warnings,
} from '../helpers/execRuns.js';
import { forceCloseNextConnectionOf } from '../helpers/rabbitmqctl.js';

let broker: TestBroker;
let root: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  root = mkdtempSync(join(tmpdir(), 'warren-exec-'));
});

afterAll(async () => {
  await broker?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

const handlerDir = (name: string) => newHandlerDir(root, name);

/** A queue holding `count` messages with messageId `prefix-1`…`prefix-count`. */
async function filledQueue(prefix: string, count: number, options: amqp.Options.AssertQueue = {}) {
  const queue = await broker.queue(prefix, options);
  await publishMany(broker.connection, '', queue, numbered(prefix, count));
  expect(await broker.messageCount(queue)).toBe(count);
  return queue;
}

const withDeadLetters = (prefix: string, options: amqp.Options.AssertQueue = {}) =>
  deadLettered(broker, prefix, options);

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
const idsOf = (messages: amqp.Message[]) => messages.map((m) => m.properties.messageId as string);

/** `consume QUEUE --exec 'exit 3' --max-retries 2 --count N`: a handler that always fails. */
const failingWithTwoRetries = (queue: string, count: number) =>
  runWarren(['consume', queue, '--exec', 'exit 3', '--max-retries', '2', '--count', String(count)]);

/**
 * A `sleep` whose command line no other process has, to look for leftovers with pgrep, in a
 * subshell of its own that leaves a file in `dir` if the sleep runs to its end: so a test
 * sees that a handler was stopped, rather than how long the run took (which load stretches).
 */
function markedSleep(dir: string): { command: string; pattern: string; ended: () => boolean } {
  const digits = String(100_000_000 + Math.floor(Math.random() * 800_000_000));
  const marker = join(dir, `slept.${digits}`);
  return {
    command: `(sleep 29.${digits}; touch '${marker}')`,
    pattern: `sleep 29\\.${digits}`,
    ended: () => existsSync(marker),
  };
}

/**
 * Runs `consume QUEUE --exec HANDLER ARGS`, whose handler touches `started.ID` in `dir` first,
 * and sends SIGINT once one has started; the run must end by it (exit 130), cleanly. Returns
 * the result and the ids whose handlers started.
 */
async function interruptedOnceStarted(queue: string, handler: string, args: string[], dir: string) {
  const child = startWarren(['consume', queue, '--exec', handler, ...args], { env: { HDIR: dir } });
  const done = collect(child);
  await eventually(async () => readdirSync(dir).some((name) => name.startsWith('started.')), 10_000);
  child.kill('SIGINT');
  const result = await done;
  expect(result.code, result.stderr).toBe(130);
  expectClean(result);
  const started = readdirSync(dir)
    .filter((name) => name.startsWith('started.'))
    .map((name) => name.slice('started.'.length));
  return { result, started };
}

function running(pattern: string): string[] {
  const result = spawnSync('pgrep', ['-af', pattern], { encoding: 'utf8' });
  return lines(result.stdout ?? '');
}

describe.concurrent('consume --exec', () => {
  describe('success', () => {
    it('acks each message once its handler exits 0; the bodies arrive on stdin', async () => {
      const dir = handlerDir('ack');
      const queue = await broker.queue('exec-ack');
      const bodies = ['one\n', 'two\n', '', 'four\n', 'five\n'];
      for (const [i, body] of bodies.entries())
        await broker.publish('', queue, body, { messageId: `a-${i + 1}` });
      const result = await runWarren(['consume', queue, '--exec', 'cat >> "$HDIR/out"', '--count', '5'], {
        env: { HDIR: dir },
      });
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(bodies.join(''));
      expect(await broker.messageCount(queue)).toBe(0);
      expect(warnings(result.stderr)).toEqual([]);
      expect(result.stderr).toMatch(new RegExp(`handled 5 messages from '${queue}': 5 acked in `));
    });

    it('a handler that does not read its stdin (1 MiB bodies) still succeeds: acked, no EPIPE', async () => {
      const queue = await broker.queue('exec-noread');
      const big = Buffer.alloc(1024 * 1024, 0x61);
      await publishMany(broker.connection, '', queue, [
        { body: big, options: { messageId: 'big-1' } },
        { body: big, options: { messageId: 'big-2' } },
        { body: big, options: { messageId: 'big-3' } },
      ]);
      const result = await runWarren(['consume', queue, '--exec', 'exit 0', '--count', '3']);
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(result.stderr).not.toMatch(/EPIPE|ECONNRESET/);
      expect(warnings(result.stderr)).toEqual([]);
      expect(result.stderr).toMatch(/handled 3 messages from '.*': 3 acked/);
      expect(await broker.messageCount(queue)).toBe(0);
    });

    it('--timeout waits for a slow handler, then ends the run once the queue stays idle', async () => {
      // Fails (a warren bug): once the idle timer has fired while a handler ran, it is never
      // armed again, so the run does not end when the queue then stays idle: it hangs.
      const queue = await filledQueue('exec-slow-idle', 1);
      const result = await runWarren(['consume', queue, '--exec', 'sleep 1.2', '--timeout', '400ms'], {
        timeoutMs: 8000,
      });
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(result.stderr).toMatch(/handled 1 message from '.*': 1 acked/);
      expect(await broker.messageCount(queue)).toBe(0);
    });

    it('--timeout 1s --count 5 with only 2 messages: exit 3, timed out, the 2 are acked', async () => {
      const queue = await filledQueue('exec-timeout', 2);
      const result = await runWarren([
        'consume',
        queue,
        '--exec',
        'cat > /dev/null',
        '--count',
        '5',
        '--timeout',
        '1s',
      ]);
      expect(result.code, result.stderr).toBe(3);
      expectClean(result);
      const errorLines = errors(result.stderr);
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toMatch(/timed out: handled 2 of 5 messages/);
      expect(result.stderr).toMatch(/handled 2 messages from '.*': 2 acked/);
      expect(await broker.messageCount(queue)).toBe(0);
    });

    it('--count 2 with --concurrency 4: two handled, the messages prefetched beyond stay queued', async () => {
      const dir = handlerDir('count-conc');
      const queue = await filledQueue('exec-count-conc', 8);
      const result = await runWarren(
        [
          'consume',
          queue,
          '--exec',
          'echo "$WARREN_MESSAGE_ID" >> "$HDIR/done"',
          '--concurrency',
          '4',
          '--count',
          '2',
        ],
        { env: { HDIR: dir } },
      );
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      const done = fileLines(join(dir, 'done'));
      expect(done).toHaveLength(2);
      const left = idsOf(await takeAllFast(broker.connection, queue));
      expect(
        left.filter((id) => done.includes(id)),
        'handled and still queued',
      ).toEqual([]);
      expect(new Set([...done, ...left])).toEqual(new Set(ids('exec-count-conc', 8)));
      expect(left).toHaveLength(6);
    });
  });

  describe('the handler environment', () => {
    it('sets WARREN_* from the envelope, only what the message has; the body arrives byte for byte', async () => {
      const dir = handlerDir('env');
      const exchange = await broker.exchange('exec-env-x', 'direct');
      const queue = await broker.queue('exec-env');
      await broker.channel.bindQueue(queue, exchange, 'order.created.eu');
      const binary = Buffer.concat([Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0xc3, 0x28]), randomBytes(4096)]);
      await broker.publish(exchange, 'order.created.eu', binary, {
        messageId: 'env-1',
        correlationId: 'corr-1',
        replyTo: 'replies.here',
        contentType: 'application/octet-stream',
        type: 'order.created',
        appId: 'exec-test',
        timestamp: 1795770000,
        priority: 3,
        headers: { 'x-tenant': 'acme', 'x-wide': { '!': 'int64', value: 7 } },
      });
      await broker.publish(exchange, 'order.created.eu', 'bare');
      const handler = 'f=$(mktemp "$HDIR/msg.XXXXXX") && env -0 > "$f.env" && cat > "$f.body"';
      const result = await runWarren(['consume', queue, '--exec', handler, '--count', '2'], {
        env: {
          HDIR: dir,
          // Inherited by warren: must not leak into a message that has no such property.
          WARREN_MESSAGE_ID: 'leaked-from-parent',
          WARREN_CORRELATION_ID: 'leaked-from-parent',
          WARREN_HEADERS: '{"leaked":true}',
        },
      });
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(await broker.messageCount(queue)).toBe(0);

      const runs = readdirSync(dir)
        .filter((name) => name.endsWith('.env'))
        .map((name) => {
          const env: Record<string, string> = {};
          for (const entry of readFileSync(join(dir, name), 'utf8').split('\0')) {
            const eq = entry.indexOf('=');
            if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
          }
          return { env, body: readFileSync(join(dir, name.replace(/\.env$/, '.body'))) };
        });
      expect(runs).toHaveLength(2);
      const full = runs.find((run) => run.body.equals(binary));
      const bare = runs.find((run) => run.body.toString() === 'bare');
      expect(full, 'the binary body arrived unchanged on stdin').toBeDefined();
      expect(bare).toBeDefined();

      const warrenVars = (env: Record<string, string>) =>
        Object.fromEntries(
          Object.entries(env).filter(([name]) => /^WARREN_/.test(name) && name !== 'WARREN_URL'),
        );
      const fullVars = warrenVars(full?.env ?? {});
      expect(fullVars).toMatchObject({
        WARREN_QUEUE: queue,
        WARREN_EXCHANGE: exchange,
        WARREN_ROUTING_KEY: 'order.created.eu',
        WARREN_REDELIVERED: 'false',
        WARREN_RETRIES: '0',
        WARREN_MESSAGE_ID: 'env-1',
        WARREN_CORRELATION_ID: 'corr-1',
        WARREN_REPLY_TO: 'replies.here',
        WARREN_CONTENT_TYPE: 'application/octet-stream',
        WARREN_TYPE: 'order.created',
        WARREN_APP_ID: 'exec-test',
        WARREN_TIMESTAMP: '1795770000',
        WARREN_PRIORITY: '3',
      });
      expect(JSON.parse(fullVars['WARREN_HEADERS'] ?? 'null')).toEqual({
        'x-tenant': 'acme',
        'x-wide': { '!': 'int64', value: 7 },
      });
      expect(JSON.parse(fullVars['WARREN_PROPERTIES'] ?? 'null')).toMatchObject({
        messageId: 'env-1',
        correlationId: 'corr-1',
        replyTo: 'replies.here',
        contentType: 'application/octet-stream',
        type: 'order.created',
        appId: 'exec-test',
        timestamp: 1795770000,
        priority: 3,
      });
      for (const absent of ['WARREN_CONTENT_ENCODING', 'WARREN_USER_ID', 'WARREN_EXPIRATION']) {
        expect(fullVars, `${absent} is not set for a message without it`).not.toHaveProperty(absent);
      }
      // warren's own environment is passed on.
      expect(full?.env['HDIR']).toBe(dir);

      const bareVars = warrenVars(bare?.env ?? {});
      expect(bareVars).toMatchObject({
        WARREN_QUEUE: queue,
        WARREN_EXCHANGE: exchange,
        WARREN_ROUTING_KEY: 'order.created.eu',
        WARREN_REDELIVERED: 'false',
        WARREN_RETRIES: '0',
      });
      for (const absent of [
        'WARREN_MESSAGE_ID',
        'WARREN_CORRELATION_ID',
        'WARREN_REPLY_TO',
        'WARREN_CONTENT_TYPE',
        'WARREN_TYPE',
        'WARREN_APP_ID',
        'WARREN_TIMESTAMP',
        'WARREN_PRIORITY',
      ]) {
        expect(bareVars, `${absent} is not set (nor inherited) for a message without it`).not.toHaveProperty(
          absent,
        );
      }
      expect(JSON.parse(bareVars['WARREN_HEADERS'] ?? 'null')).toEqual({});
      expect(JSON.parse(bareVars['WARREN_PROPERTIES'] ?? 'null')).not.toHaveProperty('messageId');
    });
  });

  describe('failure policies', () => {
    it('--on-failure requeue (default): a failed message comes back redelivered and is acked once it succeeds', async () => {
      const dir = handlerDir('requeue');
      const queue = await broker.queue('exec-requeue');
      await broker.publish('', queue, 'payload', { messageId: 'req-1' });
      const handler =
        'echo "$WARREN_REDELIVERED" >> "$HDIR/runs"; if [ -e "$HDIR/tried" ]; then exit 0; fi; touch "$HDIR/tried"; exit 1';
      // --count 1: the requeue gives the message back, its second try finishes it.
      const result = await runWarren(['consume', queue, '--exec', handler, '--count', '1'], {
        env: { HDIR: dir },
      });
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(fileLines(join(dir, 'runs'))).toEqual(['false', 'true']);
      expect(warnings(result.stderr)).toEqual(['warning: message req-1: handler exit 1: requeued']);
      expect(result.stderr).toMatch(/handled 1 message from '.*': 1 acked \(1 requeue, 1 run failed\)/);
      expect(await broker.messageCount(queue)).toBe(0);
    });

    it.each(['reject', 'dead-letter'])(
      '--on-failure %s: a failed message goes to the DLQ',
      async (policy) => {
        const { work, dlq } = await withDeadLetters(`exec-${policy}`);
        await broker.publish('', work, 'payload', { messageId: 'rej-1' });
        const result = await runWarren([
          'consume',
          work,
          '--exec',
          'exit 4',
          '--on-failure',
          policy,
          '--count',
          '1',
        ]);
        expect(result.code, result.stderr).toBe(0);
        expectClean(result);
        expect(warnings(result.stderr)).toEqual(['warning: message rej-1: handler exit 4: rejected']);
        expect(result.stderr).toMatch(/handled 1 message from '.*': 0 acked, 1 rejected \(1 run failed\)/);
        expect(await broker.messageCount(work)).toBe(0);
        const dead = await broker.drain(dlq);
        expect(idsOf(dead)).toEqual(['rej-1']);
        expect(dead[0]?.content.toString()).toBe('payload');
        const death = (
          dead[0]?.properties.headers?.['x-death'] as Record<string, unknown>[] | undefined
        )?.[0];
        expect(death?.['reason']).toBe('rejected');
        expect(death?.['queue']).toBe(work);
      },
    );

    it('exit 65 rejects (to the DLQ) even with --on-failure requeue', async () => {
      const { work, dlq } = await withDeadLetters('exec-65');
      await broker.publish('', work, 'bad data', { messageId: 'bad-1' });
      const result = await runWarren([
        'consume',
        work,
        '--exec',
        'exit 65',
        '--on-failure',
        'requeue',
        '--count',
        '1',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(warnings(result.stderr)).toEqual(['warning: message bad-1: handler exit 65: rejected']);
      expect(await broker.messageCount(work)).toBe(0);
      expect(idsOf(await broker.drain(dlq))).toEqual(['bad-1']);
    });

    it('exit 75 requeues even with --on-failure reject', async () => {
      const { work, dlq } = await withDeadLetters('exec-75');
      await broker.publish('', work, 'try later', { messageId: 'later-1' });
      const dir = handlerDir('exit-75');
      // The first try asks for another; the second, redelivered, succeeds.
      const handler =
        'echo "$WARREN_REDELIVERED" >> "$HDIR/runs"; if [ -e "$HDIR/tried" ]; then exit 0; fi; touch "$HDIR/tried"; exit 75';
      const result = await runWarren(
        ['consume', work, '--exec', handler, '--on-failure', 'reject', '--count', '1'],
        { env: { HDIR: dir } },
      );
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(warnings(result.stderr)).toEqual(['warning: message later-1: handler exit 75: requeued']);
      expect(fileLines(join(dir, 'runs')), 'requeued by the broker: redelivered').toEqual(['false', 'true']);
      expect(result.stderr).toMatch(/handled 1 message from '.*': 1 acked \(1 requeue, 1 run failed\)/);
      expect(await broker.messageCount(dlq)).toBe(0);
      expect(await broker.messageCount(work)).toBe(0);
    });

    it('a command that does not exist: the shell exits 127 and the message is failed by the policy', async () => {
      const { work, dlq } = await withDeadLetters('exec-127');
      await broker.publish('', work, 'payload', { messageId: 'nf-1' });
      const result = await runWarren([
        'consume',
        work,
        '--exec',
        'no-such-command-xyz',
        '--on-failure',
        'reject',
        '--count',
        '1',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(result.stderr).toMatch(/no-such-command-xyz.*not found/);
      expect(warnings(result.stderr)).toEqual(['warning: message nf-1: handler exit 127: rejected']);
      expect(await broker.messageCount(work)).toBe(0);
      expect(idsOf(await broker.drain(dlq))).toEqual(['nf-1']);
    });
  });

  describe('--max-retries: a poison message', () => {
    it.each([
      ['classic', {}],
      ['quorum', { durable: true, arguments: { 'x-queue-type': 'quorum' } }],
    ] as const)(
      'on a %s queue: tried 1 + 2 times, then to the DLQ with x-warren-retries 2',
      async (kind, options) => {
        const dir = handlerDir(`poison-${kind}`);
        const { work, dlq } = await withDeadLetters(`exec-poison-${kind}`, options);
        await broker.publish('', work, 'poison', { messageId: 'p-1', headers: { 'x-tenant': 'acme' } });
        const result = await runWarren(
          [
            'consume',
            work,
            '--exec',
            'echo "$WARREN_RETRIES" >> "$HDIR/runs"; exit 3',
            '--max-retries',
            '2',
            '--count',
            '1',
          ],
          { env: { HDIR: dir } },
        );
        expect(result.code, result.stderr).toBe(0);
        expectClean(result);
        expect(fileLines(join(dir, 'runs')), 'WARREN_RETRIES of each run').toEqual(['0', '1', '2']);
        expect(warnings(result.stderr)).toEqual([
          'warning: message p-1: handler exit 3: retried',
          'warning: message p-1: handler exit 3: retried',
          'warning: message p-1: handler exit 3; gave up after 2 retries: rejected',
        ]);
        // One message, three tries: the retries are tries, not messages.
        expect(result.stderr).toMatch(
          /handled 1 message from '.*': 0 acked, 1 rejected \(2 retries, 3 runs failed\)/,
        );
        expect(await broker.messageCount(work)).toBe(0);
        const dead = await broker.drain(dlq);
        expect(idsOf(dead)).toEqual(['p-1']);
        expect(dead[0]?.content.toString()).toBe('poison');
        expect(dead[0]?.properties.headers?.['x-warren-retries']).toBe(2);
        expect(dead[0]?.properties.headers?.['x-tenant']).toBe('acme');
      },
    );
  });

  it('--max-retries: the retry copy of a message with a CC header goes to its own queue only', async () => {
    const { work, dlq } = await withDeadLetters('exec-cc');
    const other = await broker.queue('exec-cc-other');
    // The broker routes a CC header's keys too, and keeps the header on the delivery.
    await broker.publish('', work, 'cc', { messageId: 'cc-1', CC: [other] });
    expect(await broker.messageCount(other)).toBe(1);
    const result = await failingWithTwoRetries(work, 1);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/1 rejected \(2 retries, 3 runs failed\)/);
    expect(idsOf(await broker.drain(dlq))).toEqual(['cc-1']);
    expect(await broker.messageCount(other), 'copies sent to the CC queue by the retries').toBe(1);
  });

  it('--max-retries: a message whose headers leave no room for the retry count is rejected, not crashed on', async () => {
    const { work, dlq } = await withDeadLetters('exec-full-headers');
    // 65,523 bytes of header value: as much as one message can carry; x-warren-retries
    // would take it over 64 KiB.
    const big = 'h'.repeat(65_523);
    await broker.publish('', work, 'heavy', { messageId: 'f-1', headers: { big } });
    const result = await failingWithTwoRetries(work, 1);
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(warnings(result.stderr)).toEqual([
      'warning: message f-1: handler exit 3: retried',
      expect.stringMatching(
        /^warning: message f-1: the retry count cannot be added \(headers: \d+ bytes encoded, over the 65536 a message may carry\): rejected instead$/,
      ),
    ]);
    expect(result.stderr).toMatch(/handled 1 message from '.*': 0 acked, 1 rejected \(1 run failed\)/);
    expect(await broker.messageCount(work)).toBe(0);
    const dead = await broker.drain(dlq);
    expect(idsOf(dead)).toEqual(['f-1']);
    expect(dead[0]?.properties.headers?.['big']).toBe(big);
  });

  it('a message that cannot be handed to a handler (NUL in its id, headers over the variable limit) is rejected, and the next is handled', async () => {
    const { work, dlq } = await withDeadLetters('exec-unfit');
    // The first delivery once stalled the run: its handler failed before the consumer was in place.
    await broker.publish('', work, 'nul', { messageId: 'n\u0000ul' });
    await broker.publish('', work, 'big', { messageId: 'big', headers: { h: '\u0001'.repeat(30_000) } });
    await broker.publish('', work, 'good', { messageId: 'good' });
    const result = await runWarren(['consume', work, '--exec', 'cat >/dev/null', '--count', '3']);
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(warnings(result.stderr)).toEqual([
      expect.stringMatching(
        /handler did not start: ERR_INVALID_ARG_VALUE \(a property or header holds a NUL byte.*\): rejected$/,
      ),
      expect.stringMatching(
        /^warning: message big: handler did not start: E2BIG \(its headers or properties are too large.*\): rejected$/,
      ),
    ]);
    expect(result.stderr).toMatch(/handled 3 messages from '.*': 1 acked, 2 rejected \(2 runs failed\)/);
    expect(await broker.messageCount(work)).toBe(0);
    expect(idsOf(await broker.drain(dlq))).toEqual(['n\u0000ul', 'big']);
  });

  describe('--exec-timeout', () => {
    it.each([
      ['a hung handler', (sleep: string) => `touch "$HDIR/started"; ${sleep}`],
      [
        'a handler waiting on a background child',
        (sleep: string) => `touch "$HDIR/started"; ${sleep} & wait`,
      ],
      [
        'a handler whose background child left the pipes',
        (sleep: string) => `touch "$HDIR/started"; ${sleep} </dev/null >/dev/null 2>&1 & wait`,
      ],
      [
        'a handler that ignores SIGTERM',
        (sleep: string) => `trap '' TERM; touch "$HDIR/started"; ${sleep} & wait`,
      ],
    ])('kills %s and its whole process group; the message is failed by the policy', async (_what, make) => {
      const dir = handlerDir('exec-timeout');
      const sleep = markedSleep(dir);
      const { work, dlq } = await withDeadLetters('exec-exec-timeout');
      await broker.publish('', work, 'slow', { messageId: 'slow-1' });
      const result = await runWarren(
        [
          'consume',
          work,
          '--exec',
          make(sleep.command),
          '--exec-timeout',
          '500ms',
          '--on-failure',
          'reject',
          '--count',
          '1',
        ],
        // Longer than the sleep: a warren that waited for it ends too, and is caught below.
        { env: { HDIR: dir }, timeoutMs: 45_000 },
      );
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(existsSync(join(dir, 'started')), 'the handler ran').toBe(true);
      expect(sleep.ended(), 'the timeout ended the handler, not the sleep').toBe(false);
      expect(warnings(result.stderr)).toEqual(['warning: message slow-1: handler timed out: rejected']);
      expect(running(sleep.pattern), 'nothing of the handler is left running').toEqual([]);
      expect(await broker.messageCount(work)).toBe(0);
      expect(idsOf(await broker.drain(dlq))).toEqual(['slow-1']);
    });
  });

  describe('--concurrency', () => {
    it('runs 4 handlers at once, never more, and prefixes their output lines with [MESSAGE_ID]', async () => {
      const dir = handlerDir('concurrency');
      const queue = await filledQueue('exec-conc', 8);
      // Each handler waits (up to 20 s) until four have started, so the first four surely
      // overlap however slowly a loaded machine starts them; a fifth lane would show as a
      // fifth span overlapping them. Proved by the spans, never by how long the run took.
      const handler = [
        's=$(date +%s%N)',
        'touch "$HDIR/started.$WARREN_MESSAGE_ID"',
        'echo "started $WARREN_MESSAGE_ID"',
        'echo "to stderr" >&2',
        'n=0; while [ "$(ls "$HDIR" | grep -c "^started\\.")" -lt 4 ] && [ $n -lt 400 ]; do n=$((n+1)); sleep 0.05; done',
        'sleep 0.3',
        'e=$(date +%s%N)',
        'echo "$s $e" > "$HDIR/$WARREN_MESSAGE_ID"',
        "printf 'last line without newline'",
      ].join('; ');
      const result = await runWarren(
        ['consume', queue, '--exec', handler, '--concurrency', '4', '--count', '8'],
        {
          env: { HDIR: dir },
        },
      );
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(await broker.messageCount(queue)).toBe(0);
      expect(result.stderr).toMatch(/handled 8 messages from '.*': 8 acked/);

      const spans = ids('exec-conc', 8).map((id) => {
        const [start, end] = readFileSync(join(dir, id), 'utf8').trim().split(' ').map(BigInt);
        return { start: start as bigint, end: end as bigint };
      });
      const events = spans
        .flatMap(({ start, end }) => [
          { at: start, delta: 1 },
          { at: end, delta: -1 },
        ])
        .sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
      let now = 0;
      let most = 0;
      for (const event of events) {
        now += event.delta;
        most = Math.max(most, now);
      }
      expect(most, 'handlers running at the same moment').toBe(4);

      const output = lines(result.stderr).filter((line) => !/^(warning:|handled |error)/.test(line));
      for (const id of ids('exec-conc', 8)) {
        expect(output).toContain(`[${id}] started ${id}`);
        expect(output).toContain(`[${id}] to stderr`);
        expect(output).toContain(`[${id}] last line without newline`);
      }
      for (const line of output) expect(line, 'every handler line is prefixed').toMatch(/^\[exec-conc-\d\] /);
    });

    it('with --concurrency 1 the handler output is passed on without a prefix', async () => {
      const queue = await filledQueue('exec-noprefix', 2);
      const result = await runWarren([
        'consume',
        queue,
        '--exec',
        'echo "line from $WARREN_MESSAGE_ID"',
        '--count',
        '2',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      const out = lines(result.stderr);
      expect(out).toContain('line from exec-noprefix-1');
      expect(out).toContain('line from exec-noprefix-2');
      expect(out.filter((line) => line.startsWith('['))).toEqual([]);
    });
  });

  describe('messages taken ahead of the handlers', () => {
    /** `consume QUEUE --exec HANDLER --count N`, one handler at a time, that must end well. */
    async function handleSequentially(queue: string, handler: string, count: number, dir: string) {
      const result = await runWarren(['consume', queue, '--exec', handler, '--count', String(count)], {
        env: { HDIR: dir },
      });
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      return result;
    }

    it('--count 3, one handler at a time: exactly the first 3 handled, in order; the other 7 stay queued, in order', async () => {
      const dir = handlerDir('ahead-count');
      const queue = await filledQueue('exec-ahead-count', 10);
      const result = await handleSequentially(queue, 'echo "$WARREN_MESSAGE_ID" >> "$HDIR/done"', 3, dir);
      const all = ids('exec-ahead-count', 10);
      expect(fileLines(join(dir, 'done'))).toEqual(all.slice(0, 3));
      expect(result.stderr).toMatch(/handled 3 messages from '.*': 3 acked in /);
      const left = await takeAllFast(broker.connection, queue);
      expect(idsOf(left)).toEqual(all.slice(3));
    });

    it('one handler at a time, though the next one is started ahead: each runs after the one before ended', async () => {
      const dir = handlerDir('ahead-serial');
      const queue = await filledQueue('exec-ahead-serial', 6);
      const handler =
        'echo "start $WARREN_MESSAGE_ID" >> "$HDIR/log"; sleep 0.2; echo "end $WARREN_MESSAGE_ID" >> "$HDIR/log"';
      await handleSequentially(queue, handler, 6, dir);
      expect(fileLines(join(dir, 'log'))).toEqual(
        ids('exec-ahead-serial', 6).flatMap((id) => [`start ${id}`, `end ${id}`]),
      );
    });

    it('SIGINT with messages held ahead: the running handler finishes and is acked, the held ones stay queued, in order, never run', async () => {
      const dir = handlerDir('ahead-sigint');
      const queue = await filledQueue('exec-ahead-sigint', 10);
      const handler =
        'touch "$HDIR/started.$WARREN_MESSAGE_ID"; sleep 0.5; echo "$WARREN_MESSAGE_ID" >> "$HDIR/done"';
      const { result, started } = await interruptedOnceStarted(queue, handler, [], dir);
      const acked = fileLines(join(dir, 'done'));
      expect(started.sort(), 'a handler ran that was only held').toEqual([...acked].sort());
      const all = ids('exec-ahead-sigint', 10);
      expect(acked, 'handled in queue order').toEqual(all.slice(0, acked.length));
      expect(acked.length).toBeGreaterThanOrEqual(1);
      expect(idsOf(await takeAllFast(broker.connection, queue))).toEqual(all.slice(acked.length));
      expect(result.stderr).toMatch(
        new RegExp(`handled ${acked.length} messages? from '.*': ${acked.length} acked in `),
      );
    });
  });

  describe('stopping', () => {
    it('SIGINT: exit 130, running handlers finish and are acked, every message acked xor still queued', async () => {
      const dir = handlerDir('sigint');
      const queue = await filledQueue('exec-sigint', 10);
      const handler =
        'touch "$HDIR/started.$WARREN_MESSAGE_ID"; sleep 1; echo "$WARREN_MESSAGE_ID" >> "$HDIR/done"';
      const { result, started } = await interruptedOnceStarted(queue, handler, ['--concurrency', '3'], dir);
      expect(result.stderr).toMatch(/stopping: waiting up to 10(\.0+)?s for \d running handlers?/);

      const acked = fileLines(join(dir, 'done'));
      expect(new Set(acked).size, 'no message handled twice').toBe(acked.length);
      expect(new Set(acked), 'every handler that started finished within the grace').toEqual(
        new Set(started),
      );
      expect(acked.length).toBeGreaterThanOrEqual(1);
      const left = idsOf(await takeAllFast(broker.connection, queue));
      expect(new Set(left).size).toBe(left.length);
      expect(
        acked.filter((id) => left.includes(id)),
        'handled AND still queued (ack lost)',
      ).toEqual([]);
      expect(acked.length + left.length, `acked ${acked.length} + left ${left.length}`).toBe(10);
      expect(new Set([...acked, ...left])).toEqual(new Set(ids('exec-sigint', 10)));
      expect(left.length, 'the run was stopped early').toBeGreaterThan(0);
      expect(result.stderr).toMatch(
        new RegExp(`handled ${acked.length} messages? from '.*': ${acked.length} acked`),
      );
    });

    it('SIGTERM with --grace: a handler that finishes within it is acked, one that does not is stopped, exit 143, the rest requeued', async () => {
      const dir = handlerDir('sigterm');
      const sleep = markedSleep(dir);
      const queue = await filledQueue('exec-sigterm', 3);
      // The first message's handler finishes when the test says so, during the grace; the
      // second's would sleep through it.
      const handler = [
        'touch "$HDIR/started.$WARREN_MESSAGE_ID"',
        'if [ "$WARREN_MESSAGE_ID" = exec-sigterm-1 ]; then',
        '  until [ -e "$HDIR/finish" ]; do sleep 0.05; done; echo "$WARREN_MESSAGE_ID" >> "$HDIR/done"',
        `else ${sleep.command}; fi`,
      ].join('\n');
      const child = startWarren(
        ['consume', queue, '--exec', handler, '--concurrency', '2', '--grace', '5s'],
        {
          env: { HDIR: dir },
        },
      );
      // Longer than the sleep: a warren that waited for it ends too, and is caught below.
      const done = collect(child, 45_000);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      await eventually(
        async () => readdirSync(dir).filter((name) => name.startsWith('started.')).length === 2,
        10_000,
      );
      child.kill('SIGTERM');
      await eventually(async () => /stopping: waiting/.test(stderr));
      writeFileSync(join(dir, 'finish'), '');
      const result = await done;
      expect(result.code, result.stderr).toBe(143);
      expectClean(result);
      expect(result.stderr).toMatch(/stopping: waiting up to 5(\.0+)?s for 2 running handlers/);
      expect(fileLines(join(dir, 'done')), 'the grace period is given').toEqual(['exec-sigterm-1']);
      expect(sleep.ended(), 'after the grace the handler is stopped, not waited for').toBe(false);
      expect(warnings(result.stderr), 'a shutdown is not the message’s failure').toEqual([]);
      // The message whose handler was stopped goes back: a requeue, not a message handled.
      expect(result.stderr).toMatch(/handled 1 message from '.*': 1 acked \(1 requeue\) in /);
      expect(running(sleep.pattern), 'no handler left running').toEqual([]);
      const left = await takeAllFast(broker.connection, queue);
      expect(new Set(idsOf(left))).toEqual(new Set(['exec-sigterm-2', 'exec-sigterm-3']));
      expect(left).toHaveLength(2);
    });
    it('a second SIGINT quits now: ended by the signal itself, the handlers killed, none left running', async () => {
      const dir = handlerDir('sigint-twice');
      const sleep = markedSleep(dir);
      const queue = await filledQueue('exec-sigint-twice', 2);
      const handler = `touch "$HDIR/started.$WARREN_MESSAGE_ID"; ${sleep.command}`;
      const child = startWarren(['consume', queue, '--exec', handler, '--concurrency', '2'], {
        env: { HDIR: dir },
      });
      const done = collect(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      await eventually(
        async () => readdirSync(dir).filter((name) => name.startsWith('started.')).length === 2,
        10_000,
      );
      child.kill('SIGINT');
      await eventually(async () => /stopping: waiting/.test(stderr));
      child.kill('SIGINT');
      const result = await done;
      // Quit now means now: warren ends by the signal itself, not through the shutdown that
      // waits out the grace (exit 130), and the handlers' sleeps never run to their end.
      expect(result.signal, `exit ${result.code} / ${result.signal}`).toBe('SIGINT');
      expect(sleep.ended(), 'the handlers were killed, not waited for').toBe(false);
      expect(result.stdout.length).toBe(0);
      expect(result.stderr, 'the summary says what went back').toMatch(
        /handled 0 messages from '.*': 0 acked, 2 unsettled/,
      );
      // The broker puts the messages back: a handler still running on one is a second worker.
      await eventually(async () => (await broker.messageCount(queue)) === 2);
      let left: string[] = [];
      try {
        await eventually(async () => running(sleep.pattern).length === 0, 10_000);
      } catch {
        left = running(sleep.pattern);
      }
      for (const line of left) {
        try {
          process.kill(Number(line.split(' ')[0]), 'SIGKILL');
        } catch {}
      }
      expect(left, 'handlers orphaned by the quit, still running on requeued messages').toEqual([]);
    });
  });

  describe('a Ctrl-C before the broker is there', () => {
    it('--wait-for-broker: a Ctrl-C while connecting ends the wait at once, exit 130 after the summary', async () => {
      const child = startWarren(
        [
          'consume',
          'q',
          '--exec',
          'true',
          '--url',
          'amqp://guest:guest@127.0.0.1:1/',
          '--wait-for-broker',
          '60s',
          '-v',
        ],
        { env: { WARREN_URL: undefined } },
      );
      const done = collect(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      // Trying again: the wait is under way.
      await eventually(async () => /not up yet/.test(stderr), 20_000);
      child.kill('SIGINT');
      const result = await done;
      expect(result.code, `${result.signal} ${stderr}`).toBe(130);
      expectClean(result);
      expect(result.stderr).toMatch(/\nhandled 0 messages from 'q': 0 acked in \S+\n$/);
    });
  });

  describe('a lost connection', () => {
    it('--max-retries, the connection cut 5 times mid-run: reconnects, every id completes, a try run again is marked redelivered', async () => {
      const dir = handlerDir('cut');
      const total = 1000;
      const queue = await filledQueue('exec-cut', total);
      // Each message's first try fails (a counted retry: a copy goes back to the queue),
      // its retry succeeds; every run is logged with its try and its redelivered mark.
      const handler =
        'echo "$WARREN_MESSAGE_ID $WARREN_RETRIES $WARREN_REDELIVERED" >> "$HDIR/runs"; [ "$WARREN_RETRIES" -ge 1 ]';
      // The run ends 10 s after the queue is empty: a shorter --timeout can end it early on a
      // loaded machine, where the broker may deliver nothing for seconds after a reconnection.
      const child = startWarren(
        ['consume', queue, '--exec', handler, '--max-retries', '3', '--concurrency', '8', '--timeout', '10s'],
        { env: { HDIR: dir } },
      );
      const done = collect(child, 300_000);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const reconnections = () => (stderr.match(/lost the connection.*reconnecting/g) ?? []).length;
      for (const [cut, after] of [200, 500, 800, 1100, 1400].entries()) {
        const said = () => `cut ${cut + 1}, warren said: ${stderr}`;
        await eventually(async () => fileLines(join(dir, 'runs')).length >= after, 120_000, said);
        await forceCloseNextConnectionOf(child.pid as number, 'warren consume --exec');
        // Each cut on a connection of its own, not on the one just cut.
        await eventually(async () => reconnections() > cut, 30_000, said);
      }
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
      expectClean(result);
      expect(
        lines(result.stderr).filter((line) => /lost the connection.*reconnecting/.test(line)),
      ).toHaveLength(5);
      expect(await broker.messageCount(queue)).toBe(0);

      const runs = fileLines(join(dir, 'runs')).map((line) => {
        const [id = '', tries = '', redelivered = ''] = line.split(' ');
        return { id, tries, redelivered };
      });
      const completed = new Set(runs.filter((run) => run.tries !== '0').map((run) => run.id));
      const missing = ids('exec-cut', total).filter((id) => !completed.has(id));
      expect(missing, 'ids never completed').toEqual([]);
      // A try of a message run a second time (its outcome lost with the connection) must say so.
      const seen = new Set<string>();
      const unmarked: string[] = [];
      for (const run of runs) {
        const key = `${run.id} try ${run.tries}`;
        if (seen.has(key) && run.redelivered !== 'true') unmarked.push(key);
        seen.add(key);
      }
      expect(unmarked, 'run again with WARREN_REDELIVERED=false').toEqual([]);
      expect(result.stderr).toMatch(
        /handled \d+ messages from '.*': \d+ acked(, \d+ unsettled)? \(\d+ retries/,
      );
    }, 300_000);
  });

  describe('errors', () => {
    it('a missing queue: exit 5, one error line naming it', async () => {
      const missing = `warren-test.no-such-queue.${process.pid}.${randomBytes(4).toString('hex')}`;
      const result = await runWarren(['consume', missing, '--exec', 'cat', '--timeout', '2s']);
      expect(result.code, result.stderr).toBe(5);
      expectClean(result);
      const errorLines = errors(result.stderr);
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toContain(missing);
    });

    it('usage errors exit 2 before anything is taken', async () => {
      const queue = await filledQueue('exec-usage', 1);
      const cases: [string[], RegExp][] = [
        [['--exec', 'cat', '--format', 'ndjson'], /--format does not go with --exec/],
        [['--exec', 'cat', '--ack-mode', 'requeue'], /--ack-mode does not go with --exec/],
        [['--exec', 'cat', '--prefetch', '5'], /--prefetch does not go with --exec/],
        [['--exec', 'cat', '--template', 'x'], /--template does not go with --exec/],
        [['--concurrency', '2'], /--concurrency goes with --exec/],
        [['--max-retries', '1'], /--max-retries goes with --exec/],
        [['--reply'], /--reply goes with --exec/],
        [['--on-failure', 'reject'], /--on-failure goes with --exec/],
        [['--exec-timeout', '1s'], /--exec-timeout goes with --exec/],
        [['--grace', '1s'], /--grace goes with --exec/],
        [['--exec', 'cat', '--on-failure', 'maybe'], /--on-failure.*maybe/],
      ];
      await expectUsageErrors(queue, cases);
      expect(await broker.messageCount(queue)).toBe(1);
    });
  });
});
