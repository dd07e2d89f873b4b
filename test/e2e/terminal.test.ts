import { readFileSync } from 'node:fs';
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
 * stdout to a file.
 */
async function inTerminal(args: string, columns = 100) {
  const out = join(tmpdir(), `${uniqueName('stdout')}.txt`);
  const screen = await runShell(
    `script -qec "stty cols ${columns} rows 30; node bin/warren.js ${args} > ${out}" /dev/null`,
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
