import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker, uniqueName } from '../helpers/broker.js';
import { runWarren } from '../helpers/cli.js';
import { runShell } from '../helpers/spawn.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await connectTestBroker();
});
afterAll(async () => {
  await broker.cleanup();
});

/**
 * Runs warren with stderr on a pseudo-terminal (util-linux `script`) of a given width, and
 * stdout to a file. Without CI in the environment: ora draws no animation under CI.
 */
async function inTerminal(args: string, columns = 100) {
  const out = join(tmpdir(), `${uniqueName('stdout')}.txt`);
  const screen = await runShell(
    `script -qec "stty cols ${columns} rows 30; env -u CI node bin/warren.js ${args} > ${out}" /dev/null`,
  );
  return { screen: screen.stdout.toString(), stdout: readFileSync(out, 'utf8'), code: screen.code };
}

describe('the status line', () => {
  it('shows on a terminal while waiting, and never reaches stdout', async () => {
    const queue = await broker.queue('status');
    const run = await inTerminal(`consume ${queue} --timeout 300ms`);
    expect(run.screen).toContain(`waiting for messages on '${queue}'`);
    expect(run.stdout).toBe('');
  });

  it('stays away on a terminal that reports no width, instead of redrawing forever', async () => {
    const queue = await broker.queue('status-narrow');
    const run = await inTerminal(`consume ${queue} --timeout 300ms`, 0);
    expect(run.code).toBe(0);
    expect(run.screen).not.toContain('waiting for messages');
    expect(run.screen).toContain(`consumed 0 messages from '${queue}'`);
  });

  it('stays away with --quiet', async () => {
    const queue = await broker.queue('status-quiet');
    const run = await inTerminal(`consume ${queue} --timeout 300ms -q`);
    expect(run.screen).not.toContain('waiting for messages');
  });

  it('stays away when stderr is not a terminal', async () => {
    const queue = await broker.queue('status-pipe');
    const run = await runWarren(['consume', queue, '--timeout', '300ms']);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('waiting for messages');
    expect(run.stderr).toContain(`consumed 0 messages from '${queue}'`);
  });
});

describe('replay progress', () => {
  it('shows how far, an ETA and what was confirmed on a terminal; stdout keeps only the receipts', async () => {
    const queue = await broker.queue('replay-progress');
    const capture = join(tmpdir(), `${uniqueName('capture')}.ndjson`);
    const line = (n: number) => JSON.stringify({ exchange: '', routingKey: queue, body: `message ${n}` });
    writeFileSync(capture, `${Array.from({ length: 40 }, (_, i) => line(i + 1)).join('\n')}\n`);
    // 40 messages at 50/s: two seconds, many redraws of the status line.
    // Wide enough for the capture's long path: a status line is cut to one row.
    const run = await inTerminal(`replay ${capture} --rate 50/s --receipts`, 200);
    rmSync(capture);
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/replaying '[^']+': \d+%, ETA \d+s, \d+ published, \d+ confirmed/);
    expect(run.screen).toContain('published 40, confirmed 40');
    const receipts = run.stdout.trim().split('\n');
    expect(receipts).toHaveLength(40);
    expect(receipts.every((r) => (JSON.parse(r) as { status: string }).status === 'confirmed')).toBe(true);
    expect(await broker.messageCount(queue)).toBe(40);
  });
});
