/**
 * `warren ls` against the real broker and its real management API: known depths and
 * consumers as records and as a table on a terminal, filters, order, columns, thousands of
 * queues over several pages, a reader that leaves, Ctrl-C, and every way it can fail (the
 * API down, a wrong password, a missing vhost, a bad regex), with the AMQP fallback for named
 * queues. The API's statistics lag the broker: the tests poll it (waitForQueue), never sleep.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsOf, type Kind } from '../../src/inventory/records.js';
import { BROKER_URL, connectTestBroker, expiring, type TestBroker, uniqueName } from '../helpers/broker.js';
import { collect, ndjson, runWarren, startWarren } from '../helpers/cli.js';
import { apiGet, waitForApi, waitForQueue } from '../helpers/managementApi.js';
import { hasStackTrace, runShell } from '../helpers/spawn.js';

const QUEUE_FIELDS = [
  'name',
  'vhost',
  'type',
  'durable',
  'autoDelete',
  'exclusive',
  'arguments',
  'state',
  'messages',
  'messagesReady',
  'messagesUnacknowledged',
  'consumers',
  'consumerUtilisation',
  'publishRate',
  'deliverRate',
  'memory',
  'node',
  'policy',
  'idleSince',
];

const regexOf = (prefix: string) => `^${prefix.replace(/\./g, '\\.')}\\.`;
const names = (stdout: Buffer) => ndjson(stdout).map((record) => record['name']);

let broker: TestBroker;
let consumerConnection: amqp.ChannelModel;
/** Queues `prefix.deep` (3 ready), `prefix.empty`, `prefix.busy` (1 unacked, 1 ready, 1 consumer). */
let prefix: string;
let regex: string;
const q = (name: string) => `${prefix}.${name}`;

beforeAll(async () => {
  broker = await connectTestBroker();
  prefix = uniqueName('ls');
  regex = regexOf(prefix);
  for (const name of ['deep', 'empty', 'busy']) {
    await broker.channel.assertQueue(q(name), expiring({ durable: false }));
  }
  for (let n = 0; n < 3; n++) await broker.publish('', q('deep'), `m${n}`);
  for (let n = 0; n < 2; n++) await broker.publish('', q('busy'), `m${n}`);
  consumerConnection = await amqp.connect(BROKER_URL, { clientProperties: { connection_name: 'ls-test' } });
  const channel = await consumerConnection.createChannel();
  await channel.prefetch(1);
  await channel.consume(q('busy'), () => {}, { noAck: false, consumerTag: `${prefix}.tag` });
  await waitForQueue(q('deep'), (queue) => queue['messages'] === 3);
  // The connection's client-given name is listed a moment after the connection opens.
  await waitForApi(
    async () => (await apiGet<{ client_properties?: { connection_name?: string } }[]>('connections')) ?? [],
    (connections) => connections.some((c) => c.client_properties?.connection_name === 'ls-test'),
  );
  await waitForQueue(q('empty'), (queue) => queue['messages'] === 0 && queue['consumers'] === 0);
  await waitForQueue(
    q('busy'),
    (queue) =>
      queue['messages_unacknowledged'] === 1 && queue['messages_ready'] === 1 && queue['consumers'] === 1,
  );
});

afterAll(async () => {
  await consumerConnection?.close().catch(() => {});
  for (const name of ['deep', 'empty', 'busy']) await broker?.channel.deleteQueue(q(name)).catch(() => {});
  await broker?.cleanup();
});

describe('ls queues in a pipe: NDJSON records', () => {
  it('lists each queue once with its depth and consumers, fields named and ordered as documented', async () => {
    const run = await runWarren(['ls', 'queues', regex, '--sort', 'name']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const records = ndjson(run.stdout);
    expect(records.map((r) => r['name'])).toEqual([q('busy'), q('deep'), q('empty')]);
    for (const record of records) expect(Object.keys(record)).toEqual(QUEUE_FIELDS);
    const [busy, deep, empty] = records;
    expect(deep).toMatchObject({
      vhost: '/',
      type: 'classic',
      durable: false,
      messages: 3,
      messagesReady: 3,
    });
    expect(deep).toMatchObject({
      messagesUnacknowledged: 0,
      consumers: 0,
      arguments: { 'x-expires': 600_000 },
    });
    expect(busy).toMatchObject({ messages: 2, messagesReady: 1, messagesUnacknowledged: 1, consumers: 1 });
    expect(empty).toMatchObject({ messages: 0, consumers: 0 });
  });

  it('filters with a regex on the server, and with --match on any field (numbers compared as numbers)', async () => {
    const one = await runWarren(['ls', 'queues', `${regex}deep$`]);
    expect(names(one.stdout)).toEqual([q('deep')]);
    const several = await runWarren(['ls', 'queues', `${regex}deep$`, `${regex}empty$`, '--sort', 'name']);
    expect(names(several.stdout)).toEqual([q('deep'), q('empty')]);
    const matched = await runWarren([
      'ls',
      'queues',
      regex,
      '--match',
      'messages>=2',
      '--match',
      'consumers=0',
    ]);
    expect(names(matched.stdout)).toEqual([q('deep')]);
    const quoted = await runWarren([
      'ls',
      'queues',
      regex,
      '--match',
      'arguments."x-expires">1000',
      '--match',
      'messages<1',
    ]);
    expect(names(quoted.stdout)).toEqual([q('empty')]);
  });

  it('--sort orders by any field over the whole list, --reverse turns it round', async () => {
    const ascending = await runWarren(['ls', 'queues', regex, '--sort', 'messages']);
    expect(names(ascending.stdout)).toEqual([q('empty'), q('busy'), q('deep')]);
    const descending = await runWarren(['ls', 'queues', regex, '--sort', 'messagesReady', '--reverse']);
    expect(names(descending.stdout)).toEqual([q('deep'), q('busy'), q('empty')]);
    const byName = await runWarren(['ls', 'queues', regex, '--reverse']);
    expect(names(byName.stdout)).toEqual([q('empty'), q('deep'), q('busy')]);
  });

  it('--columns projects each record on those fields, in that order', async () => {
    const run = await runWarren(['ls', 'queues', `${regex}deep$`, '--columns', 'messages,name']);
    expect(run.stdout.toString()).toBe(`{"messages":3,"name":"${q('deep')}"}\n`);
  });

  it('consumers and bindings are filtered by queue and by source or destination', async () => {
    const consumers = await runWarren(['ls', 'consumers', regex]);
    expect(consumers.code).toBe(0);
    const [consumer, ...more] = ndjson(consumers.stdout);
    expect(more).toEqual([]);
    expect(consumer).toMatchObject({
      queue: q('busy'),
      vhost: '/',
      consumerTag: `${prefix}.tag`,
      clientName: 'ls-test',
      ackRequired: true,
      prefetchCount: 1,
      exclusive: false,
    });
    expect(Object.keys(consumer ?? {})).toEqual([
      'queue',
      'vhost',
      'consumerTag',
      'connection',
      'clientName',
      'channel',
      'user',
      'ackRequired',
      'prefetchCount',
      'exclusive',
      'active',
      'arguments',
    ]);
    const bindings = await runWarren([
      'ls',
      'bindings',
      regex,
      '--sort',
      'destination',
      '--columns',
      'source,destination',
    ]);
    expect(ndjson(bindings.stdout)).toEqual(
      ['busy', 'deep', 'empty'].map((name) => ({ source: '', destination: q(name) })),
    );
  });

  it('every kind: each record has exactly its fields, in order', async () => {
    const lists: [Kind, string[]][] = [
      ['exchanges', ['^amq\\.direct$']],
      ['bindings', [regex]],
      ['consumers', [regex]],
      ['connections', ['--match', 'clientName=ls-test']],
      ['channels', ['--match', 'consumers>=1']],
      ['vhosts', ['^/$']],
    ];
    for (const [kind, args] of lists) {
      const run = await runWarren(['ls', kind, ...args]);
      expect(run.code, run.stderr).toBe(0);
      const records = ndjson(run.stdout);
      expect(records.length, kind).toBeGreaterThan(0);
      for (const record of records) expect(Object.keys(record), kind).toEqual(fieldsOf(kind));
    }
  });

  it('--all-vhosts and --vhost / list the same queues', async () => {
    const all = await runWarren([
      'ls',
      'queues',
      regex,
      '--all-vhosts',
      '--sort',
      'name',
      '--columns',
      'vhost,name',
    ]);
    const root = await runWarren([
      'ls',
      'queues',
      regex,
      '--vhost',
      '/',
      '--sort',
      'name',
      '--columns',
      'vhost,name',
    ]);
    expect(ndjson(all.stdout)).toEqual(
      ['busy', 'deep', 'empty'].map((name) => ({ vhost: '/', name: q(name) })),
    );
    expect(root.stdout.toString()).toBe(all.stdout.toString());
  });

  it("a vhost's connections and channels (lists the API sends whole) are filtered by name too", async () => {
    for (const kind of ['connections', 'channels']) {
      const none = await runWarren(['ls', kind, '^no-such-name$']);
      expect(none, kind).toMatchObject({ code: 0, stderr: '' });
      expect(none.stdout.toString(), kind).toBe('');
      const some = await runWarren(['ls', kind, ' -> ']);
      expect(ndjson(some.stdout).length, kind).toBeGreaterThan(0);
    }
  });

  it('lists nothing, with exit 0, when nothing matches', async () => {
    const run = await runWarren(['ls', 'queues', `${regex}none$`]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.toString()).toBe('');
  });
});

describe('ls queues on a terminal: a table', () => {
  /** warren with stdout on a pseudo-terminal (util-linux `script`) of `columns`. */
  async function onTerminal(args: string, columns: number) {
    const run = await runShell(
      `script -qec "stty cols ${columns} rows 40; node bin/warren.js ${args}" /dev/null`,
    );
    return { code: run.code, lines: run.stdout.toString().replace(/\r/g, '').trimEnd().split('\n') };
  }

  it('fits the width: names cut with …, numbers right-aligned, columns that do not fit named on stderr', async () => {
    const { code, lines } = await onTerminal(`ls queues '${regex}' --sort name`, 80);
    expect(code).toBe(0);
    const [header, ...rest] = lines;
    expect(header).toMatch(/^name +type +state +messages +ready +unacked +consumers/);
    const rows = rest.filter((line) => line.startsWith('warren-test.'));
    expect(rows).toHaveLength(3);
    for (const line of [header ?? '', ...rows]) expect([...line].length).toBeLessThanOrEqual(80);
    // The names are longer than the room left: cut, not wrapped.
    expect(rows.every((row) => row.includes('…'))).toBe(true);
    const cells = (row: string | undefined) => (row ?? '').trim().split(/ +/);
    expect(cells(rows[0]).slice(1, 7)).toEqual(['classic', 'running', '2', '1', '1', '1']);
    expect(cells(rows[1]).slice(1, 7)).toEqual(['classic', 'running', '3', '3', '0', '0']);
    // Right-aligned: the numbers of a column end where its heading ends.
    const end = (header ?? '').indexOf('messages') + 'messages'.length;
    for (const row of rows) expect(row[end - 1]).toMatch(/\d/);
    expect(lines.some((line) => /^no room for .*memory/.test(line))).toBe(true);
  });

  it('on a wide terminal, every default column, memory in human units', async () => {
    const { lines } = await onTerminal(`ls queues '${regex}' --sort name`, 200);
    expect(lines[0]).toMatch(
      /^name +type +state +messages +ready +unacked +consumers +in\/s +out\/s +memory$/,
    );
    expect(lines[1]).toContain(q('busy'));
    expect(lines[1]).toMatch(/\d+(\.\d)? KiB$/);
    expect(lines.some((line) => line.includes('…') || line.startsWith('no room'))).toBe(false);
  });
});

describe('thousands of queues over several pages', () => {
  const COUNT = 1_200;
  let many: string;
  let connection: amqp.ChannelModel;
  const manyNames = () => Array.from({ length: COUNT }, (_, i) => `${many}.${String(i).padStart(4, '0')}`);

  /** Declares or deletes them over a few channels at once (one channel waits for each reply). */
  async function eachQueue(work: (channel: amqp.Channel, name: string) => Promise<unknown>) {
    const channels = await Promise.all(Array.from({ length: 8 }, () => connection.createChannel()));
    const all = manyNames();
    await Promise.all(
      channels.map(async (channel, c) => {
        for (let i = c; i < all.length; i += channels.length) await work(channel, all[i] as string);
        await channel.close();
      }),
    );
  }

  beforeAll(async () => {
    many = uniqueName('ls-many');
    connection = await amqp.connect(BROKER_URL);
    await eachQueue((channel, name) => channel.assertQueue(name, expiring({ durable: false })));
  }, 60_000);

  afterAll(async () => {
    await eachQueue((channel, name) => channel.deleteQueue(name)).catch(() => {});
    await connection?.close().catch(() => {});
  }, 60_000);

  it('lists every one exactly once, in order across the pages', async () => {
    const run = await runWarren(['ls', 'queues', regexOf(many), '--sort', 'name', '--reverse'], {
      timeoutMs: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(names(run.stdout)).toEqual(manyNames().reverse());
  });

  it('a reader that leaves early (| head -n 1) ends it quietly, exit 0', async () => {
    const out = join(tmpdir(), `${uniqueName('ls-head')}.txt`);
    const run = await runShell(
      `node bin/warren.js ls queues '${regexOf(many)}' --sort name | head -n 1 > ${out}; echo "exit=\${PIPESTATUS[0]}" >&2`,
    );
    const first = readFileSync(out, 'utf8');
    rmSync(out);
    expect(run.stderr).toBe('exit=0\n');
    expect(JSON.parse(first)).toMatchObject({ name: `${many}.0000` });
  });

  it('Ctrl-C while listing: exit 130, nothing on stderr', async () => {
    const child = startWarren(['ls', 'queues', regexOf(many)]);
    // The first chunk comes from the first of three pages: the listing is still under way.
    child.stdout?.once('data', () => child.kill('SIGINT'));
    const run = await collect(child, 30_000);
    expect(run.code).toBe(130);
    expect(run.stderr).toBe('');
  });
});

describe('when ls cannot list', () => {
  it('the API down: exit 69, one line naming the URL, then how to enable the plugin', async () => {
    const run = await runWarren(['ls', 'queues', '--api', 'http://127.0.0.1:1']);
    expect(run.code).toBe(69);
    expect(run.stdout.toString()).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'error: cannot reach the management API at http://127.0.0.1:1: connection refused (is the management plugin enabled?)',
      '  enable the plugin on the broker (rabbitmq-plugins enable rabbitmq_management), or give the API URL with --api',
    ]);
  });

  it('a stdout that cannot take it (> /dev/full): exit 1, one line saying so', async () => {
    const run = await runShell(`node bin/warren.js ls queues '${regex}' > /dev/full`);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('error: cannot write to stdout: ENOSPC: no space left on device, write\n');
  });

  it('a wrong password: exit 5 naming the user, the password nowhere', async () => {
    const secret = 'n0t-the-Pa55word';
    const run = await runWarren(['ls', 'queues', '--url', `amqp://guest:${secret}@127.0.0.1:5672/`, '-v']);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/^error: the management API refused the login of user 'guest' \(401\)$/m);
    expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
  });

  it('a missing vhost: exit 5 naming it', async () => {
    const vhost = uniqueName('no-such-vhost');
    const run = await runWarren(['ls', 'exchanges', '--vhost', vhost]);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(
      new RegExp(`^error: vhost '${vhost.replace(/\./g, '\\.')}' does not exist`, 'm'),
    );
  });

  it('a bad regex or --match field: exit 2 naming it, before asking the API', async () => {
    const regexRun = await runWarren(['ls', 'queues', 'orders(', '--api', 'http://127.0.0.1:1']);
    expect(regexRun.code).toBe(2);
    expect(regexRun.stderr).toMatch(/^error: REGEX 'orders\(' is not a valid regular expression/);
    const matchRun = await runWarren(['ls', 'queues', '--match', 'depth>1', '--api', 'http://127.0.0.1:1']);
    expect(matchRun.code).toBe(2);
    expect(matchRun.stderr).toMatch(/depth/);
    expect(matchRun.stderr).toMatch(/messagesReady/);
  });

  it('ls queues NAME… with the API down: AMQP passive declares, said on stderr', async () => {
    const missing = `${prefix}.missing`;
    const run = await runWarren([
      'ls',
      'queues',
      q('deep'),
      q('busy'),
      missing,
      '--api',
      'http://127.0.0.1:1',
      '--sort',
      'name',
    ]);
    expect(run.code).toBe(0);
    const records = ndjson(run.stdout);
    expect(records.map((r) => Object.keys(r))).toEqual([QUEUE_FIELDS, QUEUE_FIELDS]);
    const nulls = Object.fromEntries(QUEUE_FIELDS.map((field) => [field, null]));
    expect(records).toEqual([
      { ...nulls, name: q('busy'), vhost: '/', messagesReady: 1, consumers: 1 },
      { ...nulls, name: q('deep'), vhost: '/', messagesReady: 3, consumers: 0 },
    ]);
    expect(run.stderr).toMatch(
      /^warning: cannot reach the management API at http:\/\/127\.0\.0\.1:1: .*through AMQP/m,
    );
    expect(run.stderr).toContain(`queue '${missing}' does not exist`);
    expect(hasStackTrace(run.stderr)).toBe(false);
  });
});
