/**
 * A 3-node cluster of our own and a quorum queue replicated on all three: the node warren is
 * connected to stops (its RabbitMQ application) in the middle of a publish, then of a consume,
 * and warren, given the three nodes as a URL list, goes on with another one. Nothing may be
 * lost; the copies a consume writes twice are counted (printed for the record) and must be
 * marked redelivered.
 */
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/broker.js';
import { countBodies, publishMany, takeAllFast } from '../helpers/bulk.js';
import { collect, feedLines, ndjson, startWarren } from '../helpers/cli.js';
import { awaitRunning, type Cluster, type SecondNode, startCluster } from '../helpers/secondNode.js';
import { hasStackTrace } from '../helpers/spawn.js';

let cluster: Cluster;
let a: SecondNode;
let b: SecondNode;
let c: SecondNode;

beforeAll(async () => {
  const started = Date.now();
  cluster = await startCluster(3);
  [a, b, c] = cluster.nodes as [SecondNode, SecondNode, SecondNode];
  console.log(`cluster: 3 nodes running in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  // Three Erlang nodes booting beside other test files on two cores: only a failure waits this long.
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
}, 90_000);

// A test that failed half-way leaves no node stopped for the next one.
afterEach(async () => {
  if (!cluster) return;
  await Promise.all(cluster.nodes.map((node) => node.ctl(['start_app'])));
  await awaitRunning(
    a,
    cluster.nodes.map((node) => node.name),
  );
}, 90_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function onNode<T>(node: SecondNode, work: (connection: amqp.ChannelModel) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(node.url);
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

/** A quorum queue declared through `node` (so its leader starts there), with a member on every node. */
async function quorumQueue(node: SecondNode, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await onNode(node, async (connection) => {
    const channel = await connection.createChannel();
    await channel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  });
  const listed = JSON.parse(await node.ctl(['list_queues', 'name', 'members', '--formatter', 'json'])) as {
    name: string;
    members: string[];
  }[];
  const members = listed.find((queue) => queue.name === name)?.members ?? [];
  expect(members.sort()).toEqual(cluster.nodes.map((each) => each.name).sort());
  return name;
}

const messageCount = (node: SecondNode, queue: string) =>
  onNode(
    node,
    async (connection) => (await (await connection.createChannel()).checkQueue(queue)).messageCount,
  );

/** Every body in the queue (taken through `node`), counted; the queue is deleted. */
const takeAll = (node: SecondNode, queue: string) =>
  onNode(node, async (connection) => {
    const seen = countBodies(await takeAllFast(connection, queue));
    await (await connection.createChannel()).deleteQueue(queue);
    return seen;
  });

/** The numbers i of `line-i` from 1 to `lines` that are not among `seen`. */
function missingLines(seen: Map<string, number>, lines: number): number[] {
  const missing = [];
  for (let i = 1; i <= lines; i += 1) if (!seen.has(`line-${i}`)) missing.push(i);
  return missing;
}

const urlList = (...nodes: SecondNode[]) => nodes.map((node) => node.url).join(',');

describe('a 3-node cluster, a quorum queue, and the connected node stopping', () => {
  it('publish --url A,B,C: reconnects to another node when A stops mid-stream; every line is in the queue, exit 0', async () => {
    const queue = await quorumQueue(a, 'cluster-pub');
    const child = startWarren(
      ['publish', '--url', urlList(a, b, c), '--input', 'lines', '-k', queue, '--retries', '10'],
      { env: { WARREN_URL: undefined }, stdin: 'open' },
    );
    const done = collect(child, 120_000);
    // Stopped once a good part is in, while lines keep coming (feedLines goes on meanwhile).
    const stopped = (async () => {
      while ((await messageCount(b, queue)) < 2_000) await sleep(100);
      await a.ctl(['stop_app']);
    })();
    const lines = await feedLines(child, stopped, 2_000);
    await stopped;
    const result = await done;

    expect(result.code, result.stderr).toBe(0);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stderr).toMatch(/warning: lost the connection .*; reconnecting \(1 of 10\)/);
    expect(result.stderr).toMatch(new RegExp(`published ${lines}, confirmed ${lines}, returned 0, nacked 0`));
    const seen = await takeAll(b, queue);
    const missing = missingLines(seen, lines);
    expect(missing.slice(0, 10), `${missing.length} of ${lines} lines missing`).toEqual([]);
    const twice = [...seen.values()].reduce((sum, count) => sum + count - 1, 0);
    const summary = result.stderr.trim().split('\n').at(-1);
    console.log(`cluster publish: ${lines} lines, ${twice} in the queue twice (${summary})`);
  }, 180_000);

  it('consume --url B,C,A: reconnects to another node when B stops mid-stream; every message read, copies marked redelivered', async () => {
    const total = 10_000;
    const queue = await quorumQueue(b, 'cluster-consume');
    await onNode(b, (connection) =>
      publishMany(
        connection,
        '',
        queue,
        Array.from({ length: total }, (_, i) => ({ body: `line-${i + 1}` })),
      ),
    );
    // No --timeout: a reader that pauses is not an idle queue. The test ends the run (Ctrl-C)
    // once it has read every message, or once nothing new came for 30 s (something lost).
    const child = startWarren(
      ['consume', queue, '--url', urlList(b, c, a), '--format', 'ndjson', '--retries', '10'],
      { env: { WARREN_URL: undefined } },
    );
    const done = collect(child, 120_000);
    const stdout = child.stdout;
    if (!stdout) throw new Error('no stdout');
    // The reader stops reading a quarter of the way in and B stops meanwhile, so the stop comes
    // mid-stream with records on their way that were not read yet; then the reader goes on.
    const bodies = new Set<string>();
    let partial = '';
    let stopping: Promise<unknown> | undefined;
    let quiet: NodeJS.Timeout | undefined;
    let interrupted = false;
    // Once: a second Ctrl-C would not wait for the acks.
    const interrupt = () => {
      if (!interrupted) child.kill('SIGINT');
      interrupted = true;
    };
    stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      const before = bodies.size;
      for (const line of lines) bodies.add(String((JSON.parse(line) as { body: unknown }).body));
      if (bodies.size === total) interrupt();
      else if (bodies.size > before) {
        clearTimeout(quiet);
        quiet = setTimeout(interrupt, 30_000);
      }
      if (!stopping && bodies.size >= total / 4) {
        stdout.pause();
        stopping = b.ctl(['stop_app']).finally(() => stdout.resume());
      }
    });
    const result = await done;
    clearTimeout(quiet);
    await stopping;

    expect(stopping, 'B was stopped').toBeDefined();
    expect(result.code, result.stderr).toBe(130);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stderr).toMatch(/warning: lost the connection .*; reconnecting \(1 of 10\)/);
    const records = ndjson(result.stdout);
    const read = new Map<string, number>();
    const unmarked = new Map<string, number>();
    for (const record of records) {
      const body = String(record['body']);
      read.set(body, (read.get(body) ?? 0) + 1);
      if (record['redelivered'] !== true) unmarked.set(body, (unmarked.get(body) ?? 0) + 1);
    }
    const missing = missingLines(read, total);
    expect(missing.slice(0, 10), `${missing.length} of ${total} messages never read`).toEqual([]);
    // Copies of messages read may still be in the queue (redelivered after the last new one).
    const left = await takeAll(c, queue);
    const duplicates = records.length - read.size;
    const leftCopies = [...left.values()].reduce((sum, count) => sum + count, 0);
    console.log(
      `cluster consume: ${total} messages, ${duplicates} read twice (redelivered after the failover), ${leftCopies} more copies left in the queue`,
    );
    expect([...left.keys()].filter((body) => !read.has(body))).toEqual([]);
    // A message read twice came again because its ack was lost: every copy but one is marked.
    const twiceUnmarked = [...unmarked].filter(([, count]) => count > 1).map(([body]) => body);
    expect(twiceUnmarked.slice(0, 10), `${twiceUnmarked.length} read twice without "redelivered"`).toEqual(
      [],
    );
  }, 180_000);
});
