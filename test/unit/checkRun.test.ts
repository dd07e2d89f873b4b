/**
 * How runChecks turns what a kind's code throws into results: a broker out of reach ends a
 * single run (exit 69) but is each round's UNKNOWN under --watch; another WarrenError is the
 * check's UNKNOWN; anything else (a bug) propagates. The connection check runs against a fake
 * session whose round trip fails as asked (the broker gone after the handshake).
 */
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../src/check/run.js';
import { fitted } from '../../src/check/watch.js';
import type { CommandContext } from '../../src/commands/context.js';
import { TimeoutError, UnreachableError } from '../../src/errors.js';

function contextFailingWith(error: Error): CommandContext {
  const session = {
    masked: 'amqp://guest:***@broker/',
    exchangeExists: () => Promise.reject(error),
    certificateValidTo: () => undefined,
    close: () => Promise.resolve(),
  };
  return {
    brokerLabel: () => 'amqp://guest:***@broker/',
    connect: () => Promise.resolve(session),
  } as unknown as CommandContext;
}

const spec = { kind: 'connection' as const, warnMs: 100 };

describe('runChecks', () => {
  it('unreachable: thrown on its own (exit 69), UNKNOWN with the reason under --watch', async () => {
    const context = contextFailingWith(new UnreachableError('the connection was lost: ECONNRESET'));
    await expect(runChecks([spec], context)).rejects.toBeInstanceOf(UnreachableError);
    const [result, ...rest] = await runChecks([spec], context, { unreachableIsUnknown: true });
    expect(rest).toEqual([]);
    expect(result).toMatchObject({
      kind: 'connection',
      target: 'amqp://guest:***@broker/',
      status: 'UNKNOWN',
      message: 'the connection was lost: ECONNRESET',
      measures: [],
    });
  });

  it('another WarrenError is UNKNOWN, run alone or watched', async () => {
    const context = contextFailingWith(new TimeoutError('no answer in 2s'));
    for (const watching of [false, true]) {
      const [result] = await runChecks([spec], context, { unreachableIsUnknown: watching });
      expect(result).toMatchObject({ status: 'UNKNOWN', message: 'no answer in 2s' });
    }
  });

  it('a bug is not hidden as UNKNOWN', async () => {
    const context = contextFailingWith(new TypeError('x is undefined'));
    await expect(runChecks([spec], context, { unreachableIsUnknown: true })).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});

describe('the watched table on a terminal', () => {
  const lines = ['round 1', 'a', 'b', 'c', 'd', 'e'];
  it('fits as it is when the terminal is tall enough', () => {
    expect(fitted(lines, 7)).toEqual(lines);
  });
  it('else ends with a count of what does not fit, one row left free', () => {
    expect(fitted(lines, 5)).toEqual([
      'round 1',
      'a',
      'b',
      '… and 3 more checks (a taller terminal shows them)',
    ]);
    expect(fitted(lines, 1)).toHaveLength(2);
  });
});
