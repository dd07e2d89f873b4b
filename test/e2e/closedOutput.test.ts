/**
 * `warren consume` when its stdout goes away or cannot take data: a reader that leaves
 * early (`| head -n 1`, `| head -c 10`, `| true`), stdout closed (`>&-`), a full disk
 * (`> /dev/full`). However the output ends, nothing is lost: every message acked was
 * written, every message not written is still in the queue, and the summary does not
 * claim more than was taken. (`| head -n 3` is in consume.test.ts; `tail --capture
 * /dev/full` in tail.test.ts.)
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { numbered, publishMany, takeAllFast } from '../helpers/bulk.js';
import { collect, type RunResult, testEnv } from '../helpers/cli.js';
import { hasStackTrace, REPO_ROOT, runShell } from '../helpers/spawn.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterAll(async () => {
  await broker?.cleanup();
});

/** A queue holding `count` messages with messageId `m-1`…`m-count`. */
async function filledQueue(prefix: string, count: number): Promise<string> {
  const queue = await broker.queue(prefix);
  await publishMany(broker.connection, '', queue, numbered('m', count));
  expect(await broker.messageCount(queue)).toBe(count);
  return queue;
}

const seq = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m-${from + i}`);

/** Linux x86-64: warren can see what the reader took out of the pipe (FIONREAD), not only what the pipe took. */
const readerExact = process.platform === 'linux' && process.arch === 'x64';

/**
 * Runs `warren consume …` under bash with `redirect` after it (`| head -n 1`, `>&-`, …),
 * pipefail off. A warren that hangs is killed after 20 s (status 137), so the test fails
 * rather than leaving it behind. `delayStart` lets the reader leave before warren starts.
 */
async function consumeInto(
  queue: string,
  flags: string,
  redirect: string,
  options: { delayStart?: boolean; env?: Record<string, string> } = {},
): Promise<RunResult & { status: number; errors: string[] }> {
  const warren = `timeout -s KILL 20 node bin/warren.js consume '${queue}' ${flags}`;
  const left = options.delayStart ? `{ sleep 0.3; ${warren}; }` : warren;
  const result = await runShell(`set +o pipefail; ${left} ${redirect}; echo "exit=\${PIPESTATUS[0]}" >&2`, {
    timeoutMs: 30_000,
    env: options.env,
  });
  const status = /exit=(\d+)\s*$/.exec(result.stderr);
  expect(status, result.stderr).not.toBeNull();
  const stderr = result.stderr.replace(/exit=\d+\s*$/, '');
  const errors = stderr.split('\n').filter((line) => /^error/.test(line));
  return { ...result, stderr, status: Number(status?.[1]), errors };
}

/**
 * What the queue still holds must be exactly the messages not acked: acks go in delivery
 * order, so the rest is m-(acked+1) … m-n. Returns how many were acked. The summary on
 * stderr, if any, must count only those (it is printed before acks could be undone).
 */
async function expectNothingLost(queue: string, n: number, stderr: string): Promise<number> {
  const left = (await takeAllFast(broker.connection, queue)).map((m) => m.properties.messageId as string);
  const acked = n - left.length;
  expect(left, 'the messages left in the queue are the ones not acked, in order').toEqual(seq(acked + 1, n));
  const summary = /consumed (\d+) messages?/.exec(stderr);
  if (summary) {
    // Soft: a wrong count is reported, and the checks that follow still run.
    expect
      .soft(
        Number(summary[1]),
        `the summary "${summary[0]}" must count the messages taken (${acked} acked, ${left.length} left)`,
      )
      .toBe(acked);
  }
  return acked;
}

/** A reader that leaves is a normal end: exit 0, no error, no stack trace. */
function expectQuietEnd(result: { status: number; stderr: string; errors: string[] }): void {
  expect(result.status, result.stderr).toBe(0);
  expect(hasStackTrace(result.stderr)).toBe(false);
  expect(result.errors).toEqual([]);
}

describe('a reader that leaves early: exit 0, nothing lost', () => {
  it('`--count 5 | head -n 1`: head gets exactly one whole record, and nothing is lost', async () => {
    const n = 10;
    const q = await filledQueue('closed-head1-count', n);
    const result = await consumeInto(q, '--count 5', '| head -n 1');
    expectQuietEnd(result);
    const lines = result.stdout.toString().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(
      (JSON.parse(lines[0] as string) as { properties: { messageId: string } }).properties.messageId,
    ).toBe('m-1');
    const acked = await expectNothingLost(q, n, result.stderr);
    expect(acked, 'head read m-1: it was written, so it must be acked').toBeGreaterThanOrEqual(1);
    expect(acked, '--count 5 takes at most 5').toBeLessThanOrEqual(5);
  });

  it('`| head -n 1` on a long queue: warren stops at the broken pipe', async () => {
    const n = 5000;
    const q = await filledQueue('closed-head1', n);
    const result = await consumeInto(q, '', '| head -n 1');
    expectQuietEnd(result);
    expect(result.stdout.toString().split('\n').filter(Boolean)).toHaveLength(1);
    const acked = await expectNothingLost(q, n, result.stderr);
    expect(acked).toBeGreaterThanOrEqual(1);
    expect(acked, 'warren went on past the broken pipe').toBeLessThan(n);
  });

  it('`--count 5 | head -c 10` (cut inside the first record): nothing is lost', async () => {
    const n = 10;
    const q = await filledQueue('closed-headc-count', n);
    const result = await consumeInto(q, '--count 5', '| head -c 10');
    expectQuietEnd(result);
    expect(result.stdout.toString()).toBe('{"exchange');
    const acked = await expectNothingLost(q, n, result.stderr);
    // head took 10 bytes of the first record: where warren can tell, that record was not read.
    if (readerExact) expect(acked, 'acked, though the reader took only part of it').toBe(0);
    else expect(acked).toBeGreaterThanOrEqual(1);
    expect(acked).toBeLessThanOrEqual(5);
  });

  it('`| head -c 10` on a long queue: nothing is lost, and warren stops', async () => {
    const n = 5000;
    const q = await filledQueue('closed-headc', n);
    const result = await consumeInto(q, '', '| head -c 10');
    expectQuietEnd(result);
    expect(result.stdout.toString()).toBe('{"exchange');
    const acked = await expectNothingLost(q, n, result.stderr);
    // head took 10 bytes of the first record: where warren can tell, that record was not read.
    if (readerExact) expect(acked, 'acked, though the reader took only part of it').toBe(0);
    else expect(acked).toBeGreaterThanOrEqual(1);
    expect(acked, 'warren went on past the broken pipe').toBeLessThan(n);
  });

  // The reader has gone before warren even starts: not one record can be written, so not
  // one message may be taken.
  it('`--count 5 | true`: nothing is written, so nothing is taken', async () => {
    const n = 10;
    const q = await filledQueue('closed-true-count', n);
    const result = await consumeInto(q, '--count 5', '| true', { delayStart: true });
    expectQuietEnd(result);
    expect(await expectNothingLost(q, n, result.stderr), 'acked with no reader').toBe(0);
  });

  it('`| true` on a long queue: nothing is written, so nothing is taken', async () => {
    const n = 5000;
    const q = await filledQueue('closed-true', n);
    const result = await consumeInto(q, '', '| true', { delayStart: true });
    expectQuietEnd(result);
    expect(await expectNothingLost(q, n, result.stderr), 'acked with no reader').toBe(0);
  });
});

/** A reader that takes exactly `lines` lines out of the pipe (bash's read takes a byte at a time) and leaves. */
const readLines = (lines: number) =>
  `| { for i in $(seq ${lines}); do IFS= read -r line || break; printf '%s\\n' "$line"; done; }`;

const ids = (stdout: Buffer) =>
  stdout
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { properties: { messageId: string } }).properties.messageId);

describe.runIf(readerExact)('a reader that leaves early: exactly what it did not read stays (Linux)', () => {
  it('a reader that reads 3 lines of 100 and leaves: 3 acked, 97 stay, and warren says so', async () => {
    const n = 100;
    const q = await filledQueue('closed-read3', n);
    const result = await consumeInto(q, '', readLines(3));
    expectQuietEnd(result);
    expect(ids(result.stdout)).toEqual(seq(1, 3));
    expect(await expectNothingLost(q, n, result.stderr), 'acked, yet never read').toBe(3);
    expect(result.stderr).toMatch(
      /warning: the reader left: it took 3 records out of the pipe.*97 went back/,
    );
    expect(result.stderr).toMatch(/--count N takes exactly N/);
  });

  it('`--count 3 | head -n 3` takes exactly 3, with no warning', async () => {
    const q = await filledQueue('closed-count3-head3', 10);
    const result = await consumeInto(q, '--count 3', '| head -n 3');
    expectQuietEnd(result);
    expect(ids(result.stdout)).toEqual(seq(1, 3));
    expect(await expectNothingLost(q, 10, result.stderr)).toBe(3);
    expect(result.stderr).not.toMatch(/warning/);
  });

  it('`| head -n 3` on a queue that then stays quiet: warren notices the reader left and ends', async () => {
    const q = await filledQueue('closed-head3-quiet', 3);
    const result = await consumeInto(q, '', '| head -n 3');
    expect(result.status, 'killed after waiting for the next message').not.toBe(137);
    expectQuietEnd(result);
    expect(ids(result.stdout)).toEqual(seq(1, 3));
    expect(await expectNothingLost(q, 3, result.stderr)).toBe(3);
  });

  it('a reader that reads 2 lines of 5 on a quiet queue: warren ends, and the 3 unread stay', async () => {
    const q = await filledQueue('closed-read2-quiet', 5);
    const result = await consumeInto(q, '', readLines(2));
    expect(result.status, 'killed after waiting for the next message').not.toBe(137);
    expectQuietEnd(result);
    expect(await expectNothingLost(q, 5, result.stderr)).toBe(2);
  });

  it('Ctrl-C to a pipeline with a slow reader: what the reader did not read stays in the queue', async () => {
    const n = 2000;
    const q = await filledQueue('closed-sigint-slow', n);
    // The pipeline in a process group of its own, as a terminal's Ctrl-C signals a whole job.
    // The reader stops at Ctrl-C (bash alone may go on when it comes during a builtin).
    const child = spawn(
      'bash',
      [
        '-c',
        `node bin/warren.js consume '${q}' | { trap 'exit 130' INT; while IFS= read -r line; do printf '%s\\n' "$line"; sleep 0.005; done; }`,
      ],
      { cwd: REPO_ROOT, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const done = collect(child);
    await new Promise<void>((resolve) => {
      let lines = 0;
      child.stdout?.on('data', (chunk: Buffer) => {
        lines += chunk.toString().split('\n').length - 1;
        if (lines >= 30) resolve();
      });
    });
    process.kill(-(child.pid as number), 'SIGINT');
    const result = await done;
    expect(hasStackTrace(result.stderr)).toBe(false);
    const printed = ids(result.stdout);
    expect(printed).toEqual(seq(1, printed.length));
    const acked = await expectNothingLost(q, n, result.stderr);
    // The signal can come between the reader's read and its printf: one line read, not shown.
    expect(
      acked - printed.length,
      `acked ${acked}, the reader printed ${printed.length}`,
    ).toBeGreaterThanOrEqual(0);
    expect(
      acked - printed.length,
      `acked ${acked}, the reader printed ${printed.length}`,
    ).toBeLessThanOrEqual(1);
    expect(result.stderr).toMatch(/--count N takes exactly N/);
  });
});

describe('a reader that leaves early, where warren cannot see what it read', () => {
  it('`| head -n 3` with the probe off: what the pipe took is acked, and warren says it may be unread', async () => {
    // Without the probe a reader that left is noticed at the next write only: a long queue.
    const n = 5000;
    const q = await filledQueue('closed-head3-noprobe', n);
    const result = await consumeInto(q, '', '| head -n 3', { env: { WARREN_PIPE_PROBE: '0' } });
    expectQuietEnd(result);
    expect(ids(result.stdout)).toEqual(seq(1, 3));
    const acked = await expectNothingLost(q, n, result.stderr);
    expect(result.stderr).toContain(
      `warning: the output ended early: ${acked} records were acked once the pipe took them, and may not all have been read`,
    );
    expect(result.stderr).toMatch(/--count N takes exactly N/);
  });
});

/**
 * Stdout that cannot be written is an error, not a silent success: a non-zero exit (not a
 * kill after hanging), one error line naming the problem, no stack trace. Soft checks: one
 * run reports all that is wrong with it, and the caller still checks what was lost.
 */
function expectOneWriteError(result: { status: number; stderr: string; errors: string[] }, problem: RegExp) {
  expect.soft(result.status, `exit status; stderr: ${result.stderr}`).not.toBe(0);
  expect(result.status, 'killed after hanging').not.toBe(137);
  expect(hasStackTrace(result.stderr)).toBe(false);
  expect.soft(result.errors, result.stderr).toHaveLength(1);
  expect.soft(result.errors[0]).toMatch(problem);
}

describe('stdout that cannot be written: one clear error, non-zero exit, nothing taken', () => {
  // Soft checks: one run reports all that is wrong with it (exit, message, messages lost).
  it('stdout closed (`>&-`): an error, not a silent success, and all 3 messages stay', async () => {
    const q = await filledQueue('closed-fd', 3);
    const result = await consumeInto(q, '--count 3', '>&-');
    expectOneWriteError(result, /stdout/);
    expect(await expectNothingLost(q, 3, result.stderr), 'acked, yet written nowhere').toBe(0);
  });

  it('stdout on a full disk (`--count 3 > /dev/full`): ENOSPC named, non-zero exit, all 3 stay', async () => {
    const q = await filledQueue('closed-full-count', 3);
    const result = await consumeInto(q, '--count 3', '> /dev/full');
    expectOneWriteError(result, /ENOSPC/);
    expect(await expectNothingLost(q, 3, result.stderr)).toBe(0);
  });

  it('stdout on a full disk without --count (`--timeout 1s > /dev/full`): the same', async () => {
    const q = await filledQueue('closed-full', 3);
    const result = await consumeInto(q, '--timeout 1s', '> /dev/full');
    expectOneWriteError(result, /ENOSPC/);
    expect(await expectNothingLost(q, 3, result.stderr)).toBe(0);
  });
});
