/**
 * Request/reply end to end: `warren publish --rpc` (direct reply-to, a fresh correlation id,
 * the reply printed) against `warren consume Q --exec CMD --reply` and against a plain
 * amqplib responder, with the exit codes of a request nobody answers.
 */
import type { ChildProcess } from 'node:child_process';
import type amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker, uniqueName } from '../helpers/broker.js';
import { collect, ndjson, type RunResult, runWarren, startWarren } from '../helpers/cli.js';
import { hasStackTrace } from '../helpers/spawn.js';

let broker: TestBroker;
/** Handlers started by a test: killed after it if still running (a failed test). */
const started: ChildProcess[] = [];

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterEach(() => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

afterAll(async () => {
  await broker?.cleanup();
});

const HANDLER_SUMMARY = /handled (\d+) messages? from '[^']*': (.*?) in /;

/**
 * Starts `warren consume QUEUE --exec …` and waits until its consumer is on the queue
 * (unless the queue already holds its work: then it may be done before it is seen).
 */
async function startHandler(
  queue: string,
  args: string[],
  options: { waitForConsumer?: boolean } = {},
): Promise<{ child: ChildProcess; result: Promise<RunResult> }> {
  const child = startWarren(['consume', queue, ...args]);
  started.push(child);
  const result = collect(child);
  if (options.waitForConsumer !== false) {
    await eventually(async () => (await broker.channel.checkQueue(queue)).consumerCount === 1, 10_000);
  }
  return { child, result };
}

/** `handled N messages …: 2 acked, 1 rejected (1 run failed), 2 replies` → its parts. */
function handlerSummary(stderr: string): { handled: number; parts: string } {
  const match = HANDLER_SUMMARY.exec(stderr);
  if (!match) throw new Error(`no handler summary on stderr: ${stderr}`);
  return { handled: Number(match[1]), parts: match[2] as string };
}

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^error\b/i.test(line));
}

function expectOneErrorLine(result: RunResult): string {
  expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
  const lines = errorLines(result.stderr);
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0] as string;
}

/** The correlation id a verbose requester says it sent. */
function sentCorrelationId(stderr: string): string {
  const id = /request sent with correlation id (\S+)/.exec(stderr)?.[1];
  if (!id) throw new Error(`no correlation id on stderr: ${stderr}`);
  return id;
}

describe('publish --rpc against consume --exec --reply', () => {
  it('prints the reply, the request is acked, the handler counts its reply', async () => {
    const q = await broker.queue('rpc-round');
    const handler = await startHandler(q, ['--exec', 'tr a-z A-Z', '--reply', '--count', '1']);
    const result = await runWarren(['publish', '--rpc', '-k', q, '--template', '{body}', 'hello']);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('HELLO\n');
    expect(result.stderr).toMatch(new RegExp(`reply to '${q.replace(/\./g, '\\.')}' in `));

    const served = await handler.result;
    expect(served.code, served.stderr).toBe(0);
    expect(served.stdout.length).toBe(0);
    expect(handlerSummary(served.stderr)).toEqual({ handled: 1, parts: '1 acked, 1 reply' });
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('--format ndjson: the reply envelope carries the correlation id the request was sent with', async () => {
    const q = await broker.queue('rpc-ndjson');
    const handler = await startHandler(q, ['--exec', 'tr a-z A-Z', '--reply', '--count', '1']);
    const result = await runWarren(['publish', '-v', '--rpc', '-k', q, '--format', 'ndjson', 'hello']);
    expect(result.code, result.stderr).toBe(0);
    const [reply, extra] = ndjson(result.stdout);
    expect(extra).toBeUndefined();
    const sent = sentCorrelationId(result.stderr);
    expect(sent).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply).toMatchObject({
      exchange: '',
      properties: { correlationId: sent },
      body: 'HELLO',
      bodyEncoding: 'utf8',
    });
    expect(reply?.['routingKey']).toMatch(/^amq\.rabbitmq\.reply-to\./);
    const served = await handler.result;
    expect(served.code, served.stderr).toBe(0);
    expect(handlerSummary(served.stderr).parts).toBe('1 acked, 1 reply');
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('--correlation-id abc: the request and its reply carry abc', async () => {
    const q = await broker.queue('rpc-corr');
    const handler = await startHandler(q, [
      '--exec',
      'printf "%s:" "$WARREN_CORRELATION_ID"; tr a-z A-Z',
      '--reply',
      '--count',
      '1',
    ]);
    const result = await runWarren(['publish', '--rpc', '-k', q, '--correlation-id', 'abc', 'hi']);
    expect(result.code, result.stderr).toBe(0);
    const [reply, extra] = ndjson(result.stdout);
    expect(extra).toBeUndefined();
    expect(reply).toMatchObject({ properties: { correlationId: 'abc' }, body: 'abc:HI' });
    expect((await handler.result).code).toBe(0);
  });

  it('five requests at once against --concurrency 5: each gets its own reply', async () => {
    const q = await broker.queue('rpc-many');
    const handler = await startHandler(q, [
      '--exec',
      'sleep 0.3; tr a-z A-Z',
      '--reply',
      '--concurrency',
      '5',
      '--count',
      '5',
    ]);
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
    const results = await Promise.all(
      words.map((word) =>
        runWarren(['publish', '-v', '--rpc', '-k', q, '--format', 'ndjson', '--timeout', '20s', word]),
      ),
    );
    const ids = new Set<string>();
    results.forEach((result, i) => {
      expect(result.code, result.stderr).toBe(0);
      const replies = ndjson(result.stdout);
      expect(replies).toHaveLength(1);
      const sent = sentCorrelationId(result.stderr);
      ids.add(sent);
      expect(replies[0]).toMatchObject({
        properties: { correlationId: sent },
        body: words[i]?.toUpperCase(),
      });
    });
    expect(ids.size).toBe(5);
    const served = await handler.result;
    expect(served.code, served.stderr).toBe(0);
    expect(handlerSummary(served.stderr)).toEqual({ handled: 5, parts: '5 acked, 5 replies' });
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('a handler that fails (exit 1, --on-failure reject) sends no reply: the requester times out', async () => {
    const q = await broker.queue('rpc-fail');
    const handler = await startHandler(q, [
      '--exec',
      'cat >/dev/null; exit 1',
      '--on-failure',
      'reject',
      '--reply',
      '--count',
      '1',
    ]);
    const result = await runWarren(['publish', '--rpc', '-k', q, '--timeout', '2s', 'x']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout.length).toBe(0);
    expect(expectOneErrorLine(result)).toMatch(/no reply within 2s/);
    const served = await handler.result;
    expect(served.code, served.stderr).toBe(0);
    expect(served.stderr).toMatch(/handler exit 1: rejected/);
    expect(handlerSummary(served.stderr)).toEqual({
      handled: 1,
      parts: '0 acked, 1 rejected (1 run failed), 0 replies',
    });
    expect(await broker.messageCount(q)).toBe(0);
  });
});

describe('--reply without direct reply-to', () => {
  it("a message without reply-to: the handler's stdout is dropped with a warning, the message acked", async () => {
    const q = await broker.queue('rpc-noreplyto');
    await broker.publish('', q, 'secret-output-body', { messageId: 'm-1' });
    const handler = await startHandler(q, ['--exec', 'cat', '--reply', '--count', '1'], {
      waitForConsumer: false,
    });
    const served = await handler.result;
    expect(served.code, served.stderr).toBe(0);
    expect(served.stdout.length).toBe(0);
    expect(served.stderr).toMatch(/message m-1 has no reply-to: the handler's output was dropped/);
    expect(served.stderr).not.toContain('secret-output-body');
    expect(handlerSummary(served.stderr)).toEqual({ handled: 1, parts: '1 acked, 0 replies' });
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('--reply-to a plain queue (published without --rpc): the reply lands there with the correlation id', async () => {
    const q = await broker.queue('rpc-plain-req');
    const replies = await broker.queue('rpc-plain-replies');
    const published = await runWarren([
      'publish',
      '-k',
      q,
      '--reply-to',
      replies,
      '--correlation-id',
      'corr-7',
      'hello',
    ]);
    expect(published.code, published.stderr).toBe(0);
    const handler = await startHandler(q, ['--exec', 'tr a-z A-Z', '--reply', '--count', '1'], {
      waitForConsumer: false,
    });
    const served = await handler.result;
    expect(served.code, served.stderr).toBe(0);
    expect(handlerSummary(served.stderr)).toEqual({ handled: 1, parts: '1 acked, 1 reply' });
    const [reply, extra] = await broker.drain(replies);
    expect(extra).toBeUndefined();
    expect(reply?.content.toString()).toBe('HELLO');
    expect(reply?.properties.correlationId).toBe('corr-7');
    expect(reply?.fields.routingKey).toBe(replies);
    expect(await broker.messageCount(q)).toBe(0);
  });
  it('--reply to a request without a correlation id: the reply carries none either', async () => {
    const q = await broker.queue('rpc-plain-nocorr');
    const replies = await broker.queue('rpc-plain-nocorr-replies');
    await broker.publish('', q, 'abc', { replyTo: replies });
    const handler = await startHandler(q, ['--exec', 'tr a-z A-Z', '--reply', '--count', '1'], {
      waitForConsumer: false,
    });
    const served = await handler.result;
    expect(served.code, served.stderr).toBe(0);
    const [reply, extra] = await broker.drain(replies);
    expect(extra).toBeUndefined();
    expect(reply?.content.toString()).toBe('ABC');
    expect(reply?.properties.correlationId).toBeUndefined();
  });
});

describe('publish --rpc against a plain amqplib responder', () => {
  /** Consumes `queue` and answers each request with `answer`'s replies (published in order). */
  async function respond(
    queue: string,
    answer: (request: amqp.ConsumeMessage) => { body: string; correlationId: string }[],
  ): Promise<{ close: () => Promise<void>; requests: amqp.ConsumeMessage[] }> {
    const channel = await broker.connection.createChannel();
    const requests: amqp.ConsumeMessage[] = [];
    await channel.consume(queue, (request) => {
      if (!request) return;
      requests.push(request);
      for (const reply of answer(request)) {
        channel.publish('', request.properties.replyTo as string, Buffer.from(reply.body), {
          correlationId: reply.correlationId,
        });
      }
      channel.ack(request);
    });
    return { close: () => channel.close().catch(() => {}), requests };
  }

  it('warren speaks plain direct reply-to: the request names amq.rabbitmq.reply-to, the reply is printed', async () => {
    const q = await broker.queue('rpc-amqplib');
    const responder = await respond(q, (request) => [
      { body: `echo:${request.content.toString()}`, correlationId: request.properties.correlationId },
    ]);
    try {
      const result = await runWarren(['publish', '--rpc', '-k', q, '--template', '{body}', 'ping']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.toString()).toBe('echo:ping\n');
      expect(result.stderr).toMatch(/reply to '/);
      const [request] = responder.requests;
      expect(responder.requests).toHaveLength(1);
      expect(request?.properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./);
      expect(request?.properties.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await responder.close();
    }
  });

  it('a reply with another correlation id first, then the right one: only the right one is printed', async () => {
    const q = await broker.queue('rpc-wrongcorr');
    const responder = await respond(q, (request) => [
      { body: 'WRONG', correlationId: 'not-the-request' },
      { body: 'RIGHT', correlationId: request.properties.correlationId },
      { body: 'AGAIN', correlationId: request.properties.correlationId },
    ]);
    try {
      const result = await runWarren(['publish', '--rpc', '-k', q, '--format', 'ndjson', 'ping']);
      expect(result.code, result.stderr).toBe(0);
      const printed = ndjson(result.stdout);
      expect(printed).toHaveLength(1);
      expect(printed[0]).toMatchObject({
        body: 'RIGHT',
        properties: { correlationId: responder.requests[0]?.properties.correlationId },
      });
    } finally {
      await responder.close();
    }
  });
});

describe('requests that get no reply', () => {
  it('no consumer: --timeout 500ms exits 3, prints nothing, leaves the request in the queue', async () => {
    const q = await broker.queue('rpc-timeout');
    // The test gives up before the default --timeout (30s) would end it: exit 3 here is the
    // flag's doing. How close to 500ms it ends is a timing, for the bench, not for this test.
    const result = await runWarren(['publish', '--rpc', '-k', q, '--timeout', '500ms', 'anyone?'], {
      timeoutMs: 20_000,
    });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout.length).toBe(0);
    expect(expectOneErrorLine(result)).toMatch(/no reply within 500ms \(correlation id [0-9a-f-]{36}\)/);
    const [request, extra] = await broker.drain(q);
    expect(extra).toBeUndefined();
    expect(request?.content.toString()).toBe('anyone?');
    expect(request?.properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./);
  });

  it('no such queue: the request is returned, exit 4', async () => {
    const missing = uniqueName('rpc-missing');
    const result = await runWarren(['publish', '--rpc', '-k', missing, '--timeout', '10s', 'x']);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stdout.length).toBe(0);
    expect(expectOneErrorLine(result)).toMatch(/returned/);
  });

  it('no such queue with --no-mandatory: no routing error, it times out (exit 3)', async () => {
    const missing = uniqueName('rpc-missing');
    const result = await runWarren(['publish', '--rpc', '--no-mandatory', '-k', missing, '-t', '500ms', 'x']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).not.toMatch(/returned|not delivered|NO_ROUTE/);
    expect(expectOneErrorLine(result)).toMatch(/no reply within 500ms/);
  });
});

describe('publish --rpc stopped while it waits', () => {
  it('SIGINT ends the wait: exit 130, prints nothing, the request stays queued', async () => {
    const q = await broker.queue('rpc-sigint');
    const child = startWarren(['publish', '--rpc', '-k', q, '--timeout', '60s', 'waiting']);
    started.push(child);
    // The test gives up long before --timeout 60s: a SIGINT that did not end the wait fails it.
    const result = collect(child, 20_000);
    await eventually(async () => (await broker.messageCount(q)) === 1, 10_000);
    child.kill('SIGINT');
    const stopped = await result;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stdout.length).toBe(0);
    expect(errorLines(stopped.stderr)).toEqual([]);
    expect(stopped.stderr, 'the Ctrl-C ended it, not the timer').not.toMatch(/no reply within/);
    expect(
      (await broker.drain(q)).map((m) => m.content.toString()),
      'the request stays',
    ).toEqual(['waiting']);
  });
});

describe('publish --rpc: usage errors (exit 2, nothing sent)', () => {
  it.each([
    { name: '--rpc --input lines', args: ['--rpc', '--input', 'lines'], mentions: /--input/ },
    { name: '--rpc --reply-to x', args: ['--rpc', '--reply-to', 'x'], mentions: /--reply-to/ },
    { name: '--timeout 1s without --rpc', args: ['--timeout', '1s'], mentions: /--timeout goes with --rpc/ },
    {
      name: '--format ndjson without --rpc',
      args: ['--format', 'ndjson'],
      mentions: /--format goes with --rpc/,
    },
  ])('$name', async ({ args, mentions }) => {
    const q = await broker.queue('rpc-usage');
    const result = await runWarren(['publish', '-k', q, ...args, 'body']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout.length).toBe(0);
    expect(expectOneErrorLine(result)).toMatch(mentions);
    expect(await broker.messageCount(q)).toBe(0);
  });
});
