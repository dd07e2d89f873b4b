/**
 * `warren check rpc` end to end: a request answered in time (OK, its reply time measured),
 * one answered with a reply that fails --match, one nobody answers (CRITICAL after
 * --within), one no queue takes (returned: CRITICAL), and a malformed --match (usage).
 * The responder is a plain amqplib consumer in the test, replying as any RPC server does.
 */
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker, uniqueName } from '../helpers/broker.js';
import { measured, runCheck } from '../helpers/checkResult.js';
import { collect, runWarren, startWarren } from '../helpers/cli.js';

let broker: TestBroker;
let responders: amqp.Channel[] = [];
/** The requests the responders took, as they came. */
const requests: amqp.ConsumeMessage[] = [];

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterAll(async () => {
  for (const channel of responders) await channel.close().catch(() => {});
  responders = [];
  await broker?.cleanup();
});

/** Answers every request on `queue` with `reply(body)`, to its reply-to, with its correlation id. */
async function respond(queue: string, reply: (body: string) => string): Promise<void> {
  const channel = await broker.connection.createChannel();
  responders.push(channel);
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      requests.push(message);
      channel.sendToQueue(message.properties.replyTo, Buffer.from(reply(message.content.toString())), {
        correlationId: message.properties.correlationId,
      });
      channel.ack(message);
    },
    { noAck: false },
  );
}

describe('check rpc', () => {
  it('is OK when a matching reply comes within --within, and measures its time', async () => {
    const q = await broker.queue('check-rpc-ok');
    await respond(q, (body) => JSON.stringify({ status: 'ok', echo: body }));
    const { code, stderr, found } = await runCheck('rpc', [
      '',
      q,
      'ping',
      ...'--within 20s --warn 15s --match body.status=ok'.split(' '),
    ]);
    expect(code, stderr).toBe(0);
    expect(found.status).toBe('OK');
    expect(found.target).toBe(`(default):${q}`);
    const time = measured(found, 'reply_time');
    expect(time?.crit).toBe(20);
    expect(time?.warn).toBe(15);
    expect(time?.value).toBeGreaterThan(0);
    expect(time?.value).toBeLessThanOrEqual(20);
    // The request: transient, expiring after --within, with direct reply-to.
    const request = requests.find((message) => message.fields.routingKey === q);
    expect(request?.properties.expiration).toBe('20000');
    expect(request?.properties.deliveryMode).toBe(1);
    expect(request?.properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./);
    expect(request?.content.toString()).toBe('ping');
  });

  it('is OK against warren consume --exec --reply as the responder', async () => {
    const q = await broker.queue('check-rpc-exec');
    const handler = startWarren(['consume', q, '--exec', 'cat', '--reply', '--count', '1']);
    try {
      const result = collect(handler);
      await eventually(async () => (await broker.channel.checkQueue(q)).consumerCount === 1);
      const { code, stderr, found } = await runCheck('rpc', [
        '',
        q,
        'pong',
        '--within',
        '20s',
        '--match',
        'body=pong',
      ]);
      expect(code, stderr).toBe(0);
      expect(found.message).toMatch(/^reply in /);
      expect((await result).code).toBe(0);
    } finally {
      if (handler.exitCode === null && handler.signalCode === null) handler.kill('SIGKILL');
    }
  });

  it('is CRITICAL (exit 7) when the reply does not match, and says what came', async () => {
    const q = await broker.queue('check-rpc-mismatch');
    await respond(q, () => JSON.stringify({ status: 'failed' }));
    const { code, stderr, found } = await runCheck('rpc', [
      '',
      q,
      'ping',
      '--match',
      'body.status=ok',
      '--within',
      '20s',
    ]);
    expect(code, stderr).toBe(7);
    expect(found.status).toBe('CRITICAL');
    expect(found.message).toContain('does not match body.status=ok');
    expect(found.message).toContain('failed');
    // The reply came: its time is measured even though it is the wrong one.
    expect(measured(found, 'reply_time')?.value).toBeGreaterThan(0);
  });

  it('is CRITICAL (exit 7) when nobody answers within --within; the request then expires', async () => {
    const q = await broker.queue('check-rpc-late');
    const { code, stderr, found } = await runCheck('rpc', ['', q, 'ping', '--within', '500ms']);
    expect(code, stderr).toBe(7);
    expect(found.status).toBe('CRITICAL');
    expect(found.message).toBe('no reply within 500ms');
    expect(measured(found, 'reply_time')?.value).toBeNull();
    // Expired after --within, the request leaves the queue without anyone taking it.
    await eventually(async () => (await broker.messageCount(q)) === 0);
  });

  it('says CRITICAL in the nagios format with exit 2', async () => {
    const q = await broker.queue('check-rpc-nagios');
    const result = await runWarren([
      'check',
      'rpc',
      '',
      q,
      'ping',
      '--within',
      '500ms',
      '--format',
      'nagios',
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout.toString()).toMatch(/^WARREN CRITICAL - rpc /);
  });

  it('is CRITICAL (exit 7) when no queue takes the request (returned)', async () => {
    const nowhere = uniqueName('check-rpc-nowhere');
    const { code, stderr, found } = await runCheck('rpc', ['', nowhere, 'ping', '--within', '20s']);
    expect(code, stderr).toBe(7);
    expect(found.status).toBe('CRITICAL');
    expect(found.message).toBe('request not delivered: returned by the broker (312 NO_ROUTE)');
  });

  it('refuses a malformed --match before sending anything (exit 2)', async () => {
    const q = await broker.queue('check-rpc-badmatch');
    const result = await runWarren(['check', 'rpc', '', q, 'ping', '--within', '1s', '--match', 'body.=']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('body.=');
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('wants --within', async () => {
    const result = await runWarren(['check', 'rpc', '', 'q', 'ping']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--within');
  });
});
