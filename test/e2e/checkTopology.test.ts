/**
 * `warren check topology FILE` end to end: a file the broker matches (OK, exit 0), one it
 * has drifted from (a queue missing, an argument differing, a binding missing and one the
 * file does not list: CRITICAL, exit 7, each named and counted), and a file that is not a
 * topology (exit 65, as declare --file). Bindings are compared through the shared broker's
 * management API. Everything is uniquely named, expires, and is deleted after the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, TEST_QUEUE_EXPIRES_MS, type TestBroker, uniqueName } from '../helpers/broker.js';
import { measured, runCheck } from '../helpers/checkResult.js';
import { runWarren } from '../helpers/cli.js';

let broker: TestBroker;
let dir: string;
let exchange: string;
let queue: string;
/** Never declared: the file's missing queue (deleted after the run in case a bug made it). */
const absent = uniqueName('check-topology-absent');

beforeAll(async () => {
  broker = await connectTestBroker();
  dir = mkdtempSync(join(tmpdir(), 'warren-check-topology-'));
  exchange = await broker.exchange('check-topology-x', 'direct');
  queue = await broker.queue('check-topology-q', { maxLength: 10 });
  await broker.channel.bindQueue(queue, exchange, 'k');
});

afterAll(async () => {
  await broker?.channel.deleteQueue(absent).catch(() => {});
  await broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes a topology file of the test's exchange and queue; `drift` changes what it says. */
function topologyFile(name: string, drift: { maxLength: number; queues?: unknown[]; key: string }): string {
  const file = join(dir, name);
  const topology = {
    exchanges: [{ name: exchange, type: 'direct', durable: false }],
    queues: [
      { name: queue, durable: false, expires: TEST_QUEUE_EXPIRES_MS, maxLength: drift.maxLength },
      ...(drift.queues ?? []),
    ],
    bindings: [{ source: exchange, queue, key: drift.key }],
  };
  writeFileSync(file, JSON.stringify(topology, null, 2));
  return file;
}

describe('check topology', () => {
  it('is OK (exit 0) when the broker matches the file, bindings included', async () => {
    const file = topologyFile('match.json', { maxLength: 10, key: 'k' });
    const { code, stderr, found } = await runCheck('topology', [file]);
    expect(code, stderr).toBe(0);
    expect(found.status).toBe('OK');
    expect(found.target).toBe(file);
    expect(found.message).toContain('1 exchanges, 1 queues, 1 bindings');
    expect(found.message).not.toContain('not checked');
    expect(measured(found, 'differences')?.value).toBe(0);
  });

  it('is CRITICAL (exit 7) naming each difference when the broker drifted from the file', async () => {
    const file = topologyFile('drift.json', {
      maxLength: 20,
      key: 'other',
      queues: [{ name: absent, durable: false, expires: TEST_QUEUE_EXPIRES_MS }],
    });
    const { code, stderr, found } = await runCheck('topology', [file]);
    expect(code, stderr).toBe(7);
    expect(found.status).toBe('CRITICAL');
    // The argument that differs, the queue missing, the file's binding the broker lacks,
    // and the broker's binding the file does not list.
    expect(measured(found, 'differences')?.value).toBe(4);
    expect(found.message).toMatch(new RegExp(`queue '${queue}' differs: .*x-max-length`));
    expect(found.message).toContain(`queue '${absent}' missing`);
    expect(found.message).toMatch(/other.* missing/);
    expect(found.message).toContain('bound on the broker, not in the file');
    // Checking changed nothing.
    expect((await broker.channel.checkQueue(queue)).messageCount).toBe(0);
    expect(await broker.queueExists(absent)).toBe(false);
  });

  it('ends with exit 65, as declare --file, for a file that is not a topology', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"queues": [{"name": 1}]}');
    const result = await runWarren(['check', 'topology', file]);
    expect(result.code, result.stderr).toBe(65);
    expect(result.stderr).toContain('name');
    expect(result.stdout.length).toBe(0);
  });
});
