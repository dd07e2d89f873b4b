/**
 * `warren events` against the real broker (event exchange plugin enabled): each test watches
 * only events about a queue it names itself, so other tests' events do not count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BROKER_URL,
  connectTestBroker,
  eventually,
  expiring,
  type TestBroker,
  uniqueName,
} from '../helpers/broker.js';
import { ndjson, outputSoFar, runWarren, startTapping } from '../helpers/cli.js';
import { forceCloseConnectionOf } from '../helpers/rabbitmqctl.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await connectTestBroker();
});
afterAll(async () => {
  await broker.cleanup();
});

/** Starts `warren -v events ARGS` and waits until its tap is bound. */
function startEvents(args: string[]) {
  return startTapping(['events', ...args], 60_000);
}

/** Watches PATTERN for events about `queue` until --count N (or 30 s of nothing). */
function watchQueue(queue: string, pattern: string, count: number, format: 'ndjson' | 'pretty') {
  const match = `name=${queue}`;
  return startEvents([
    pattern,
    '--match',
    match,
    '--count',
    `${count}`,
    '--timeout',
    '30s',
    '--format',
    format,
  ]);
}

/** Declares a queue (with the test lease) and deletes it again: one queue.created, one queue.deleted. */
async function declareAndDelete(name: string): Promise<void> {
  await broker.channel.assertQueue(name, expiring({ durable: false }));
  await broker.channel.deleteQueue(name);
}

describe('warren events', () => {
  it('sees a queue the test declares and deletes, as NDJSON event records', async () => {
    const queue = uniqueName('events-q');
    const { done } = await watchQueue(queue, 'queue.*', 2, 'ndjson');
    await declareAndDelete(queue);
    const result = await done;
    expect(result.code).toBe(0);
    const records = ndjson(result.stdout);
    expect(records.map((r) => r['event'])).toEqual(['queue.created', 'queue.deleted']);
    const [created, deleted] = records as [Record<string, unknown>, Record<string, unknown>];
    expect(Object.keys(created).slice(0, 4)).toEqual(['event', 'time', 'vhost', 'name']);
    expect(created).toMatchObject({
      vhost: '/',
      name: queue,
      durable: false,
      autoDelete: false,
      exclusive: false,
      userWhoPerformedAction: 'guest',
      arguments: { 'x-expires': 600000 },
    });
    expect(created['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(created).not.toHaveProperty('timestampInMs');
    expect(deleted).toMatchObject({ event: 'queue.deleted', vhost: '/', name: queue });
    expect(result.stderr).toMatch(/saw 2 events from 'amq\.rabbitmq\.event:queue\.\*'/);
  });

  it('runs a trigger once bound, and ends 0 at --count', async () => {
    const queue = uniqueName('events-trigger');
    const result = await runWarren(
      [
        'events',
        'queue.created',
        '--match',
        `name=${queue}`,
        '--count',
        '1',
        '--timeout',
        '30s',
        '--pass-url',
        '--',
        process.execPath,
        'bin/warren.js',
        'declare',
        'queue',
        queue,
        '--expires',
        '1m',
        '--no-durable',
      ],
      { timeoutMs: 60_000 },
    );
    await broker.channel.deleteQueue(queue);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    expect(ndjson(result.stdout)).toMatchObject([{ event: 'queue.created', name: queue }]);
  });

  it('pretty output: the time, the event and the name, then the fields as key=value', async () => {
    const queue = uniqueName('events-pretty');
    const { done } = await watchQueue(queue, 'queue.created', 1, 'pretty');
    await declareAndDelete(queue);
    const result = await done;
    expect(result.code).toBe(0);
    const text = result.stdout.toString();
    const lines = text.split('\n');
    expect(lines[0]).toBe(`${lines[0]?.slice(0, 12)}  queue.created  ${queue}`);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} /);
    expect(text).toMatch(/\n {2}vhost=\/ {2}userWhoPerformedAction=guest/);
    expect(text).toContain('arguments={"x-expires":600000}');
    // An empty field (ownerPid of a queue no connection owns) is left out.
    expect(text).not.toContain('ownerPid');
  });

  it('--timeout before --count: exit 3, saying how many of how many came', async () => {
    const never = uniqueName('events-never');
    const result = await runWarren(['events', '--match', `name=${never}`, '--count', '1', '--timeout', '1s']);
    expect(result.code).toBe(3);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toMatch(
      /timed out: got 0 of 1 events from 'amq\.rabbitmq\.event:#', then nothing for 1s/,
    );
  });

  it('--timeout without --count ends 0', async () => {
    const never = uniqueName('events-quiet');
    const result = await runWarren(['events', '--match', `name=${never}`, '--timeout', '1s']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/saw 0 events/);
  });

  it('leaves out what the broker says about its own tap (its binding, its consumer)', async () => {
    const { child, done, tapQueue } = await startEvents(['binding.*', 'consumer.*', '--format', 'ndjson']);
    // Read from now on: the event may reach warren's stdout before the consume below returns.
    const seen = outputSoFar(child);
    // Another queue's binding and consumer, seen after warren's own would have been.
    const other = await broker.queue('events-other');
    await broker.channel.bindQueue(other, 'amq.topic', other);
    const { consumerTag } = await broker.channel.consume(other, () => {});
    await eventually(
      async () =>
        seen.stdout().includes(`"event":"consumer.created"`) && seen.stdout().includes(`"queue":"${other}"`),
      30_000,
      () => `stdout:\n${seen.stdout()}\nstderr:\n${seen.stderr()}`,
    );
    await broker.channel.cancel(consumerTag);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    const records = ndjson(result.stdout);
    expect(records.some((r) => r['event'] === 'binding.created' && r['destinationName'] === other)).toBe(
      true,
    );
    expect(records.filter((r) => r['destinationName'] === tapQueue || r['queue'] === tapQueue)).toEqual([]);
  });

  it('reconnects after the broker closes its connection, taps again, warns of the gap, and carries on', async () => {
    const queue = uniqueName('events-reconnect');
    const { child, done } = await watchQueue(queue, 'queue.*', 2, 'ndjson');
    const seen = outputSoFar(child);
    await broker.channel.assertQueue(queue, expiring({ durable: false }));
    await eventually(async () => seen.stdout().includes('"event":"queue.created"'));
    await forceCloseConnectionOf(child.pid as number, 'warren events');
    await eventually(async () => /tapping '.*' again/.test(seen.stderr()), 10_000);
    await broker.channel.deleteQueue(queue);
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson(result.stdout).map((r) => r['event'])).toEqual(['queue.created', 'queue.deleted']);
    expect(result.stderr).toMatch(/reconnecting \(1 of 5\): events published meanwhile may be missed/);
  });

  it('Ctrl-C ends it with exit 130 and a summary', async () => {
    const never = uniqueName('events-sigint');
    const { child, done } = await startEvents(['--match', `name=${never}`]);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/saw 0 events from 'amq\.rabbitmq\.event:#'/);
  });

  it('a malformed --match is a usage error naming it, before connecting', async () => {
    const result = await runWarren(['events', '--match', 'name=<orders', '--url', 'amqp://127.0.0.1:1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: --match 'name=<orders': '=<' is not an operator/);
  });

  it('--format body is a usage error', async () => {
    const result = await runWarren(['events', '--format', 'body']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--format/);
  });

  describe('a vhost without the event exchange (as with the plugin off)', () => {
    const api = new URL(BROKER_URL);
    const base = `http://${api.hostname}:15672/api`;
    const auth = `Basic ${Buffer.from(`${decodeURIComponent(api.username)}:${decodeURIComponent(api.password)}`).toString('base64')}`;
    const vhost = uniqueName('events-vhost');
    const request = (method: string, path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    beforeAll(async () => {
      expect((await request('PUT', `/vhosts/${encodeURIComponent(vhost)}`)).ok).toBe(true);
      const user = encodeURIComponent(decodeURIComponent(api.username));
      const permissions = { configure: '.*', write: '.*', read: '.*' };
      expect(
        (await request('PUT', `/permissions/${encodeURIComponent(vhost)}/${user}`, permissions)).ok,
      ).toBe(true);
    });
    afterAll(async () => {
      await request('DELETE', `/vhosts/${encodeURIComponent(vhost)}`);
    });

    it('ends at once, exit 69, with one line saying how to enable the plugin', async () => {
      const url = new URL(BROKER_URL);
      url.pathname = `/${encodeURIComponent(vhost)}`;
      const result = await runWarren(['--url', url.toString(), 'events', '--timeout', '30s']);
      expect(result.code).toBe(69);
      expect(result.stdout.length).toBe(0);
      expect(result.stderr).toBe(
        `error: no exchange 'amq.rabbitmq.event' in vhost '${vhost}': the event exchange plugin is not enabled, or publishes to another vhost ('/' unless set otherwise)\n` +
          '  enable it on the broker: rabbitmq-plugins enable rabbitmq_event_exchange\n',
      );
    });
  });
});
