/**
 * `warren latency --to-url` between two nodes of a cluster of the tests' own: published on
 * one, consumed on the other. And between two brokers that are no cluster (the cluster and
 * the shared test broker): the probe cannot work, and says so (exit 5), leaving no queue.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchSummary } from '../../src/bench/summary.js';
import { BROKER_URL } from '../helpers/broker.js';
import { collect, startWarren } from '../helpers/cli.js';
import { type Cluster, type SecondNode, startCluster } from '../helpers/secondNode.js';

let cluster: Cluster;
let a: SecondNode;
let b: SecondNode;

beforeAll(async () => {
  cluster = await startCluster(2);
  [a, b] = cluster.nodes as [SecondNode, SecondNode];
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
}, 90_000);

/** Whether a node has the queue (a passive declare: these nodes have no management API). */
async function queueExists(url: string, queue: string): Promise<boolean> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    try {
      await channel.checkQueue(queue);
      await channel.close();
      return true;
    } catch {
      return false;
    }
  } finally {
    await connection.close().catch(() => {});
  }
}

function queueOf(stderr: string): string {
  const name = /probe queue '(warren-latency-[0-9a-f]+)'/.exec(stderr)?.[1];
  if (!name) throw new Error(`no probe queue named in: ${stderr}`);
  return name;
}

describe('warren latency across nodes', () => {
  it('publishes on one node and consumes on the other', async () => {
    const run = await collect(
      startWarren([
        '-v',
        '--url',
        a.url,
        'latency',
        '--to-url',
        b.url,
        '--count',
        '10',
        '--rate',
        '50',
        '--json',
      ]),
      60_000,
    );
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.toString()) as BenchSummary;
    expect(summary).toMatchObject({ published: 10, confirmed: 10, consumed: 10 });
    expect(summary.latency.count).toBe(10);
    const queue = queueOf(run.stderr);
    expect(await queueExists(a.url, queue)).toBe(false);
    expect(await queueExists(b.url, queue)).toBe(false);
  });

  it('two brokers that are no cluster: exit 5 saying so, the queue removed', async () => {
    const run = await collect(
      startWarren(['-v', '--url', a.url, 'latency', '--to-url', BROKER_URL, '--count', '5']),
      60_000,
    );
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(
      /--to-url: queue 'warren-latency-[0-9a-f]+' not found: --url and --to-url are not one cluster/,
    );
    expect(run.stderr).toContain('two separate brokers share no queue');
    expect(await queueExists(a.url, queueOf(run.stderr))).toBe(false);
  });
});
