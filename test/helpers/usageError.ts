import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { main } from '../../src/main.js';
import { parseArgs } from '../../src/program.js';
import { fakeIo } from './fakeIo.js';

/** Runs `run` and returns the UsageError it throws; anything else fails the test. */
export function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('no UsageError');
}

export interface UsageErrorCase {
  name: string;
  argv: string[];
  /** What the error message must say. */
  mentions: RegExp;
  stdinTty?: boolean;
}

/**
 * Each command line is a usage error twice over: parseArgs throws a UsageError (exit 2)
 * saying `mentions`, and main exits 2 with nothing on stdout and one error line on stderr
 * (and at most a hint pointing at --help).
 */
export function describeUsageErrors(title: string, cases: UsageErrorCase[]): void {
  describe(title, () => {
    it.each(cases)('$name → UsageError (exit 2)', async ({ argv, stdinTty, mentions }) => {
      const error = await parseArgs(argv, fakeIo({ stdinTty }).io).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
      expect((error as UsageError).message).toMatch(mentions);
    });

    it.each(cases)(
      '$name → main exits 2 with one error line (and at most a hint)',
      async ({ argv, stdinTty, mentions }) => {
        const fake = fakeIo({ stdinTty });
        const code = await main(argv, fake.io);
        await new Promise((resolve) => setImmediate(resolve));
        expect(code).toBe(2);
        expect(fake.stdout()).toBe('');
        const lines = fake.stderr().trimEnd().split('\n');
        expect(lines[0]).toMatch(/^error: /);
        expect(lines[0]?.replace(/^error: /, '')).toMatch(mentions);
        expect(lines.length).toBeLessThanOrEqual(2);
        if (lines[1] !== undefined) expect(lines[1]).toMatch(/--help/);
      },
    );
  });
}
