/**
 * Broker flow control: a memory alarm on a second node of our own (never on the shared
 * broker) blocks every publishing connection. warren must wait, with bounded memory, and
 * finish the whole batch once the alarm clears.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/broker.js';
import { collect, testEnv, WARREN_BIN } from '../helpers/cli.js';
import { type SecondNode, startSecondNode } from '../helpers/secondNode.js';
import { hasStackTrace } from '../helpers/spawn.js';

const COUNT = 50_000;
/** About 1 KiB a line: 50 MB in all, far more than warren may hold at once. */
const PADDING = 'x'.repeat(1000);
const RSS_LIMIT_KB = 150 * 1024;
/** How long warren is watched while the alarm holds. */
const BLOCKED_FOR_MS = 5000;

let node: SecondNode;
let connection: amqp.ChannelModel;
let channel: amqp.Channel;
const scratch = mkdtempSync(join(tmpdir(), 'warren-flow-'));

beforeAll(async () => {
  node = await startSecondNode();
  connection = await amqp.connect(node.url);
  channel = await connection.createChannel();
}, 150_000);

afterAll(async () => {
  await connection?.close().catch(() => {});
  await node?.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 90_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms`);
    await sleep(300);
  }
}

async function memoryAlarm(): Promise<boolean> {
  return /resource_limit,memory/.test(await node.ctl(['eval', 'rabbit_alarm:get_alarms().']));
}

/** The states of the node's client connections (running, blocking, blocked, …). */
async function connectionStates(): Promise<string[]> {
  const out = await node.ctl(['list_connections', '-q', '--no-table-headers', 'state']);
  return out.split('\n').filter((line) => line.trim() !== '');
}

function rssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // gone
  }
}

describe('a memory alarm on the broker', () => {
  it(`publish --input lines of ${COUNT} waits with bounded memory, then confirms them all`, async () => {
    const queue = uniqueName('flow-alarm');
    await channel.assertQueue(queue, { durable: false });
    const input = join(scratch, 'lines.txt');
    const lines: string[] = [];
    for (let i = 1; i <= COUNT; i += 1) lines.push(`${i} ${PADDING}`);
    writeFileSync(input, `${lines.join('\n')}\n`);

    let child: ChildProcess | undefined;
    try {
      await node.ctl(['set_vm_memory_high_watermark', 'absolute', '1']);
      await waitFor('memory alarm', memoryAlarm);

      const stdin = openSync(input, 'r');
      child = spawn(
        process.execPath,
        [WARREN_BIN, 'publish', '--url', node.url, '--routing-key', queue, '--input', 'lines'],
        { env: testEnv(), stdio: [stdin, 'pipe', 'pipe'] },
      );
      closeSync(stdin);
      const pid = child.pid as number;
      const result = collect(child, 180_000);
      let exited = false;
      result.then(
        () => {
          exited = true;
        },
        () => {
          exited = true;
        },
      );

      // The broker blocks warren's connection once it publishes.
      await waitFor('a blocked connection', async () => (await connectionStates()).includes('blocked'));
      const start = Date.now();
      let peakWhileBlocked = 0;
      while (Date.now() - start < BLOCKED_FOR_MS && !exited) {
        peakWhileBlocked = Math.max(peakWhileBlocked, rssKb(pid) ?? 0);
        await sleep(100);
      }
      if (exited) {
        const early = await result;
        expect.fail(`warren finished while the alarm held: exit ${early.code}\n${early.stderr}`);
      }
      expect(peakWhileBlocked, 'VmRSS (kB) while blocked').toBeLessThan(RSS_LIMIT_KB);
      expect(peakWhileBlocked).toBeGreaterThan(0);
      expect((await channel.checkQueue(queue)).messageCount).toBeLessThan(COUNT);

      await node.ctl(['set_vm_memory_high_watermark', '0.4']);
      let peak = peakWhileBlocked;
      while (!exited) {
        peak = Math.max(peak, rssKb(pid) ?? 0);
        await sleep(100);
      }
      const run = await result;
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(
        new RegExp(`published ${COUNT}, confirmed ${COUNT}, returned 0, nacked 0\\b`),
      );
      expect(hasStackTrace(run.stderr)).toBe(false);
      // Without --verbose: a publisher held by the broker says why, and when it may go on.
      expect(run.stderr).toMatch(/warning: the broker is blocking publishers \(.*\): waiting/);
      expect(run.stderr).toMatch(/warning: the broker lets publishers go on again/);
      expect(run.stdout.length).toBe(0);
      expect(peak, 'VmRSS (kB) over the whole run').toBeLessThan(RSS_LIMIT_KB);
      expect((await channel.checkQueue(queue)).messageCount).toBe(COUNT);
      // Whole, and in order: the first message is the first line.
      const first = await channel.get(queue, { noAck: true });
      expect(first === false ? undefined : first.content.toString()).toBe(`1 ${PADDING}`);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await node.ctl(['set_vm_memory_high_watermark', '0.4']).catch(() => {});
      await channel.deleteQueue(queue).catch(() => {});
    }
  }, 240_000);
});
