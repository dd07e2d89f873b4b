/**
 * The broker closes warren's connection in the middle of its work (rabbitmqctl
 * close_connection): publish reconnects and sends again what was not confirmed, and nothing
 * is lost; with no retries left it says which line was the first not confirmed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker } from '../helpers/broker.js';
import { countBodies, takeAllFast } from '../helpers/bulk.js';
import { collect, feedLines, startWarren } from '../helpers/cli.js';
import { forceCloseConnectionOf } from '../helpers/rabbitmqctl.js';
import { hasStackTrace } from '../helpers/spawn.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await connectTestBroker();
});
afterAll(async () => {
  await broker.cleanup();
});

/** Every body in the queue (taken), with how often each came. */
async function takeAll(queue: string): Promise<Map<string, number>> {
  return countBodies(await takeAllFast(broker.connection, queue));
}

/**
 * Starts `warren publish --input lines`, feeds it lines as fast as it takes them, and closes its
 * connection once `after` messages are in the queue; stdin stays open until the close is done,
 * so the close always comes mid-stream. Resolves to the run and the number of lines fed.
 */
async function publishAndCut(queue: string, after: number, ...flags: string[]) {
  const child = startWarren(['publish', '--input', 'lines', '--routing-key', queue, ...flags], {
    stdin: 'open',
  });
  const done = collect(child, 120_000);
  const cut = (async () => {
    await eventually(async () => (await broker.messageCount(queue)) >= after, 30_000);
    await forceCloseConnectionOf(child.pid as number, 'warren publish');
  })();
  const lines = await feedLines(child, cut);
  await cut;
  return { result: await done, lines };
}

describe('publish when the broker closes the connection', () => {
  it('reconnects, sends again every unconfirmed line, and every line arrives (at least once); exit 0', async () => {
    const queue = await broker.queue('reconnect-publish');
    const { result, lines } = await publishAndCut(queue, 20_000);
    expect(result.code, result.stderr).toBe(0);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stderr).toMatch(
      /lost the connection.*CONNECTION_FORCED.*reconnecting \(1 of 5\), \d+ unconfirmed/,
    );
    const summary =
      /published (\d+), confirmed (\d+), returned 0, nacked 0, sent again (\d+) after 1 reconnection/.exec(
        result.stderr,
      );
    expect(summary, result.stderr).not.toBeNull();
    const [, published, confirmed, resent] = summary!.map(Number);
    expect(published).toBe(lines);
    expect(confirmed).toBe(lines);

    const seen = await takeAll(queue);
    const missing: string[] = [];
    let duplicates = 0;
    for (let i = 1; i <= lines; i += 1) {
      const count = seen.get(`line-${i}`) ?? 0;
      if (count === 0) missing.push(`line-${i}`);
      duplicates += Math.max(0, count - 1);
    }
    expect(missing.slice(0, 10), `${missing.length} lines missing`).toEqual([]);
    expect(seen.size).toBe(lines);
    // A duplicate is a message sent again that had reached the broker before the cut.
    expect(duplicates).toBeLessThanOrEqual(resent!);
  });

  it('--retries 0: exit 69 at once, naming the first unconfirmed line; every line before it is in the queue', async () => {
    const queue = await broker.queue('reconnect-none');
    const { result } = await publishAndCut(queue, 20_000, '--retries', '0');
    expect(result.code, result.stderr).toBe(69);
    expect(hasStackTrace(result.stderr)).toBe(false);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error'));
    expect(errors).toHaveLength(1);
    const first = /first unconfirmed: line (\d+)/.exec(errors[0]!);
    expect(first, errors[0]).not.toBeNull();
    const firstLine = Number(first![1]);
    const summary = /published (\d+), confirmed (\d+), returned 0, nacked 0, unconfirmed (\d+)/.exec(
      result.stderr,
    );
    expect(summary, result.stderr).not.toBeNull();
    const [, published, confirmed, unconfirmed] = summary!.map(Number);
    expect(confirmed! + unconfirmed!).toBe(published);
    expect(confirmed).toBeGreaterThanOrEqual(firstLine - 1);

    const seen = await takeAll(queue);
    for (let i = 1; i < firstLine; i += 1) {
      if (!seen.has(`line-${i}`))
        throw new Error(
          `line ${i} was before the first unconfirmed line ${firstLine} but is not in the queue`,
        );
    }
  });

  it.each([
    ['--retries 0: exit 69 when the next line comes, naming that line as the first unconfirmed', '0'],
    ['with retries: reconnects when the next line comes and sends it; exit 0', '5'],
  ])('the connection lost while idle, nothing in flight; %s', async (_, retries) => {
    const queue = await broker.queue('reconnect-idle');
    const child = startWarren(['publish', '--input', 'lines', '-k', queue, '--retries', retries], {
      stdin: 'open',
    });
    const done = collect(child, 60_000);
    child.stdin?.write('one\n');
    await eventually(async () => (await broker.messageCount(queue)) === 1, 10_000);
    await forceCloseConnectionOf(child.pid as number, 'warren publish');
    child.stdin?.end('two\nthree\n');
    const result = await done;
    expect(hasStackTrace(result.stderr)).toBe(false);
    const bodies = (await takeAllFast(broker.connection, queue)).map((m) => m.content.toString());
    if (retries === '0') {
      expect(result.code, result.stderr).toBe(69);
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error'));
      expect(errors).toEqual([
        expect.stringMatching(
          /CONNECTION_FORCED.*gave up after 0 reconnection attempts; first unconfirmed: line 2$/,
        ),
      ]);
      expect(bodies).toEqual(['one']);
    } else {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/reconnecting \(1 of 5\), 0 unconfirmed to send again/);
      expect(result.stderr).toMatch(
        /published 3, confirmed 3, returned 0, nacked 0, sent again 0 after 1 reconnection/,
      );
      expect(bodies).toEqual(['one', 'two', 'three']);
    }
  });

  it('a bad --retries is a usage error', async () => {
    const result = await collect(startWarren(['publish', '--retries', 'lots', '-k', 'nowhere', 'x']));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--retries/);
  });
});
