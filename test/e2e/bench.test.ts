/**
 * `warren bench` against the test broker: its counts against what the broker routed (a test
 * queue bound beside the run's own) and what it counted (the management API's queue
 * statistics, for a --duration run), --rate held, --json and --csv read back, --assert
 * holding and failing (exit 9, named), quorum and stream queues, the run's queues gone after
 * it and after Ctrl-C, and bad flags refused (exit 2).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LatencySummary } from '../../src/bench/histogram.js';
import type { BenchSummary } from '../../src/bench/summary.js';
import { connectTestBroker, eventually, type TestBroker } from '../helpers/broker.js';
import { collect, outputSoFar, runWarren, startWarren } from '../helpers/cli.js';
import { type QueueCounts, queueCounts } from '../helpers/managementApi.js';
import { type BrokerConnection, closeConnection, connectionsOf } from '../helpers/rabbitmqctl.js';
import { runShell } from '../helpers/spawn.js';

let broker: TestBroker;
const dir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
beforeAll(async () => {
  broker = await connectTestBroker();
});
afterAll(async () => {
  await broker.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** What --json prints: the run's BenchSummary, its queues and the number of seconds reported. */
type Summary = BenchSummary & { queues: string[]; seconds: number };

async function bench(args: string[]): Promise<{ code: number | null; summary: Summary; stderr: string }> {
  const result = await runWarren(['bench', '--json', ...args], { timeoutMs: 60_000 });
  // An assertion that failed ends with an error line; nothing else may.
  if (result.code !== 9) expect(result.stderr).not.toMatch(/^error:/m);
  return {
    code: result.code,
    summary: JSON.parse(result.stdout.toString()) as Summary,
    stderr: result.stderr,
  };
}

/** RabbitMQ's default collect_statistics_interval: how often the API's message_stats refresh. */
const STATS_INTERVAL_MS = 5_000;

/**
 * What the broker counted for a queue once a run on it is over: the API's figures lag by up to
 * a statistics interval, so they count as settled when the queue is empty and unconsumed and
 * they held for longer than one.
 */
async function settledCounts(queue: string): Promise<QueueCounts> {
  let counts: QueueCounts | undefined;
  let since = 0;
  await eventually(
    async () => {
      const now = await queueCounts(queue);
      if (JSON.stringify(now) !== JSON.stringify(counts)) {
        counts = now;
        since = Date.now();
        return false;
      }
      const idle = now.messages === 0 && now.consumers === 0 && now.deliverGet > 0;
      return idle && Date.now() - since > STATS_INTERVAL_MS;
    },
    40_000,
    () => `the API showed ${JSON.stringify(counts)}`,
  );
  return counts as QueueCounts;
}

/**
 * A run publishing to an exchange of the test's with the key `k`, and the messages a queue of
 * the test's bound beside the run's (with the same key) got: what the broker routed.
 */
async function witnessed(name: string, args: string[]) {
  const exchange = await broker.exchange(`${name}-x`, 'direct');
  const witness = await broker.queue(`${name}-witness`);
  await broker.channel.bindQueue(witness, exchange, 'k');
  const run = await bench([...args, '--exchange', exchange, '--routing-key', 'k']);
  return { ...run, routed: await broker.drain(witness) };
}

async function expectGone(queues: string[]): Promise<void> {
  expect(queues.length).toBeGreaterThan(0);
  for (const queue of queues) {
    expect(queue).toMatch(/^warren-bench-[0-9a-f]{8}-\d+$/);
    expect(await broker.queueExists(queue)).toBe(false);
  }
}

function expectLatency(latency: LatencySummary, count: number): void {
  expect(latency.count).toBe(count);
  const order = [latency.min, latency.p50, latency.p75, latency.p95, latency.p99, latency.p999, latency.max];
  expect([...order].sort((a, b) => a - b)).toEqual(order);
  expect(latency.max).toBeGreaterThan(0);
}

describe('warren bench', () => {
  it('publishes, confirms and consumes --count messages, as many as the broker routed, and removes its queue', async () => {
    const { code, summary, routed } = await witnessed('bench', ['--count', '500', '--size', '64']);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ published: 500, confirmed: 500, failed: 0, consumed: 500 });
    expect(routed).toHaveLength(500);
    expect(routed.every((m) => m.content.length === 64)).toBe(true);
    // Every field docs/commands/bench.md lists, and no other.
    expect(Object.keys(summary).sort()).toEqual([
      'confirmLatency',
      'confirmed',
      'consumeS',
      'consumed',
      'durationS',
      'failed',
      'latency',
      'publishS',
      'published',
      'queues',
      'rates',
      'seconds',
    ]);
    expect(Object.keys(summary.rates).sort()).toEqual(['bytes', 'confirm', 'consume', 'publish']);
    for (const latency of [summary.latency, summary.confirmLatency]) {
      expect(Object.keys(latency).sort()).toEqual([
        'count',
        'max',
        'mean',
        'min',
        'p50',
        'p75',
        'p95',
        'p99',
        'p999',
      ]);
    }
    expectLatency(summary.latency, 500);
    expectLatency(summary.confirmLatency, 500);
    // Each rate over its own span, both within the run: publishing to its last confirm,
    // consuming to its last delivery (which comes after its message's publish).
    expect(summary.publishS).toBeGreaterThan(0);
    expect(summary.consumeS).toBeGreaterThan(0);
    expect(summary.publishS).toBeLessThanOrEqual(summary.durationS);
    expect(summary.consumeS).toBeLessThanOrEqual(summary.durationS);
    expect(summary.rates.publish).toBeCloseTo(500 / summary.publishS, 3);
    expect(summary.rates.confirm).toBeCloseTo(500 / summary.publishS, 3);
    expect(summary.rates.bytes).toBeCloseTo((500 * 64) / summary.consumeS, 3);
    expect(summary.rates.consume).toBeCloseTo(500 / summary.consumeS, 3);
    await expectGone(summary.queues);
  });

  it('draws each body size from a --size MIN-MAX range, and counts the bytes it consumed', async () => {
    const { code, summary, routed } = await witnessed('bench-sizes', [
      '--count',
      '300',
      '--size',
      '100-10000',
    ]);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ published: 300, confirmed: 300, consumed: 300 });
    const sizes = routed.map((m) => m.content.length);
    expect(sizes).toHaveLength(300);
    expect(sizes.every((n) => n >= 100 && n <= 10000)).toBe(true);
    expect(new Set(sizes).size).toBeGreaterThan(1);
    // The run's queue got the same messages as the witness: the bytes are theirs.
    const bytes = sizes.reduce((sum, n) => sum + n, 0);
    expect(summary.rates.bytes).toBeCloseTo(bytes / summary.consumeS, 3);
    expectLatency(summary.latency, 300);
  });

  it("sends --body-file's bytes as they are, the send time in a header, and measures latency", async () => {
    // Binary, with NULs and 0xff, and more than a frame's worth of it.
    const payload = Buffer.concat([randomBytes(200_000), Buffer.from([0, 0, 255, 255, 0])]);
    const file = join(dir, 'payload.bin');
    writeFileSync(file, payload);
    const { code, summary, routed } = await witnessed('bench-payload', [
      '--count',
      '200',
      '--body-file',
      file,
    ]);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ published: 200, confirmed: 200, failed: 0, consumed: 200 });
    expect(routed).toHaveLength(200);
    for (const message of routed) {
      expect(message.content.equals(payload)).toBe(true);
      expect(typeof message.properties.headers?.['x-warren-bench-sent']).toBe('number');
    }
    expectLatency(summary.latency, summary.consumed);
    expect(summary.rates.bytes).toBeCloseTo((200 * payload.length) / summary.consumeS, 3);
  });

  it('refuses a --body-file it cannot read (exit 2, naming it) and --body-file with --size', async () => {
    const missing = join(dir, 'no-such-payload');
    const unread = await runWarren(['bench', '--count', '10', '--body-file', missing]);
    expect(unread.code).toBe(2);
    expect(unread.stderr).toContain(`error: --body-file: cannot read '${missing}': ENOENT`);
    const folder = await runWarren(['bench', '--count', '10', '--body-file', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain(`error: --body-file: cannot read '${dir}': EISDIR`);
    const sized = await runWarren(['bench', '--size', '100', '--body-file', missing]);
    expect(sized.code).toBe(2);
    expect(sized.stderr).toContain('--size does not go with --body-file');
  });

  it('refuses a --body-file that never ends (a pipe from `yes`) once it is over 512 MiB: exit 2', async () => {
    // Read no further than the limit: all of it would never come.
    const endless = await runShell(
      'yes | node bin/warren.js bench --count 10 --body-file /dev/stdin; echo "exit=$?" >&2',
      { timeoutMs: 120_000 },
    );
    expect(endless.stderr.trimEnd().split('\n')).toEqual([
      "error: --body-file: '/dev/stdin' is over 512 MiB, more than RabbitMQ accepts in one message",
      "  see 'warren bench --help'",
      'exit=2',
    ]);
  }, 130_000);

  it('spreads over --queues with several producers, fewer consumers than queues', async () => {
    const { code, summary } = await bench([
      '--count',
      '300',
      '--queues',
      '3',
      '--producers',
      '2',
      '--consumers',
      '2',
      '--multi-ack',
      '7',
    ]);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ published: 300, confirmed: 300, consumed: 300 });
    expect(summary.queues).toHaveLength(3);
    await expectGone(summary.queues);
  });

  it('shares connections with --channels-per-connection: producers and consumers apart', async () => {
    // 4 producers on 2 connections, 4 consumers on 2 others, and the one that declares.
    const args = ['--producers', '4', '--consumers', '4', '--channels-per-connection', '2'];
    const child = startWarren(['bench', '--json', ...args, '--rate', '50/s', '--count', '800']);
    const output = outputSoFar(child);
    const done = collect(child, 60_000);
    await eventually(async () => /^1s: /m.test(output.stderr()), 15_000, output.stderr);
    const pid = child.pid as number;
    let connections: BrokerConnection[] = [];
    // Two channels on each connection of producers or consumers; the one that declares opens
    // one now and then for the queue's depth.
    await eventually(
      async () => {
        connections = await connectionsOf(pid);
        return connections.filter((c) => c.channels === 2).length >= 4;
      },
      15_000,
      () => JSON.stringify(connections),
    );
    expect(connections).toHaveLength(5);
    const names = connections.map((c) => /\{"connection_name","([^"]*)"\}/.exec(c.clientProperties)?.[1]);
    expect(names.sort()).toEqual([
      'warren bench',
      'warren bench (consumers 1)',
      'warren bench (consumers 2)',
      'warren bench (producers 1)',
      'warren bench (producers 2)',
    ]);
    const result = await done;
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout.toString()) as Summary;
    expect(summary).toMatchObject({ published: 800, confirmed: 800, failed: 0, consumed: 800 });
    expectLatency(summary.latency, 800);
    await expectGone(summary.queues);
  });

  it('benches an existing --queue and leaves it in place', async () => {
    const queue = await broker.queue('bench-existing');
    const { code, summary } = await bench(['--queue', queue, '--count', '200']);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ published: 200, consumed: 200, queues: [queue] });
    expect(await broker.messageCount(queue)).toBe(0);
  });

  it('messages sent 10 s before they are taken land in the top percentiles, and only there', async () => {
    // A known delay: 10 messages whose send time is 10 s old wait at the head of the queue;
    // the run's own 100 follow. They are 9 to 10 % of what is measured (the drain may end
    // before the last of the run's own are taken), so p95 and above must be 10 s or more,
    // p75 and below far less.
    const queue = await broker.queue('bench-delayed');
    const oldMicros = (Date.now() - 10_000) * 1000;
    for (let i = 0; i < 10; i++) {
      const body = Buffer.alloc(100);
      body.writeDoubleLE(oldMicros, 0);
      await broker.publish('', queue, body);
    }
    const { code, summary } = await bench(['--queue', queue, '--force', '--count', '100']);
    expect(code).toBe(0);
    const { latency } = summary;
    expect(latency.count).toBeGreaterThanOrEqual(100);
    expect(latency.count).toBeLessThanOrEqual(110);
    // Three significant digits: 10 s is kept as 9.99 s at the least.
    const tenSeconds = 9_990_000;
    for (const figure of [latency.p95, latency.p99, latency.p999, latency.max]) {
      expect(figure).toBeGreaterThanOrEqual(tenSeconds);
    }
    for (const figure of [latency.min, latency.p50, latency.p75]) expect(figure).toBeLessThan(tenSeconds);
  });

  it('counts over a --duration run what the broker counted for its queue, within 1 %', async () => {
    const queue = await broker.queue('bench-counted');
    const { code, summary } = await bench(['--queue', queue, '--duration', '3s']);
    expect(code).toBe(0);
    expect(summary.published).toBeGreaterThan(0);
    const counted = await settledCounts(queue);
    const agree = (ours: number, broker: number) =>
      expect(Math.abs(ours - broker), `bench ${ours}, broker ${broker}`).toBeLessThanOrEqual(broker / 100);
    agree(summary.published, counted.publish);
    agree(summary.confirmed, counted.publish);
    agree(summary.rates.publish * summary.publishS, counted.publish);
    agree(summary.consumed, counted.deliverGet);
    agree(summary.consumed, counted.ack);
    agree(summary.rates.consume * summary.consumeS, counted.deliverGet);
  });

  it('refuses a --queue with messages or consumers of its own unless --force', async () => {
    const queue = await broker.queue('bench-busy');
    await broker.publish('', queue, 'x');
    const refused = await runWarren(['bench', '--queue', queue, '--count', '10']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`'${queue}' has 1 message of its own`);
    expect(await broker.messageCount(queue)).toBe(1);
    const consumer = await broker.channel.consume(queue, () => {}, { noAck: false });
    const busy = await runWarren(['bench', '--queue', queue, '--count', '10']);
    expect(busy.code).toBe(2);
    // The consumer holds the message unacked: the queue has none ready.
    expect(busy.stderr).toContain('has 1 consumer of its own');
    await broker.channel.cancel(consumer.consumerTag);
    await broker.channel.recover();
    await eventually(async () => (await broker.messageCount(queue)) === 1);
    // Forced: the 1-byte message is taken too, without a send time to measure.
    const { code, summary } = await bench(['--queue', queue, '--count', '50', '--force']);
    expect(code).toBe(0);
    expect(summary.published).toBe(50);
    expect(summary.latency.count).toBe(summary.consumed - 1);
    // Taken and acked, although it came before the consumer was set up; the queue is left.
    expect(await broker.messageCount(queue)).toBe(0);
    expect(await broker.queueExists(queue)).toBe(true);
  });

  it('holds --rate within 5%', async () => {
    const { summary } = await bench(['--rate', '200/s', '--duration', '3s']);
    expect(summary.published).toBeGreaterThanOrEqual(570);
    expect(summary.published).toBeLessThanOrEqual(630);
    expect(summary.consumed).toBe(summary.published);
  });

  it.each(['quorum', 'stream'])('benches %s queues', async (type) => {
    const { code, summary } = await bench(['--count', '300', '--queue-type', type, '--persistent']);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ published: 300, confirmed: 300, consumed: 300 });
    await expectGone(summary.queues);
  });

  it('exits 0 when every --assert holds and 9 naming each one that does not', async () => {
    const held = await bench(['--count', '100', '--assert', 'p99.9<60s', '--assert', 'consume>0']);
    expect(held.code).toBe(0);
    const failed = await bench([
      '--count',
      '100',
      '--assert',
      'p50<1us',
      '--assert',
      'max<60s',
      '--assert',
      'publish>1g/s',
    ]);
    expect(failed.code).toBe(9);
    expect(failed.stderr).toMatch(/assertion failed: p50<1us \(measured /);
    expect(failed.stderr).toMatch(/assertion failed: publish>1g\/s \(measured /);
    expect(failed.stderr).not.toMatch(/assertion failed: max<60s/);
    expect(failed.stderr).toMatch(/2 of 3 assertions did not hold/);
  });

  it('writes the per-second series with --csv: a header and a row a second', async () => {
    const path = join(dir, 'series.csv');
    const { summary } = await bench(['--rate', '100/s', '--duration', '2500ms', '--csv', path]);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('second,published,confirmed,consumed,p50_us,p99_us,unconfirmed,depth');
    const rows = lines.slice(1).map((line) => line.split(',').map(Number));
    expect(rows.length).toBe(summary.seconds);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.map((row) => row[0])).toEqual(rows.map((_, i) => i + 1));
    for (const row of rows) expect(row.every((n) => Number.isFinite(n))).toBe(true);
    const published = rows.reduce((sum, row) => sum + (row[1] as number), 0);
    expect(published).toBeLessThanOrEqual(summary.published);
    expect(published).toBeGreaterThan(0);
  });

  it('stops on Ctrl-C: the summary, its queues deleted, exit 130', async () => {
    const child = startWarren(['-v', 'bench', '--rate', '100/s', '--duration', '60s', '--queues', '2']);
    const output = outputSoFar(child);
    const done = collect(child, 60_000);
    await eventually(async () => /^1s: /m.test(output.stderr()));
    const queues = [...output.stderr().matchAll(/declared classic queue '([^']+)'/g)].map(
      (m) => m[1] as string,
    );
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(await broker.queueExists(queue)).toBe(true);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/published \d+, confirmed \d+, failed 0, consumed \d+/);
    await expectGone(queues);
  });

  it.each([['warren bench'], ['warren bench (consumers 1)'], ['warren bench (producers 1)']])(
    'a lost connection (%s) ends the run: the summary so far, exit 69 saying so, the queue gone',
    async (name) => {
      const child = startWarren(['-v', 'bench', '--rate', '200/s', '--duration', '60s', '--json']);
      const output = outputSoFar(child);
      const done = collect(child, 60_000);
      await eventually(async () => /^1s: /m.test(output.stderr()));
      const connections = await connectionsOf(child.pid as number);
      expect(connections).toHaveLength(3);
      const named = connections.find((c) => c.clientProperties.includes(`{"connection_name","${name}"}`));
      expect(named, JSON.stringify(connections)).toBeDefined();
      await closeConnection(named?.pid as string);
      const result = await done;
      expect(result.code, result.stderr).toBe(69);
      const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
      expect(errorLines).toEqual([expect.stringContaining('lost the connection')]);
      expect(result.stderr).toMatch(/published \d+, confirmed \d+, failed \d+, consumed \d+/);
      const summary = JSON.parse(result.stdout.toString()) as BenchSummary & { queues: string[] };
      expect(summary.published).toBeGreaterThan(0);
      await expectGone(summary.queues);
    },
  );

  it.each([
    [['--size', '4']],
    [['--size', '4-100']],
    [['--size', '100-99']],
    [['--size', '100-']],
    [['--size', '-100']],
    [['--size', 'big']],
    [['--count', '0']],
    [['--duration', '0s']],
    [['--count', '5', '--duration', '1s']],
    [['--queue-type', 'lazy']],
    [['--queue-type', 'stream', '--autoack']],
    [['--routing-key', 'k']],
    [['--assert', 'p99<5']],
    [['--assert', 'latency<5ms']],
    [['--rate', 'fast']],
    [['--producers', '0']],
    [['--channels-per-connection', '0']],
    [['--force']],
    [['--queue', 'q', '--queue-type', 'quorum']],
  ])('refuses %j as a usage error (exit 2)', async (args) => {
    const result = await runWarren(['bench', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: /m);
    // The error names a flag given.
    const flags = args.filter((arg) => arg.startsWith('--'));
    expect(flags.some((flag) => result.stderr.includes(flag))).toBe(true);
  });
});
