/**
 * --retry-delay's arithmetic and names: the delay of each retry, the queues a run declares,
 * their names (long ones included) and their arguments.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { QueueSpec } from '../../src/broker/declarations.js';
import type { FieldTable } from '../../src/broker/fieldTable.js';
import type { Session } from '../../src/broker/session.js';
import { BrokerRefusedError, type WarrenError } from '../../src/errors.js';
import {
  deadLetterCycle,
  delayLabel,
  delayOf,
  delaysOf,
  expiresOf,
  headersLeftOut,
  LEASE_RENEWAL_MS,
  RetryQueues,
  retriedText,
  retryQueueName,
  retryQueueSpec,
  retryRoute,
} from '../../src/exec/retryQueues.js';

const SECOND = { firstMs: 1000, maxMs: 16_000 };

describe('delayOf: doubling per retry, up to the cap', () => {
  it('1s with a 16s cap: 1, 2, 4, 8, 16, 16, ...', () => {
    expect(Array.from({ length: 7 }, (_, retries) => delayOf(SECOND, retries))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 16_000, 16_000,
    ]);
  });

  it('a cap between two doublings is reached, not passed', () => {
    expect([0, 1, 2, 3].map((n) => delayOf({ firstMs: 300, maxMs: 1000 }, n))).toEqual([
      300, 600, 1000, 1000,
    ]);
  });

  it('a million retries: the cap, at once', () => {
    expect(delayOf({ firstMs: 1, maxMs: 2 ** 31 - 1 }, 1_000_000)).toBe(2 ** 31 - 1);
  });
});

describe('delaysOf: the queues a run declares', () => {
  it('without --max-retries: every delay up to the cap', () => {
    expect(delaysOf(SECOND, undefined)).toEqual([1000, 2000, 4000, 8000, 16_000]);
  });

  it('--max-retries 2: only the delays of retries 1 and 2', () => {
    expect(delaysOf(SECOND, 2)).toEqual([1000, 2000]);
  });

  it('--max-retries 0: no retry, no queue', () => {
    expect(delaysOf(SECOND, 0)).toEqual([]);
  });

  it('a delay that does not grow: one queue, however many retries', () => {
    expect(delaysOf({ firstMs: 5000, maxMs: 5000 }, 100)).toEqual([5000]);
  });
});

describe('names', () => {
  it.each([
    [300, '300ms'],
    [1000, '1s'],
    [1500, '1500ms'],
    [90_000, '90s'],
    [120_000, '2m'],
    [7_200_000, '2h'],
  ])('%i ms reads %s', (ms, label) => {
    expect(delayLabel(ms)).toBe(label);
  });

  it('QUEUE.retry.DELAY', () => {
    expect(retryQueueName('orders', 2000)).toBe('orders.retry.2s');
  });

  it('a name that would be over 255 bytes: as much of the queue as fits, a hash, then the delay', () => {
    const long = 'é'.repeat(127); // 254 bytes
    const name = retryQueueName(long, 1000);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(name).toMatch(/^é+~[0-9a-f]{16}\.retry\.1s$/);
    expect(name, 'cut between characters').not.toContain('\ufffd');
    // Two long names that start alike get queues of their own.
    expect(retryQueueName(`${long.slice(0, 126)}e`, 1000)).not.toBe(name);
    expect(retryQueueName(long, 1000), 'the same name every time').toBe(name);
  });

  it('retryRoute: the retry queue of the delay, or the work queue without --retry-delay', () => {
    expect(retryRoute({ queue: 'q', retryDelay: SECOND }, 2)).toBe('q.retry.4s');
    expect(retryRoute({ queue: 'q' }, 2)).toBe('q');
  });

  it('retriedText: the wait, when there is one', () => {
    expect(retriedText({ retryDelay: SECOND }, 0)).toBe('retried in 1s');
    expect(retriedText({ retryDelay: undefined }, 0)).toBe('retried');
  });
});

describe('deadLetterCycle: would RabbitMQ drop the copy on its way back to the work queue?', () => {
  const death = (queue: string, reason: string) => ({ queue, reason, count: 1 });
  it.each([
    { name: 'no x-death', deaths: undefined, cycle: false },
    {
      name: 'deaths in retry queues only',
      deaths: [death('q.retry.2s', 'expired'), death('q.retry.1s', 'expired')],
      cycle: false,
    },
    { name: 'expired in the work queue once (a replayed DLQ)', deaths: [death('q', 'expired')], cycle: true },
    {
      name: 'over a delivery limit in the work queue, then a retry queue',
      deaths: [death('q.retry.1s', 'expired'), death('q', 'delivery_limit')],
      cycle: true,
    },
    { name: 'rejected from the work queue: not a cycle', deaths: [death('q', 'rejected')], cycle: false },
    {
      name: 'a rejection newer than the death in the work queue',
      deaths: [death('other', 'rejected'), death('q', 'expired')],
      cycle: false,
    },
    { name: 'x-death that is not a list', deaths: 'odd', cycle: false },
  ])('$name: $cycle', ({ deaths, cycle }) => {
    const headers = deaths === undefined ? {} : ({ 'x-death': deaths } as unknown as FieldTable);
    expect(deadLetterCycle(headers, 'q')).toBe(cycle);
  });

  it('only a copy bound for a retry queue leaves its x-death out', () => {
    const headers = { 'x-death': [death('q', 'expired')] } as unknown as FieldTable;
    expect(headersLeftOut({ queue: 'q', retryDelay: SECOND }, headers)).toEqual(['x-death']);
    expect(headersLeftOut({ queue: 'q' }, headers)).toEqual([]);
  });
});

describe('retryQueueSpec', () => {
  it('durable, expiring back to the work queue through the default exchange, with a lease', () => {
    expect(retryQueueSpec('orders', 2000)).toEqual({
      name: 'orders.retry.2s',
      type: undefined,
      durable: true,
      exclusive: false,
      autoDelete: false,
      arguments: {
        'x-message-ttl': 2000,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': 'orders',
        'x-expires': 62_000,
      },
    });
  });

  it('the lease outlives a message published just before the last renewal ran out', () => {
    for (const delay of [1, 300, 60_000, 2 ** 31 - 1]) {
      expect(expiresOf(delay) - LEASE_RENEWAL_MS).toBeGreaterThan(delay);
      // RabbitMQ takes x-expires up to 2^32 - 1.
      expect(expiresOf(delay)).toBeLessThan(2 ** 32);
    }
  });
});

describe('RetryQueues: declared on each connection, and again before their lease runs out', () => {
  /** A session that records the queues declared, refusing them when `refuse` says so. */
  function fakeSession(refuse?: () => Error | undefined) {
    const declaredQueues: string[] = [];
    const session = {
      queueInfo: async (name: string) => ({ queue: name, messageCount: 0, consumerCount: 0 }),
      declareQueue: async (spec: QueueSpec) => {
        const refusal = refuse?.();
        if (refusal) throw refusal;
        declaredQueues.push(spec.name);
        return { queue: spec.name, messageCount: 0, consumerCount: 0 };
      },
    };
    return { session: session as unknown as Session, declaredQueues };
  }

  afterEach(() => {
    vi.useRealTimers();
  });

  it('declares the queues of every delay a run can use', async () => {
    const { session, declaredQueues } = fakeSession();
    await new RetryQueues('q', SECOND, 3).declare(session);
    expect(declaredQueues).toEqual(['q.retry.1s', 'q.retry.2s', 'q.retry.4s']);
  });

  it('declares them again every LEASE_RENEWAL_MS until stopped', async () => {
    vi.useFakeTimers();
    const { session, declaredQueues } = fakeSession();
    const stop = new RetryQueues('q', { firstMs: 1000, maxMs: 1000 }, undefined).keep(session, () => {});
    await vi.advanceTimersByTimeAsync(LEASE_RENEWAL_MS * 3);
    expect(declaredQueues).toEqual(['q.retry.1s', 'q.retry.1s', 'q.retry.1s']);
    stop();
    await vi.advanceTimersByTimeAsync(LEASE_RENEWAL_MS * 3);
    expect(declaredQueues).toHaveLength(3);
  });

  it('a queue refused with other arguments: the error names it and what warren wanted', async () => {
    vi.useFakeTimers();
    const said = "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'q.retry.1s' in vhost '/'";
    const { session } = fakeSession(
      () => new BrokerRefusedError(`queue 'q.retry.1s': ${said}`, { brokerText: said }),
    );
    const failures: WarrenError[] = [];
    const stop = new RetryQueues('q', SECOND, 1).keep(session, (error) => failures.push(error));
    await vi.advanceTimersByTimeAsync(LEASE_RENEWAL_MS);
    stop();
    expect(failures.map((error) => [error.exitCode, error.message])).toEqual([
      [
        5,
        "the retry queue 'q.retry.1s' exists with other settings (inequivalent arg 'x-message-ttl' for queue 'q.retry.1s' in vhost '/')",
      ],
    ]);
    expect(failures[0]?.hint).toMatch(
      /x-message-ttl 1000, .* x-expires 61000: once it is empty, delete it \(warren delete queue q\.retry\.1s\)/,
    );
  });
});
