/**
 * `warren consume` when its stdout goes away or cannot take data: a reader that leaves
 * early (`| head -n 1`, `| head -c 10`, `| true`), stdout closed (`>&-`), a full disk
 * (`> /dev/full`). However the output ends, nothing is lost: every message acked was
 * written, every message not written is still in the queue, and the summary does not
 * claim more than was taken. (`| head -n 3` is in consume.test.ts; `tail --capture
 * /dev/full` in tail.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { numbered, publishMany, takeAllFast } from '../helpers/bulk.js';
import type { RunResult } from '../helpers/cli.js';
import { hasStackTrace, runShell } from '../helpers/spawn.js';

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

/**
 * Runs `warren consume …` under bash with `redirect` after it (`| head -n 1`, `>&-`, …),
 * pipefail off. A warren that hangs is killed after 20 s (status 137), so the test fails
 * rather than leaving it behind. `delayStart` lets the reader leave before warren starts.
 */
async function consumeInto(
  queue: string,
  flags: string,
  redirect: string,
  options: { delayStart?: boolean } = {},
): Promise<RunResult & { status: number; errors: string[] }> {
  const warren = `timeout -s KILL 20 node bin/warren.js consume '${queue}' ${flags}`;
  const left = options.delayStart ? `{ sleep 0.3; ${warren}; }` : warren;
  const result = await runShell(`set +o pipefail; ${left} ${redirect}; echo "exit=\${PIPESTATUS[0]}" >&2`, {
    timeoutMs: 30_000,
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
    expect(acked).toBeGreaterThanOrEqual(1);
    expect(acked).toBeLessThanOrEqual(5);
  });

  it('`| head -c 10` on a long queue: nothing is lost, and warren stops', async () => {
    const n = 5000;
    const q = await filledQueue('closed-headc', n);
    const result = await consumeInto(q, '', '| head -c 10');
    expectQuietEnd(result);
    expect(result.stdout.toString()).toBe('{"exchange');
    const acked = await expectNothingLost(q, n, result.stderr);
    expect(acked).toBeGreaterThanOrEqual(1);
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
