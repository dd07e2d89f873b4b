/**
 * `warren info` against the real broker and its management API: the tree of a topology with
 * exchange-to-exchange bindings, a headers binding with arguments, a cycle and a queue with a
 * consumer, as NDJSON, as text and as a Graphviz graph; and the exit codes of a missing name,
 * a missing vhost and an API that does not answer.
 *
 * Every exchange and queue is uniquely named, auto-deleting or expiring, and deleted after.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsOf } from '../../src/inventory/records.js';
import { BROKER_URL, expiring, uniqueName } from '../helpers/broker.js';
import { ndjson, runWarren } from '../helpers/cli.js';
import { apiGet, waitForApi, waitForQueue } from '../helpers/managementApi.js';
import { runShell } from '../helpers/spawn.js';
import { startInTmux } from '../helpers/tmux.js';

// The prefixes sort as the tree does (by name): root < head < back < queue.
const root = uniqueName('info-a-root');
const head = uniqueName('info-b-head');
const back = uniqueName('info-c-back');
const queue = uniqueName('info-d-queue');
// The API drops line breaks from names (they are escaped in the unit tests of the graph).
const odd = `${uniqueName('info-e-odd')} "q\\b`;
const connectionName = uniqueName('info-consumer');
const TAG = 'warren-info-test';

let setup: amqp.ChannelModel;
let consumerConnection: amqp.ChannelModel;

beforeAll(async () => {
  setup = await amqp.connect(BROKER_URL);
  const channel = await setup.createChannel();
  for (const [name, type] of [
    [root, 'topic'],
    [head, 'headers'],
    [back, 'fanout'],
    [odd, 'fanout'],
    [queue, 'direct'], // an exchange with the queue's name: `info QUEUE` must ask which
  ] as const) {
    await channel.assertExchange(name, type, { durable: false, autoDelete: true });
  }
  await channel.assertQueue(queue, expiring({ durable: false }));
  await channel.bindExchange(head, root, 'order.#');
  await channel.bindExchange(back, head, '', { 'x-match': 'all', region: 'eu' });
  await channel.bindExchange(head, back, '');
  await channel.bindQueue(queue, head, '', { 'x-match': 'all', region: 'eu' });
  await channel.bindQueue(queue, root, 'order.created');
  channel.sendToQueue(queue, Buffer.from('one'));
  channel.sendToQueue(queue, Buffer.from('two'));

  consumerConnection = await amqp.connect(BROKER_URL, {
    clientProperties: { connection_name: connectionName },
  });
  const consumer = await consumerConnection.createChannel();
  await consumer.prefetch(3);
  await consumer.consume(queue, () => {}, { consumerTag: TAG, noAck: false });
  // The API's statistics lag the broker: wait until it shows both messages held by the consumer.
  await waitForQueue(
    queue,
    (q) => q['messages'] === 2 && q['messages_unacknowledged'] === 2 && q['consumers'] === 1,
  );
  // Its channel's details (and the connection's name) come a moment after the consumer itself.
  await waitForApi(
    async () =>
      (await apiGet<{ consumer_tag: string; channel_details?: { connection_name?: string } }[]>(
        'consumers/%2F',
      )) ?? [],
    (consumers) => consumers.some((c) => c.consumer_tag === TAG && c.channel_details?.connection_name),
  );
  await waitForApi(
    async () => (await apiGet<{ client_properties?: { connection_name?: string } }[]>('connections')) ?? [],
    (connections) => connections.some((c) => c.client_properties?.connection_name === connectionName),
  );
});

afterAll(async () => {
  await consumerConnection?.close().catch(() => {});
  const channel = await setup.createChannel();
  await channel.deleteQueue(queue).catch(() => {});
  for (const name of [root, head, back, odd, queue]) await channel.deleteExchange(name).catch(() => {});
  await setup.close().catch(() => {});
});

const exchangeRecord = (name: string, type: string) => ({
  name,
  vhost: '/',
  type,
  durable: false,
  autoDelete: true,
  internal: false,
  arguments: {},
  policy: null,
  publishInRate: null,
  publishOutRate: null,
});

const binding = (
  source: string,
  destination: string,
  type: 'queue' | 'exchange',
  key: string,
  args = {},
) => ({
  source,
  vhost: '/',
  destination,
  destinationType: type,
  routingKey: key,
  arguments: args,
  propertiesKey: expect.any(String),
});

const line = (
  id: number,
  parent: number | null,
  depth: number,
  kind: string,
  record: unknown,
  shownAt: number | null = null,
) => ({
  id,
  parent,
  depth,
  kind,
  shownAt,
  record,
});

describe('warren info EXCHANGE', () => {
  it('prints the sub-tree as NDJSON: every node once, the cycle and the second path marked, records whole', async () => {
    const result = await runWarren(['info', root]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = ndjson(result.stdout);
    const headers = { 'x-match': 'all', region: 'eu' };
    const queueRecord = {
      name: queue,
      vhost: '/',
      type: 'classic',
      durable: false,
      autoDelete: false,
      exclusive: false,
      arguments: { 'x-expires': 600_000 },
      state: 'running',
      messages: 2,
      messagesReady: 0,
      messagesUnacknowledged: 2,
      consumers: 1,
      // Statistics (rates, memory, policy) are read only with --stats.
      consumerUtilisation: null,
      publishRate: null,
      deliverRate: null,
      memory: null,
      node: expect.any(String),
      policy: null,
      idleSince: null,
    };
    expect(lines).toEqual([
      line(1, null, 0, 'exchange', exchangeRecord(root, 'topic')),
      line(2, 1, 1, 'binding', binding(root, head, 'exchange', 'order.#')),
      line(3, 2, 2, 'exchange', exchangeRecord(head, 'headers')),
      line(4, 3, 3, 'binding', binding(head, back, 'exchange', '', headers)),
      line(5, 4, 4, 'exchange', exchangeRecord(back, 'fanout')),
      line(6, 5, 5, 'binding', binding(back, head, 'exchange', '')),
      line(7, 6, 6, 'exchange', exchangeRecord(head, 'headers'), 3),
      line(8, 3, 3, 'binding', binding(head, queue, 'queue', '', headers)),
      line(9, 8, 4, 'queue', queueRecord),
      line(10, 9, 5, 'consumer', {
        queue,
        vhost: '/',
        consumerTag: TAG,
        connection: expect.stringContaining('->'),
        clientName: connectionName,
        channel: expect.stringContaining('->'),
        user: 'guest',
        ackRequired: true,
        prefetchCount: 3,
        exclusive: false,
        active: true,
        arguments: {},
      }),
      line(11, 1, 1, 'binding', binding(root, queue, 'queue', 'order.created')),
      line(12, 11, 2, 'queue', queueRecord, 9),
    ]);
    // Each record has its kind's fields, in the documented order (as `ls` prints them).
    const kinds = {
      exchange: 'exchanges',
      binding: 'bindings',
      queue: 'queues',
      consumer: 'consumers',
    } as const;
    for (const each of lines) {
      const kind = kinds[each['kind'] as keyof typeof kinds];
      expect(Object.keys(each['record'] as object)).toEqual(fieldsOf(kind));
    }
    expect(Object.keys(lines[0] as object)).toEqual(['id', 'parent', 'depth', 'kind', 'shownAt', 'record']);
  });

  it('--stats adds what the API is slower to give: memory, rates', async () => {
    const lines = ndjson((await runWarren(['info', root, '--stats'])).stdout);
    const queueLine = lines.find((l) => l['kind'] === 'queue') as { record: Record<string, unknown> };
    expect(queueLine.record['memory']).toEqual(expect.any(Number));
    expect(queueLine.record['consumers']).toBe(1);
  });

  it('prints it as a tree for a person: bindings on the line of what they lead to', async () => {
    const result = await runWarren(['info', root, '--format', 'pretty']);
    expect(result.code).toBe(0);
    const counts = 'messages 2 ready 0 unacked 2 consumers 1';
    const args = '{"region":"eu","x-match":"all"}'; // the API's order
    expect(result.stdout.toString()).toBe(
      [
        `exchange ${root} (topic)`,
        `├─ 'order.#' → exchange ${head} (headers)`,
        `│  ├─ '' ${args} → exchange ${back} (fanout)`,
        `│  │  └─ '' → exchange ${head} (headers) ↻ cycle, shown above`,
        `│  └─ '' ${args} → queue ${queue} (classic) ${counts}`,
        `│     └─ consumer ${TAG} connection '${connectionName}' prefetch 3 ack manual`,
        `└─ 'order.created' → queue ${queue} (classic) ${counts} ↑ shown above`,
        '',
      ].join('\n'),
    );
  });

  it('prints it as a Graphviz digraph that dot reads', async () => {
    const result = await runWarren(['info', root, '--format', 'dot']);
    expect(result.code).toBe(0);
    const dot = result.stdout.toString();
    expect(dot.split('\n').filter((l) => l.includes('->'))).toHaveLength(6); // five bindings, a consumer
    expect(dot).toContain(`[shape=ellipse, label="${root}\\ntopic"]`);
    expect(dot).toContain(`[shape=box, label="${queue}\\nclassic, messages 2 (ready 0, unacked 2)"]`);
    expect(dot).toMatch(/ -> \w+ \[label="\\nregion=\\"eu\\"\\nx-match=\\"all\\""\];/);
    expect(dot).toContain(`[shape=note, label="${connectionName}\\nprefetch 3, ack manual"]`);
    expectDotParses(dot);
  });
});

describe('warren info on a terminal', () => {
  it('in a narrow terminal wraps each long line under its own branch: no row wider, the guides straight', async () => {
    const term = await startInTmux(['info', root], { columns: 44, rows: 60 });
    try {
      expect(await term.exitCode()).toBe(0);
      // tmux's own last row (`Pane is dead (status 0, …)`) is not warren's.
      const screen = (await term.screen()).filter((row) => row !== '' && !row.startsWith('Pane is dead'));
      for (const row of screen) expect([...row].length).toBeLessThanOrEqual(44);
      expect(screen[0]).toBe(`exchange ${root}`.slice(0, 44)); // the name fills the row, goes on below
      // Under the first branch every row keeps its guide; the last branch's rows are indented.
      const first = screen.findIndex((row) => row.startsWith("├─ 'order.#'"));
      const last = screen.findIndex((row) => row.startsWith("└─ 'order.created'"));
      expect(first).toBeGreaterThan(0);
      expect(last).toBeGreaterThan(first + 1);
      for (const row of screen.slice(first + 1, last)) expect(row).toMatch(/^│ {2}/);
      for (const row of screen.slice(last + 1)) expect(row).toMatch(/^ {5}/);
      expect(screen.join('')).toContain('↻ cycle, shown above');
    } finally {
      await term.close();
    }
  });
});

/** `dot -Tsvg` reads it (where Graphviz is installed; CI installs it). */
function expectDotParses(dot: string): string | undefined {
  if (spawnSync('dot', ['-V']).error) return undefined;
  return execFileSync('dot', ['-Tsvg'], { input: dot }).toString();
}

describe('warren info NAME', () => {
  it('a QUEUE: its consumers and every path into it, against the flow', async () => {
    const result = await runWarren(['info', queue, '--queue', '--format', 'pretty']);
    expect(result.code).toBe(0);
    const args = '{"region":"eu","x-match":"all"}'; // the API's order
    expect(result.stdout.toString()).toBe(
      [
        `queue ${queue} (classic) messages 2 ready 0 unacked 2 consumers 1`,
        `├─ consumer ${TAG} connection '${connectionName}' prefetch 3 ack manual`,
        `├─ ← 'order.created' from exchange ${root} (topic)`,
        `└─ ← '' ${args} from exchange ${head} (headers)`,
        `   ├─ ← 'order.#' from exchange ${root} (topic) ↑ shown above`,
        `   └─ ← '' from exchange ${back} (fanout)`,
        `      └─ ← '' ${args} from exchange ${head} (headers) ↻ cycle, shown above`,
        '',
      ].join('\n'),
    );
  });

  it('--no-consumers leaves them out; --default-exchange adds the implicit binding', async () => {
    const bare = ndjson((await runWarren(['info', queue, '--queue', '--no-consumers'])).stdout);
    expect(bare.map((l) => l['kind'])).not.toContain('consumer');
    const all = ndjson((await runWarren(['info', queue, '--queue', '--default-exchange'])).stdout);
    const sources = all
      .filter((l) => l['kind'] === 'binding')
      .map((l) => (l['record'] as { source: string }).source);
    expect(sources).toContain('');
    // The consumer; the default exchange's binding and the default exchange itself.
    expect(all.length).toBe(bare.length + 3);
  });

  it('a name that is an exchange and a queue is exit 2 saying how to choose', async () => {
    const result = await runWarren(['info', queue]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`'${queue}' is both an exchange and a queue in vhost '/'`);
    expect(result.stderr).toContain('--exchange, or --queue');
    const exchange = await runWarren(['info', queue, '--exchange']);
    expect(exchange.code).toBe(0);
    expect(ndjson(exchange.stdout)).toEqual([expect.objectContaining({ kind: 'exchange', shownAt: null })]);
  });

  it('escapes quotes and backslashes in names in the graph', async () => {
    const dot = await runWarren(['info', odd, '--format', 'dot']);
    expect(dot.code).toBe(0);
    const label = `${odd.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}\\nfanout`;
    expect(dot.stdout.toString()).toContain(`e1 [shape=ellipse, label="${label}"];`);
    const svg = expectDotParses(dot.stdout.toString());
    if (svg !== undefined) expect(svg).toContain('&quot;q\\b');
  });

  it('a name that is neither is exit 5 naming it', async () => {
    const missing = uniqueName('info-missing');
    const result = await runWarren(['info', missing]);
    expect(result.code).toBe(5);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toContain(`no exchange or queue '${missing}' in vhost '/'`);
    expect((await runWarren(['info', missing, '--queue'])).stderr).toContain(`no queue '${missing}'`);
  });

  it('a reader that leaves early (| head -1) is no failure', async () => {
    const result = await runShell(
      `set -o pipefail; node bin/warren.js info --default-exchange --all | head -c 1 > /dev/null`,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('a missing vhost is exit 5 naming it; an API that does not answer is exit 69', async () => {
    const vhost = uniqueName('info-vhost');
    const missing = await runWarren(['info', '--vhost', vhost]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain(`vhost '${vhost}' does not exist`);
    const down = await runWarren(['--api', 'http://127.0.0.1:1', 'info']);
    expect(down.code).toBe(69);
    expect(down.stderr).toContain('http://127.0.0.1:1');
  });
});
