/**
 * `warren export` and `declare --check`'s bindings, end to end (issue 16): a topology with
 * every queue type, exchange-to-exchange and headers bindings is exported byte for byte as
 * expected; declared on a second, empty broker node and exported there, it gives the same
 * bytes; `declare --check` of it on the source finds everything present, names a binding
 * removed and one added, and without the management API says so and leaves bindings
 * unchecked.
 *
 * Every entity is uniquely named; the queues have x-expires (the stream, which cannot, is
 * deleted after), the exchanges are deleted after.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, expiring, type TestBroker, uniqueName } from '../helpers/broker.js';
import { type RunResult, runWarren } from '../helpers/cli.js';
import { startSecondNode } from '../helpers/secondNode.js';

const P = uniqueName('export');
const REGEX = `^${P.replaceAll('.', '\\.')}\\.`;
const name = (what: string) => `${P}.${what}`;
const [orders, unrouted, audit, docs] = ['orders', 'unrouted', 'audit', 'docs'].map(name) as [
  string,
  string,
  string,
  string,
];
const [classic, quorum, stream, legacy, temp, mine] = [
  'classic',
  'quorum',
  'stream',
  'legacy',
  'temp',
  'mine',
].map(name) as [string, string, string, string, string, string];

/** What warren declares on the source broker. */
const SOURCE = {
  exchanges: [
    { name: orders, type: 'topic', durable: false, alternateExchange: unrouted },
    { name: unrouted, type: 'fanout', durable: false },
    { name: audit, type: 'fanout', durable: false, internal: true },
    { name: docs, type: 'headers', durable: false },
  ],
  queues: [
    {
      name: classic,
      type: 'classic',
      durable: false,
      expires: '10m',
      messageTtl: '1h',
      maxLength: 100,
      overflow: 'reject-publish',
      deadLetterExchange: unrouted,
      deadLetterRoutingKey: 'dead',
      maxPriority: 5,
      singleActiveConsumer: true,
      arguments: { 'x-custom': 'v', 'x-n': { '!': 'int64', value: 7 } },
    },
    {
      name: quorum,
      type: 'quorum',
      expires: '10m',
      deliveryLimit: 5,
      maxLength: 1000,
      overflow: 'reject-publish',
      deadLetterExchange: unrouted,
    },
    { name: stream, type: 'stream', maxAge: '7D', maxLengthBytes: 100_000_000 },
  ],
  bindings: [
    { source: orders, queue: classic, key: 'order.created' },
    { source: orders, exchange: audit, key: 'order.#' },
    { source: audit, queue: quorum },
    { source: orders, queue: stream, key: 'order.#' },
    { source: 'amq.topic', queue: quorum, key: 'export.#' },
    {
      source: docs,
      queue: classic,
      arguments: {
        'x-match': 'all',
        format: 'pdf',
        pages: { '!': 'int64', value: 12 },
        ratio: 1.5,
        draft: false,
      },
    },
  ],
};

/** The export, exactly: sorted, defaults left out, queue arguments in their named fields. */
const EXPECTED = {
  exchanges: [
    { name: audit, type: 'fanout', durable: false, internal: true },
    { name: docs, type: 'headers', durable: false },
    { name: orders, type: 'topic', durable: false, alternateExchange: unrouted },
    { name: unrouted, type: 'fanout', durable: false },
  ],
  queues: [
    {
      name: classic,
      type: 'classic',
      durable: false,
      deadLetterExchange: unrouted,
      deadLetterRoutingKey: 'dead',
      messageTtl: 3_600_000,
      expires: 600_000,
      maxLength: 100,
      overflow: 'reject-publish',
      maxPriority: 5,
      singleActiveConsumer: true,
      arguments: { 'x-custom': 'v', 'x-n': 7 },
    },
    {
      name: legacy,
      type: 'classic',
      durable: false,
      messageTtl: 60_000,
      expires: 600_000,
      arguments: { 'x-custom-flag': true, 'x-weight': 2.5 },
    },
    {
      name: quorum,
      type: 'quorum',
      deadLetterExchange: unrouted,
      expires: 600_000,
      maxLength: 1000,
      overflow: 'reject-publish',
      deliveryLimit: 5,
    },
    { name: stream, type: 'stream', maxLengthBytes: 100_000_000, maxAge: '7D' },
  ],
  bindings: [
    { source: 'amq.topic', queue: quorum, key: 'export.#' },
    { source: audit, queue: quorum },
    {
      source: docs,
      queue: classic,
      arguments: { draft: false, format: 'pdf', pages: 12, ratio: 1.5, 'x-match': 'all' },
    },
    { source: orders, exchange: audit, key: 'order.#' },
    { source: orders, queue: classic, key: 'order.created' },
    { source: orders, queue: legacy, key: 'legacy' },
    { source: orders, queue: stream, key: 'order.#' },
  ],
};
const EXPECTED_TEXT = `${JSON.stringify(EXPECTED, null, 2)}\n`;

let broker: TestBroker;
let dir: string;
let exported: string;

const stderrLines = (result: RunResult) => result.stderr.trimEnd().split('\n');

function expectOk(result: RunResult): RunResult {
  expect(result.code, result.stderr).toBe(0);
  return result;
}

/** Runs on a channel of its own: a refusal closes only that channel. */
async function onChannel(work: (channel: amqp.Channel) => Promise<unknown>): Promise<void> {
  const channel = await broker.connection.createChannel();
  channel.on('error', () => {});
  try {
    await work(channel);
    await channel.close();
  } catch {
    // Already gone.
  }
}

beforeAll(async () => {
  broker = await connectTestBroker();
  dir = mkdtempSync(join(tmpdir(), 'warren-export-'));
  exported = join(dir, 'exported.json');
  const source = join(dir, 'source.json');
  writeFileSync(source, JSON.stringify(SOURCE));
  expectOk(await runWarren(['declare', '--file', source, '-q']));
  // Another client's entities: a queue with arguments of its own, an auto-delete queue and an
  // exclusive one (both left out), bound as apps bind them.
  const channel = broker.channel;
  await channel.assertQueue(
    legacy,
    expiring({
      durable: false,
      messageTtl: 60_000,
      arguments: { 'x-custom-flag': true, 'x-weight': 2.5 },
    }),
  );
  await channel.bindQueue(legacy, orders, 'legacy');
  await channel.assertQueue(temp, expiring({ durable: false, autoDelete: true }));
  await channel.bindQueue(temp, orders, 'order.#');
  await channel.assertQueue(mine, { exclusive: true });
  await channel.bindQueue(mine, 'amq.fanout', '');
});

afterAll(async () => {
  for (const queue of [classic, quorum, stream, legacy, temp, mine])
    await onChannel((c) => c.deleteQueue(queue));
  for (const exchange of [orders, unrouted, audit, docs]) await onChannel((c) => c.deleteExchange(exchange));
  await broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('warren export', () => {
  it('writes the topology as a file, exactly, and says what it left out on stderr', async () => {
    const result = expectOk(await runWarren(['export', REGEX]));
    expect(result.stdout.toString()).toBe(EXPECTED_TEXT);
    expect(stderrLines(result)).toEqual([
      "exported 4 exchanges, 4 queues and 7 bindings of vhost '/'",
      'left out 1 queue: exclusive, owned by the connection that declared them',
      'left out 1 queue: auto-delete, gone with their last consumer (--include-auto-delete keeps them)',
      'left out 2 bindings: to or from an exchange or queue left out',
    ]);
  });

  it('-o writes the same bytes to a file, stdout empty; a second export is identical', async () => {
    const result = expectOk(await runWarren(['export', REGEX, '-o', exported, '-q']));
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr).toBe('');
    expect(readFileSync(exported, 'utf8')).toBe(EXPECTED_TEXT);
  });

  it('a bad REGEX is exit 2, one line; a vhost that does not exist is exit 5 naming it', async () => {
    const bad = await runWarren(['export', 'orders.(']);
    expect(bad.code).toBe(2);
    expect(stderrLines(bad)[0]).toBe(
      "error: REGEX 'orders.(' is not a JavaScript regular expression (Unterminated group)",
    );
    const missing = await runWarren(['export', '--vhost', `${P}-none`]);
    expect(missing.code).toBe(5);
    expect(stderrLines(missing)[0]).toMatch(
      new RegExp(`^error: vhost '${P.replaceAll('.', '\\.')}-none' does not exist on http://[^ ]+:15672$`),
    );
    expect(missing.stdout.toString()).toBe('');
  });

  it('--include-auto-delete keeps the auto-delete queue and its binding', async () => {
    const result = expectOk(await runWarren(['export', REGEX, '--include-auto-delete', '-q']));
    const file = JSON.parse(result.stdout.toString()) as typeof EXPECTED;
    expect(file.queues).toContainEqual({
      name: temp,
      type: 'classic',
      durable: false,
      autoDelete: true,
      expires: 600_000,
    });
    expect(file.bindings).toContainEqual({ source: orders, queue: temp, key: 'order.#' });
  });

  it('the API unreachable is exit 69; an --output that cannot be written, exit 1 and no file', async () => {
    const down = await runWarren(['export', REGEX, '--api', 'http://127.0.0.1:1']);
    expect(down.code).toBe(69);
    expect(stderrLines(down)[0]).toBe(
      'error: cannot reach the management API at http://127.0.0.1:1: connection refused (is the management plugin enabled?)',
    );
    const nowhere = join(dir, 'no-such-folder', 'out.json');
    const unwritable = await runWarren(['export', REGEX, '-o', nowhere]);
    expect(unwritable.code).toBe(1);
    expect(stderrLines(unwritable)[0]).toBe(`error: --output: cannot write '${nowhere}' (ENOENT)`);
    expect(unwritable.stdout.toString()).toBe('');
  });

  it('declared on an empty second node, then exported there: the same file', {
    timeout: 240_000,
  }, async () => {
    const node = await startSecondNode({ management: true });
    try {
      const there = ['--url', node.url, '--api', node.apiUrl as string];
      const applied = expectOk(await runWarren(['declare', '--file', exported, ...there]));
      expect(stderrLines(applied).at(-1)).toBe('8 created, 7 bound');
      const again = expectOk(await runWarren(['export', REGEX, ...there]));
      expect(again.stdout.toString()).toBe(EXPECTED_TEXT);
      const checked = expectOk(await runWarren(['declare', '--file', exported, '--check', ...there]));
      expect(stderrLines(checked).at(-1)).toBe('15 present');
    } finally {
      await node.stop({ kill: true });
    }
  });
});

describe('declare --check of the export on the source', () => {
  it('finds every exchange, queue and binding present, exit 0', async () => {
    const result = expectOk(await runWarren(['declare', '--file', exported, '--check']));
    const lines = stderrLines(result);
    expect(lines).toHaveLength(16);
    expect(lines.slice(0, 15).every((line) => / present(: arguments \{.*\})?$/.test(line))).toBe(true);
    expect(lines).toContain(`binding '${orders}' → exchange '${audit}' (key 'order.#') present`);
    expect(lines).toContain(
      `binding '${docs}' → queue '${classic}' present: arguments {"draft":false,"format":"pdf","pages":12,"ratio":1.5,"x-match":"all"}`,
    );
    expect(lines.at(-1)).toBe('15 present');
  });

  it('a binding removed and one added: each named, exit 5', async () => {
    await broker.channel.unbindQueue(classic, orders, 'order.created');
    await broker.channel.bindQueue(classic, orders, 'order.extra');
    try {
      const result = await runWarren(['declare', '--file', exported, '--check']);
      expect(result.code).toBe(5);
      const lines = stderrLines(result);
      expect(lines.filter((line) => !/ present(: .*)?$/.test(line))).toEqual([
        `warning: binding '${orders}' → queue '${classic}' (key 'order.created') missing`,
        `warning: binding '${orders}' → queue '${classic}' (key 'order.extra') differs: bound on the broker, not in the file`,
        '14 present, 1 missing, 1 differs',
        `error: ${exported} does not match the broker: 1 differs, 1 missing (see the lines above)`,
        '  a binding the file does not list: add it to the file, or remove it (warren delete binding …)',
      ]);
    } finally {
      await broker.channel.bindQueue(classic, orders, 'order.created');
      await broker.channel.unbindQueue(classic, orders, 'order.extra');
    }
  });

  it('without the management API: bindings not checked, one warning line says why, exit 0', async () => {
    const result = expectOk(
      await runWarren(['declare', '--file', exported, '--check', '--api', 'http://127.0.0.1:1']),
    );
    const lines = stderrLines(result);
    expect(lines[0]).toBe(
      'warning: bindings not checked: cannot reach the management API at http://127.0.0.1:1: connection refused (is the management plugin enabled?)',
    );
    expect(
      lines.filter((line) => line.endsWith(' not checked: AMQP 0-9-1 cannot see bindings')),
    ).toHaveLength(7);
    expect(lines.at(-1)).toBe('8 present, 7 not checked');
  });
});
