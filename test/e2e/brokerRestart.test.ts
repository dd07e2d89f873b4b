/**
 * A broker that goes away in the middle of a publish (its RabbitMQ application stopped, on a
 * second node of our own): back within the retry budget, warren reconnects and every line
 * arrives; gone for good, warren gives up with exit 69 naming the first unconfirmed line,
 * and every line before it is in the queue. consume --exec likewise reconnects, and its
 * summary closes the run however it ends.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { uniqueName } from '../helpers/broker.js';
import { countBodies, numbered, publishMany, takeAllFast } from '../helpers/bulk.js';
import { collect, feedLines, startWarren } from '../helpers/cli.js';
import { type SecondNode, startSecondNode } from '../helpers/secondNode.js';
import { hasStackTrace } from '../helpers/spawn.js';

let node: SecondNode;

// A stop and a start of the node's application take CPU that other test files share: the
// bound is the run's own (collect waits 120-180 s), not the suite's 60 s.
vi.setConfig({ testTimeout: 180_000 });

beforeAll(async () => {
  node = await startSecondNode();
}, 150_000);

afterAll(async () => {
  await node?.stop();
}, 90_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A durable queue on the node (persistent messages survive the application's restart). */
async function durableQueue(prefix: string): Promise<string> {
  const connection = await amqp.connect(node.url);
  try {
    const channel = await connection.createChannel();
    const name = uniqueName(prefix);
    await channel.assertQueue(name, { durable: true });
    return name;
  } finally {
    await connection.close();
  }
}

async function messageCount(queue: string): Promise<number> {
  const connection = await amqp.connect(node.url);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

/** Every body in the queue (taken), counted; the queue is deleted. */
async function takeAll(queue: string): Promise<Map<string, number>> {
  const connection = await amqp.connect(node.url);
  try {
    const seen = countBodies(await takeAllFast(connection, queue));
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue);
    return seen;
  } finally {
    await connection.close();
  }
}

/**
 * Feeds `warren publish --input lines` lines as fast as it takes them and stops the node's
 * RabbitMQ application once `after` lines are in; stdin stays open until the application is
 * stopped, so the stop always comes mid-stream. Resolves once it is stopped, to the run and the
 * number of lines fed (both still to come: the feed goes on while the node is down).
 */
async function publishAndStop(queue: string, after: number, retries: string) {
  const child = startWarren(
    ['publish', '--url', node.url, '--input', 'lines', '-k', queue, '--retries', retries],
    { env: { WARREN_URL: undefined }, stdin: 'open' },
  );
  const done = collect(child, 120_000);
  const stopped = (async () => {
    while ((await messageCount(queue)) < after) await sleep(100);
    await node.ctl(['stop_app']);
  })();
  const fed = feedLines(child, stopped);
  await stopped;
  return { result: done, fed };
}

describe('publish while the broker goes away', () => {
  it('back within the retries: reconnects, sends the unconfirmed again, every line arrives; exit 0', async () => {
    const queue = await durableQueue('restart-back');
    const { result: running, fed } = await publishAndStop(queue, 20_000, '10');
    await sleep(2000);
    await node.ctl(['start_app']);
    const result = await running;
    const lines = await fed;
    expect(result.code, result.stderr).toBe(0);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stderr).toMatch(/warning: lost the connection .*; reconnecting \(1 of 10\)/);
    expect(result.stderr).toMatch(
      new RegExp(
        `published ${lines}, confirmed ${lines}, returned 0, nacked 0, sent again \\d+ after 1 reconnection`,
      ),
    );
    const seen = await takeAll(queue);
    const missing = [];
    for (let i = 1; i <= lines; i += 1) if (!seen.has(`line-${i}`)) missing.push(i);
    expect(missing.slice(0, 10), `${missing.length} lines missing`).toEqual([]);
  });

  it('gone for good: exit 69 after the retries, naming the first unconfirmed line; every line before it is there', async () => {
    const queue = await durableQueue('restart-gone');
    const result = await (await publishAndStop(queue, 20_000, '2')).result;
    await node.ctl(['start_app']);
    expect(result.code, result.stderr).toBe(69);
    expect(hasStackTrace(result.stderr)).toBe(false);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /connection refused.*gave up after 2 reconnection attempts; first unconfirmed: line \d+/,
    );
    const first = Number(/first unconfirmed: line (\d+)/.exec(errors[0]!)?.[1]);
    expect(result.stderr).toMatch(/published \d+, confirmed \d+, returned 0, nacked 0, unconfirmed \d+/);
    const seen = await takeAll(queue);
    const missing = [];
    for (let i = 1; i < first; i += 1) if (!seen.has(`line-${i}`)) missing.push(i);
    expect(missing.slice(0, 10), `${missing.length} lines before line ${first} missing`).toEqual([]);
  });
});

/** A durable queue on the node holding `count` persistent messages `prefix-1`…`prefix-count`. */
async function filledDurableQueue(prefix: string, count: number): Promise<string> {
  const queue = await durableQueue(prefix);
  const connection = await amqp.connect(node.url);
  try {
    const messages = numbered(prefix, count).map((m) => ({
      ...m,
      options: { ...m.options, persistent: true },
    }));
    await publishMany(connection, '', queue, messages);
  } finally {
    await connection.close();
  }
  return queue;
}

/**
 * Starts `consume QUEUE --exec` on the node, logging each handled id to a file. From the
 * 30th on, each handler waits for `go()`: the broker goes away mid-run however fast the
 * handlers and however slow rabbitmqctl.
 */
function startHandling(queue: string, ...flags: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'warren-restart-exec-'));
  const log = join(dir, 'done');
  const go = join(dir, 'go');
  const handler = [
    'echo "$WARREN_MESSAGE_ID" >> "$LOG"',
    'if [ "$(wc -l < "$LOG")" -ge 30 ]; then until [ -e "$GO" ]; do sleep 0.05; done; fi',
  ].join('\n');
  const child = startWarren(['consume', queue, '--url', node.url, '--exec', handler, ...flags], {
    env: { WARREN_URL: undefined, LOG: log, GO: go },
  });
  const handled = () => {
    try {
      return readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return {
    done: collect(child, 180_000),
    handled,
    go: () => writeFileSync(go, ''),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe('consume --exec while the broker goes away', () => {
  it('back within the retries: reconnects, every message is handled, the summary closes the run; exit 0', async () => {
    const queue = await filledDurableQueue('restart-exec', 300);
    const run = startHandling(queue, '--retries', '10', '--timeout', '3s');
    while (run.handled().length < 30) await sleep(50);
    await node.ctl(['stop_app']);
    run.go();
    await sleep(2000);
    await node.ctl(['start_app']);
    const result = await run.done;
    const handled = new Set(run.handled());
    run.remove();
    expect(result.code, result.stderr).toBe(0);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stderr).toMatch(/warning: lost the connection .*; reconnecting \(1 of 10\)/);
    expect(result.stderr).toMatch(/handled \d+ messages from '[^']+': \d+ acked/);
    const missing = numbered('restart-exec', 300)
      .map((m) => m.options?.messageId as string)
      .filter((id) => !handled.has(id));
    expect(missing, 'never handled').toEqual([]);
    expect(await messageCount(queue)).toBe(0);
  });

  it('gone for good: exit 69 after the retries, and the summary says what was handled before', async () => {
    const queue = await filledDurableQueue('restart-exec-gone', 300);
    const run = startHandling(queue, '--retries', '2');
    while (run.handled().length < 30) await sleep(50);
    await node.ctl(['stop_app']);
    run.go();
    const result = await run.done;
    await node.ctl(['start_app']);
    run.remove();
    expect(result.code, result.stderr).toBe(69);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stderr).toMatch(/reconnecting \(2 of 2\)/);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(result.stderr).toMatch(/handled \d+ messages from '[^']+': \d+ acked/);
  });
});
