import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/duration.js';
import { UsageError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['10ms', 10],
    ['1m30s', 90_000],
    ['1m5s', 65_000],
    ['1h1m1s1ms', 3_661_001],
    ['1.5s', 1500],
    ['0.5ms', 1],
    ['0s', 0],
    ['  10s ', 10_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '   ', '10', 's', '10x', '-5s', '10 s', '5sec', '1d', '10s5', 'ms10', '1.s', '.5s', 'NaNs'])(
    '%j is a usage error',
    (text) => {
      let caught: unknown;
      try {
        parseDuration(text, '--timeout');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as UsageError).exitCode).toBe(2);
      expect((caught as UsageError).message).toBe(`--timeout: '${text}' is not a duration`);
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [6260, '6.26s'],
    [15_000, '15s'],
    [20_000, '20s'],
    [15_400, '15.4s'],
    [60_000, '1m0s'],
    [90_000, '1m30s'],
    [3_600_000, '60m0s'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([
    [119_999, '2m0s'],
    [179_700, '3m0s'],
  ])('rounds up to the next minute instead of showing 60 seconds (%d ms reads %s)', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
