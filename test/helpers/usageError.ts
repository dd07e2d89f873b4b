import { UsageError } from '../../src/errors.js';

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
