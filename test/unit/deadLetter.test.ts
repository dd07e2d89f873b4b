import { describe, expect, it } from 'vitest';
import type { FieldTable } from '../../src/broker/fieldTable.js';
import { deadLetterOrigin } from '../../src/replay/deadLetter.js';

/** One x-death entry as warren records it from the wire (count int64, time a timestamp). */
function death(
  queue: string,
  reason: string,
  exchange: string,
  routingKeys: string[],
  seconds = 1795770000,
): FieldTable {
  return {
    count: { '!': 'int64', value: 1 },
    reason,
    queue,
    time: { '!': 'timestamp', value: seconds },
    exchange,
    'routing-keys': routingKeys,
  };
}

/**
 * Published to 'orders' with key order.created (and a CC key), rejected in q1, dead-lettered
 * through 'dlx' to q2 with key 'retry', expired there: RabbitMQ lists the latest death first.
 */
const TWO_DEATHS: FieldTable = {
  'x-death': [
    death('q2', 'expired', 'dlx', ['retry'], 1795770060),
    death('q1', 'rejected', 'orders', ['order.created', 'order.cc'], 1795770000),
  ],
  'x-first-death-queue': 'q1',
  'x-first-death-reason': 'rejected',
  'x-first-death-exchange': 'orders',
  'x-last-death-queue': 'q2',
  'x-last-death-reason': 'expired',
  'x-last-death-exchange': 'dlx',
  'x-tenant': 'acme',
};

describe('deadLetterOrigin', () => {
  it('one death: its exchange and routing key', () => {
    expect(
      deadLetterOrigin({
        'x-death': [death('orders.created', 'rejected', 'orders', ['order.created'])],
        'x-first-death-queue': 'orders.created',
        'x-first-death-reason': 'rejected',
        'x-first-death-exchange': 'orders',
      }),
    ).toEqual({
      exchange: 'orders',
      routingKey: 'order.created',
      queue: 'orders.created',
      reason: 'rejected',
    });
  });

  it('several deaths: the first death (named by x-first-death-*), and its first routing key', () => {
    expect(deadLetterOrigin(TWO_DEATHS)).toEqual({
      exchange: 'orders',
      routingKey: 'order.created',
      queue: 'q1',
      reason: 'rejected',
    });
  });

  it('picks the entry matching both queue and reason of the first death', () => {
    // The same queue twice, for two reasons: only the reason tells them apart.
    const headers: FieldTable = {
      'x-death': [
        death('q1', 'expired', 'dlx', ['again']),
        death('q2', 'rejected', 'other', ['k2']),
        death('q1', 'rejected', 'orders', ['order.created']),
      ],
      'x-first-death-queue': 'q1',
      'x-first-death-reason': 'rejected',
      'x-first-death-exchange': 'orders',
    };
    expect(deadLetterOrigin(headers)).toMatchObject({ exchange: 'orders', routingKey: 'order.created' });
  });

  it('finds the first death wherever it stands in the list', () => {
    const headers: FieldTable = {
      'x-death': [
        death('q1', 'rejected', 'orders', ['order.created']),
        death('q2', 'expired', 'dlx', ['retry']),
      ],
      'x-first-death-queue': 'q1',
      'x-first-death-reason': 'rejected',
    };
    expect(deadLetterOrigin(headers)).toEqual({
      exchange: 'orders',
      routingKey: 'order.created',
      queue: 'q1',
      reason: 'rejected',
    });
  });

  it('without x-first-death-* headers: the last entry (the oldest death)', () => {
    expect(deadLetterOrigin({ 'x-death': TWO_DEATHS['x-death'] ?? null })).toEqual({
      exchange: 'orders',
      routingKey: 'order.created',
      queue: 'q1',
      reason: 'rejected',
    });
  });

  it('x-first-death-* naming no entry: the last entry', () => {
    expect(
      deadLetterOrigin({ ...TWO_DEATHS, 'x-first-death-queue': 'gone', 'x-first-death-reason': 'maxlen' }),
    ).toMatchObject({ exchange: 'orders', routingKey: 'order.created', queue: 'q1' });
  });

  it("the default exchange ('') is an origin", () => {
    expect(
      deadLetterOrigin({
        'x-death': [death('work', 'rejected', '', ['work'])],
        'x-first-death-queue': 'work',
        'x-first-death-reason': 'rejected',
        'x-first-death-exchange': '',
      }),
    ).toEqual({ exchange: '', routingKey: 'work', queue: 'work', reason: 'rejected' });
  });

  it('reads strings in typed form ({"!":"string","value":…})', () => {
    const headers: FieldTable = {
      'x-death': [
        {
          count: { '!': 'int64', value: 1 },
          reason: { '!': 'string', value: 'rejected' },
          queue: { '!': 'string', value: 'q1' },
          time: { '!': 'timestamp', value: 1795770000 },
          exchange: { '!': 'string', value: 'orders' },
          'routing-keys': [{ '!': 'string', value: 'order.created' }],
        },
      ],
      'x-first-death-queue': { '!': 'string', value: 'q1' },
      'x-first-death-reason': { '!': 'string', value: 'rejected' },
      'x-first-death-exchange': { '!': 'string', value: 'orders' },
    };
    expect(deadLetterOrigin(headers)).toEqual({
      exchange: 'orders',
      routingKey: 'order.created',
      queue: 'q1',
      reason: 'rejected',
    });
  });

  it('reads an entry in typed table form ({"!":"table","value":…})', () => {
    const headers: FieldTable = {
      'x-death': [{ '!': 'table', value: death('q1', 'rejected', 'orders', ['order.created']) }],
    };
    expect(deadLetterOrigin(headers)).toMatchObject({ exchange: 'orders', routingKey: 'order.created' });
  });

  it('an entry without an exchange takes x-first-death-exchange', () => {
    const { exchange: _, ...entry } = death('q1', 'rejected', 'orders', ['order.created']);
    expect(
      deadLetterOrigin({
        'x-death': [entry],
        'x-first-death-queue': 'q1',
        'x-first-death-reason': 'rejected',
        'x-first-death-exchange': 'orders',
      }),
    ).toMatchObject({ exchange: 'orders', routingKey: 'order.created' });
  });

  it.each<[string, FieldTable | undefined]>([
    ['no headers', undefined],
    ['empty headers', {}],
    ['headers without x-death', { 'x-tenant': 'acme', 'x-first-death-exchange': 'orders' }],
    ['x-death not an array', { 'x-death': 'rejected' }],
    ['x-death a table', { 'x-death': death('q1', 'rejected', 'orders', ['k']) }],
    ['an empty x-death', { 'x-death': [] }],
    ['x-death entries that are not tables', { 'x-death': ['q1', 5, null] }],
    [
      'an entry without an exchange (and no x-first-death-exchange)',
      {
        'x-death': [
          {
            count: { '!': 'int64', value: 1 },
            reason: 'rejected',
            queue: 'q1',
            'routing-keys': ['order.created'],
          },
        ],
      },
    ],
    [
      'an entry without routing-keys',
      {
        'x-death': [
          { count: { '!': 'int64', value: 1 }, reason: 'rejected', queue: 'q1', exchange: 'orders' },
        ],
      },
    ],
    ['an entry with empty routing-keys', { 'x-death': [death('q1', 'rejected', 'orders', [])] }],
    [
      'routing-keys that is not an array',
      {
        'x-death': [
          {
            count: { '!': 'int64', value: 1 },
            reason: 'rejected',
            queue: 'q1',
            exchange: 'orders',
            'routing-keys': 'k',
          },
        ],
      },
    ],
    [
      'a non-string exchange',
      {
        'x-death': [
          {
            count: { '!': 'int64', value: 1 },
            reason: 'rejected',
            queue: 'q1',
            exchange: 5,
            'routing-keys': ['k'],
          },
        ],
      },
    ],
  ])('undefined for %s', (_name, headers) => {
    expect(deadLetterOrigin(headers)).toBeUndefined();
  });

  it('does not change the headers it reads', () => {
    const before = structuredClone(TWO_DEATHS);
    deadLetterOrigin(TWO_DEATHS);
    expect(TWO_DEATHS).toEqual(before);
  });
});
