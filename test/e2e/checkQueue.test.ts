/**
 * `warren check queue` and `warren check message` against the real broker and its management
 * API: each bound crossed both ways (depth, unacked, consumers at least and at most, the head
 * message's age from its timestamp), a head without a timestamp, a missing queue, a peek that
 * leaves the queue as it was, a message found and not found, and usage errors.
 *
 * Every queue is uniquely named, expiring, and deleted after. The ages are hours apart from
 * the bounds, so no assertion hangs on how fast the machine is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker } from '../helpers/broker.js';
import { ndjson, runWarren } from '../helpers/cli.js';
import { waitForQueue } from '../helpers/managementApi.js';

interface MeasureJson {
  name: string;
  value: number | null;
  warn: number | null;
  crit: number | null;
  bound: string;
}

let broker: TestBroker;

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterAll(async () => {
  await broker?.cleanup();
});

/** Runs `warren check ARGS --format json`: its exit code and its results, parsed. */
async function check(args: string[], global: string[] = []) {
  const run = await runWarren([...global, 'check', ...args, '--format', 'json']);
  const results = ndjson(run.stdout);
  const measure = (name: string, index = 0) =>
    ((results[index]?.['measures'] ?? []) as MeasureJson[]).find((m) => m.name === name);
  return { code: run.code, stderr: run.stderr, results, first: results[0] ?? {}, measure };
}

const HOUR = 3600;
const now = () => Math.floor(Date.now() / 1000);

/** Every message of the queue, taken (once the broker has put back those a peek held). */
async function bodiesOf(queue: string, count: number): Promise<string[]> {
  await eventually(async () => (await broker.messageCount(queue)) === count);
  return (await broker.drain(queue)).map((message) => message.content.toString());
}

describe('warren check queue', () => {
  it('depth: OK under the bounds, WARNING over --warn-depth, CRITICAL over --max-depth', async () => {
    const queue = await broker.queue('check-depth');
    for (const body of ['a', 'b', 'c']) await broker.publish('', queue, body);

    const under = await check(['queue', queue, '--warn-depth', '3', '--max-depth', '5']);
    expect(under.code).toBe(0);
    expect(under.first['status']).toBe('OK');
    expect(under.first['target']).toBe(queue);
    expect(under.measure('depth')).toMatchObject({ value: 3, warn: 3, crit: 5, bound: 'max' });

    const warned = await check(['queue', queue, '--warn-depth', '2', '--max-depth', '5']);
    expect([warned.code, warned.first['status']]).toEqual([6, 'WARNING']);

    const over = await check(['queue', queue, '--max-depth', '2']);
    expect([over.code, over.first['status']]).toEqual([7, 'CRITICAL']);
    expect(over.first['message']).toMatch(/^3 ready/);
  });

  it('consumers: --min-consumers without and with a consumer, --max-consumers, both at once', async () => {
    const queue = await broker.queue('check-consumers');
    const none = await check(['queue', queue, '--min-consumers', '1']);
    expect([none.code, none.first['status']]).toEqual([7, 'CRITICAL']);
    expect(none.measure('consumers')).toMatchObject({ value: 0, crit: 1, bound: 'min' });
    const warnNone = await check(['queue', queue, '--warn-min-consumers', '1']);
    expect(warnNone.code).toBe(6);

    const channel = await broker.connection.createChannel();
    try {
      await channel.consume(queue, () => {}, { noAck: false });
      const one = await check(['queue', queue, '--min-consumers', '1']);
      expect([one.code, one.first['status']]).toEqual([0, 'OK']);
      expect(one.measure('consumers')?.value).toBe(1);

      const tooMany = await check(['queue', queue, '--max-consumers', '0']);
      expect([tooMany.code, tooMany.first['status']]).toEqual([7, 'CRITICAL']);
      expect(tooMany.measure('consumers')).toMatchObject({ value: 1, crit: 0, bound: 'max' });

      // Both ways: two measures, each with its own bound.
      const both = await check(['queue', queue, '--min-consumers', '1', '--max-consumers', '0']);
      expect(both.code).toBe(7);
      expect(both.measure('consumers')).toMatchObject({ value: 1, crit: 1, bound: 'min' });
      expect(both.measure('consumers_max')).toMatchObject({ value: 1, crit: 0, bound: 'max' });
      const within = await check(['queue', queue, '--min-consumers', '1', '--max-consumers', '2']);
      expect(within.code).toBe(0);
    } finally {
      await channel.close();
    }
  });

  it("head age: from the head's timestamp, both ways; the peek leaves the queue as it was", async () => {
    const queue = await broker.queue('check-age');
    await broker.publish('', queue, 'old', { timestamp: now() - 2 * HOUR });
    await broker.publish('', queue, 'new', { timestamp: now() });

    const young = await check(['queue', queue, '--max-age', '3h', '--warn-age', '150m']);
    expect([young.code, young.first['status']]).toEqual([0, 'OK']);
    const age = young.measure('head_age');
    expect(age).toMatchObject({ warn: 2.5 * HOUR, crit: 3 * HOUR, bound: 'max' });
    expect(age?.value).toBeGreaterThanOrEqual(2 * HOUR);
    expect(age?.value).toBeLessThan(2.5 * HOUR);

    const warned = await check(['queue', queue, '--max-age', '3h', '--warn-age', '1h']);
    expect([warned.code, warned.first['status']]).toEqual([6, 'WARNING']);
    const old = await check(['queue', queue, '--max-age', '1h']);
    expect([old.code, old.first['status']]).toEqual([7, 'CRITICAL']);
    expect(old.first['message']).toMatch(/head \d+s old/);

    // Three peeks later: both messages still there, in their order.
    expect(await bodiesOf(queue, 2)).toEqual(['old', 'new']);
  });

  it('head age: a head without a timestamp is UNKNOWN unless another measure is CRITICAL; an empty queue is OK', async () => {
    const queue = await broker.queue('check-no-stamp');
    const empty = await check(['queue', queue, '--max-age', '1m']);
    expect([empty.code, empty.first['status']]).toEqual([0, 'OK']);
    expect(empty.measure('head_age')?.value).toBeNull();
    expect(empty.first['message']).toMatch(/no head message/);

    await broker.publish('', queue, 'unstamped');
    await broker.publish('', queue, 'stamped', { timestamp: now() - 2 * HOUR });
    const unknown = await check(['queue', queue, '--max-age', '1h']);
    expect([unknown.code, unknown.first['status']]).toEqual([8, 'UNKNOWN']);
    expect(unknown.measure('head_age')?.value).toBeNull();
    expect(unknown.first['message']).toMatch(/the head message has no timestamp/);

    const decided = await check(['queue', queue, '--max-age', '1h', '--max-depth', '1']);
    expect([decided.code, decided.first['status']]).toEqual([7, 'CRITICAL']);

    expect(await bodiesOf(queue, 2)).toEqual(['unstamped', 'stamped']);
  });

  it('head age: a quorum queue (as the API tells) is not peeked: UNKNOWN, the queue untouched', async () => {
    const queue = await broker.queue('check-quorum', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await broker.publish('', queue, 'first', { timestamp: now() - 2 * HOUR });
    await broker.publish('', queue, 'second', { timestamp: now() });
    const run = await check(['queue', queue, '--max-age', '1h']);
    expect([run.code, run.first['status']]).toEqual([8, 'UNKNOWN']);
    expect(run.first['message']).toMatch(/a quorum queue counts each message looked at as a delivery/);
    expect(run.measure('head_age')?.value).toBeNull();
    await eventually(async () => (await broker.messageCount(queue)) === 2);
    const after = await broker.drain(queue);
    expect(after.map((m) => [m.content.toString(), m.fields.redelivered])).toEqual([
      ['first', false],
      ['second', false],
    ]);
  });

  it('unacked: from the management API, both ways; without the API, UNKNOWN only when bounded', async () => {
    const queue = await broker.queue('check-unacked');
    for (const body of ['1', '2', '3']) await broker.publish('', queue, body);
    const channel = await broker.connection.createChannel();
    try {
      await channel.prefetch(2);
      await channel.consume(queue, () => {}, { noAck: false });
      await waitForQueue(queue, (stats) => stats['messages_unacknowledged'] === 2);

      const over = await check(['queue', queue, '--max-unacked', '1']);
      expect([over.code, over.first['status']]).toEqual([7, 'CRITICAL']);
      expect(over.measure('unacked')).toMatchObject({ value: 2, crit: 1 });
      expect(over.measure('depth')?.value).toBe(1);
      expect(over.first['message']).toMatch(/^1 ready, 2 unacked, 1 consumer\b/);

      const under = await check(['queue', queue, '--max-unacked', '2']);
      expect([under.code, under.first['status']]).toEqual([0, 'OK']);
      const warned = await check(['queue', queue, '--warn-unacked', '1', '--max-unacked', '5']);
      expect([warned.code, warned.first['status']]).toEqual([6, 'WARNING']);

      const noApi = ['--api', 'http://127.0.0.1:1'];
      const unbounded = await check(['queue', queue, '--max-depth', '5'], noApi);
      expect(unbounded.code).toBe(0);
      expect(unbounded.first['message']).toMatch(/no unacked count: the management API did not answer/);
      expect(unbounded.measure('unacked')?.value).toBeNull();

      const bounded = await check(['queue', queue, '--max-unacked', '5'], noApi);
      expect([bounded.code, bounded.first['status']]).toEqual([8, 'UNKNOWN']);
    } finally {
      await channel.close();
    }
  });

  it("a missing queue is CRITICAL: no queue 'x', beside the others' results", async () => {
    const queue = await broker.queue('check-present');
    const missing = `${queue}-missing`;
    const run = await check(['queue', queue, missing, '--max-depth', '10']);
    expect(run.code).toBe(7);
    expect(run.results.map((r) => [r['target'], r['status']])).toEqual([
      [queue, 'OK'],
      [missing, 'CRITICAL'],
    ]);
    expect(run.results[1]?.['message']).toBe(`no queue '${missing}'`);
  });

  it('usage errors exit 2', async () => {
    const queue = await broker.queue('check-usage');
    for (const args of [
      ['check', 'queue'],
      ['check', 'queue', queue, '--max-depth', 'x'],
      ['check', 'queue', queue, '--max-age', 'soon'],
      ['check', 'message', queue],
      ['check', 'message', queue, '--match', 'body.id=='],
      ['check', 'message', queue, '--match', 'body.id=1', '--limit', '0'],
    ]) {
      const run = await runWarren(args);
      expect([args.join(' '), run.code]).toEqual([args.join(' '), 2]);
      expect(run.stdout.length).toBe(0);
    }
  });
});

describe('warren check message', () => {
  it('finds a matching message (OK) or not (CRITICAL), taking none', async () => {
    const queue = await broker.queue('check-message');
    const bodies = [1, 2, 3, 4, 5].map((id) => JSON.stringify({ id }));
    for (const [i, body] of bodies.entries())
      await broker.publish('', queue, body, { messageId: `m${i + 1}` });

    const found = await check(['message', queue, '--match', 'body.id=3']);
    expect([found.code, found.first['status']]).toEqual([0, 'OK']);
    expect(found.first['message']).toMatch(/message 'm3' .*at position 3/);
    expect(found.measure('scanned')?.value).toBe(5);
    expect(found.measure('matched')).toMatchObject({ value: 1, crit: 1, bound: 'min' });

    const two = await check(['message', queue, '--match', 'body.id>=2', '--match', 'body.id<=3']);
    expect(two.code).toBe(0);
    expect(two.first['message']).toMatch(/message 'm2' .*at position 2 \(2 of 5/);
    expect(two.measure('matched')?.value).toBe(2);

    const absent = await check(['message', queue, '--match', 'body.id=9']);
    expect([absent.code, absent.first['status']]).toEqual([7, 'CRITICAL']);
    expect(absent.measure('matched')?.value).toBe(0);

    const cut = await check(['message', queue, '--match', 'body.id=5', '--limit', '2']);
    expect(cut.code).toBe(7);
    expect(cut.measure('scanned')?.value).toBe(2);
    expect(cut.first['message']).toMatch(/the first 2 of 5: raise --limit/);

    const nowhere = await check(['message', `${queue}-missing`, '--match', 'body.id=1']);
    expect(nowhere.code).toBe(7);

    // Every look put them all back, in their order.
    expect(await bodiesOf(queue, 5)).toEqual(bodies);
  });

  it('a quorum queue (as the API tells) is not peeked: UNKNOWN each time, its delivery limit untouched', async () => {
    // Peeked, each look would count a delivery: past x-delivery-limit 1 the broker would drop
    // the message, on the second run of a check made to run every minute.
    const queue = await broker.queue('check-message-quorum', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 1 },
    });
    await broker.publish('', queue, 'wanted', { messageId: 'q1' });
    for (let run = 0; run < 3; run++) {
      const look = await check(['message', queue, '--match', 'body~wanted']);
      expect([look.code, look.first['status']]).toEqual([8, 'UNKNOWN']);
      expect(look.first['message']).toMatch(/a quorum queue counts each message looked at as a delivery/);
      expect(look.measure('scanned')?.value).toBe(0);
    }
    const after = await broker.drain(queue);
    expect(after.map((m) => [m.content.toString(), m.fields.redelivered])).toEqual([['wanted', false]]);
  });
});
