/**
 * What the `consume --exec` tests share: a scratch directory per handler, a work queue that
 * dead-letters to a queue of its own, and reading what a run wrote (stderr, handler logs).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type amqp from 'amqplib';
import { expect } from 'vitest';
import type { TestBroker } from './broker.js';
import { type RunResult, runWarren } from './cli.js';
import { hasStackTrace } from './spawn.js';

/** A fresh directory under `root` for one test's handler to write to; handlers find it as $HDIR. */
export function newHandlerDir(root: string, name: string): string {
  const dir = join(root, `${name}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir);
  return dir;
}

/** A work queue whose rejected messages go (through the default exchange) to a DLQ. */
export async function deadLettered(
  broker: TestBroker,
  prefix: string,
  options: amqp.Options.AssertQueue = {},
) {
  const dlq = await broker.queue(`${prefix}-dlq`);
  const work = await broker.queue(prefix, {
    ...options,
    arguments: {
      ...(options.arguments ?? {}),
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': dlq,
    },
  });
  return { work, dlq };
}

export const lines = (text: string) => text.split('\n').filter((line) => line.length > 0);
export const fileLines = (path: string) => (existsSync(path) ? lines(readFileSync(path, 'utf8')) : []);
export const warnings = (stderr: string) => lines(stderr).filter((line) => line.startsWith('warning:'));
export const errors = (stderr: string) => lines(stderr).filter((line) => line.startsWith('error'));

/** The checks every finished run must pass: stdout is data only, and nothing crashed. */
export function expectClean(result: RunResult) {
  expect(result.stdout.length, `stdout must stay empty; got: ${result.stdout.toString()}`).toBe(0);
  expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
}

/**
 * `consume QUEUE ARGS…` for each of `cases`, at once: each must be a usage error (exit 2)
 * with one error line matching its pattern, and nothing on stdout.
 */
export async function expectUsageErrors(queue: string, cases: [string[], RegExp][]): Promise<void> {
  const results = await Promise.all(cases.map(([args]) => runWarren(['consume', queue, ...args])));
  for (const [i, result] of results.entries()) {
    const [args, message] = cases[i] as [string[], RegExp];
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
    expectClean(result);
    const errorLines = errors(result.stderr);
    expect(errorLines, args.join(' ')).toHaveLength(1);
    expect(errorLines[0], args.join(' ')).toMatch(message);
  }
}
