import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldTable } from '../../src/broker/fieldTable.js';
import { ExitCode, WarrenError } from '../../src/errors.js';
import type { BindingRecord, ExchangeRecord, QueueRecord } from '../../src/inventory/records.js';
import { type RouteRequest, Router, routeMessage } from '../../src/inventory/routing.js';
import {
  comparableFromTyped,
  headersMatch,
  headersSpec,
  TopicTrie,
} from '../../src/inventory/routingMatch.js';
import type { Snapshot } from '../../src/inventory/snapshot.js';

// `warren route`'s pure routing (src/inventory/routing.ts): what RabbitMQ 3.10 does with a
// message, from the bindings. The fixed tables below were read off a real 3.10.8 broker.

function exchange(name: string, type: string, extra: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return {
    name,
    vhost: '/',
    type,
    durable: false,
    autoDelete: false,
    internal: false,
    arguments: {},
    policy: null,
    publishInRate: null,
    publishOutRate: null,
    ...extra,
  };
}

function queue(name: string): QueueRecord {
  return { name, vhost: '/', type: 'classic' } as QueueRecord;
}

function bind(
  source: string,
  destination: string,
  routingKey = '',
  args: Record<string, unknown> = {},
): BindingRecord {
  const toExchange = destination.startsWith('X:');
  return {
    source,
    vhost: '/',
    destination: toExchange ? destination.slice(2) : destination,
    destinationType: toExchange ? 'exchange' : 'queue',
    routingKey,
    arguments: args,
    propertiesKey: '',
  };
}

function snapshot(exchanges: ExchangeRecord[], queues: string[], bindings: BindingRecord[]): Snapshot {
  return {
    vhost: '/',
    exchanges: [exchange('', 'direct'), ...exchanges],
    queues: queues.map(queue),
    bindings,
    consumers: [],
  };
}

const names = (snap: Snapshot, request: Partial<RouteRequest> & { exchange: string }) =>
  routeMessage(snap, { routingKey: '', headers: {}, ...request }).queues.map((q) => q.queue);

describe('topic binding keys, as a 3.10 broker matched them', () => {
  // Read off RabbitMQ 3.10.8: each binding key, and the routing keys it took.
  const KEYS = ['', '.', '..', 'a', 'a.', '.a', 'a..b', 'a.b', 'a.x.b', 'a.b.b', 'b', 'a.a'];
  const ALL = KEYS;
  const NOT_EMPTY = KEYS.filter((k) => k !== '');
  const TABLE: [string, string[]][] = [
    ['', ['']],
    ['#', ALL],
    ['*', ['a', 'b']],
    ['*.*', ['.', 'a.', '.a', 'a.b', 'a.a']],
    ['a.#.b', ['a..b', 'a.b', 'a.x.b', 'a.b.b']],
    ['#.#', ALL],
    ['a.*', ['a.', 'a.b', 'a.a']],
    ['#.a', ['a', '.a', 'a.a']],
    ['*.#', NOT_EMPTY],
    ['a.#', ['a', 'a.', 'a..b', 'a.b', 'a.x.b', 'a.b.b', 'a.a']],
    ['a.*.#', ['a.', 'a..b', 'a.b', 'a.x.b', 'a.b.b', 'a.a']],
    ['#.*', NOT_EMPTY],
    ['.', ['.']],
    ['#.', ['.', '..', 'a.']],
    ['.#', ['.', '..', '.a']],
    ['*.', ['.', 'a.']],
    ['a..b', ['a..b']],
    ['#.#.#', ALL],
    ['#.*.#', NOT_EMPTY],
  ];
  it.each(TABLE)('binding key %j takes exactly the keys the broker routed', (pattern, expected) => {
    const trie = new TopicTrie<string>();
    trie.add(pattern, 'q');
    expect(KEYS.filter((key) => trie.match(key).length > 0)).toEqual(expected);
  });

  // The reference: a binding key as a regular expression over the key's words, each word
  // written after a NUL (a key of '' has no words, so it is the empty string).
  const wordsOf = (key: string) =>
    key === ''
      ? ''
      : key
          .split('.')
          .map((w) => `\0${w}`)
          .join('');
  const reference = (pattern: string, key: string): boolean => {
    const body =
      pattern === ''
        ? ''
        : pattern
            .split('.')
            .map((w) =>
              w === '#'
                ? '(?:\\0[^\\0]*)*'
                : w === '*'
                  ? '\\0[^\\0]*'
                  : `\\0${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
            )
            .join('');
    return new RegExp(`^${body}$`).test(wordsOf(key));
  };
  const word = fc.constantFrom('', 'a', 'b', 'ab', 'a*', '#a');
  const key = fc.array(word, { maxLength: 6 }).map((w) => w.join('.'));
  const patternWord = fc.constantFrom('', 'a', 'b', 'ab', '*', '#', '#', 'a*');
  const pattern = fc.array(patternWord, { maxLength: 6 }).map((w) => w.join('.'));

  it('match as a regular expression over the words says, for random keys and binding keys', () => {
    fc.assert(
      fc.property(pattern, key, (p, k) => {
        const trie = new TopicTrie<string>();
        trie.add(p, 'q');
        expect(trie.match(k).length > 0, `${JSON.stringify(p)} ~ ${JSON.stringify(k)}`).toBe(reference(p, k));
      }),
      { numRuns: 5000 },
    );
  });

  it('one trie holding many binding keys gives each matching one once', () => {
    fc.assert(
      fc.property(fc.uniqueArray(pattern, { maxLength: 12 }), key, (patterns, k) => {
        const trie = new TopicTrie<string>();
        for (const p of patterns) trie.add(p, p);
        expect(trie.match(k).sort()).toEqual(patterns.filter((p) => reference(p, k)).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('stays fast on keys of many words against binding keys of many #', () => {
    const trie = new TopicTrie<string>();
    trie.add(Array(30).fill('#').join('.'), 'q');
    expect(trie.match(Array(200).fill('a').join('.'))).toEqual(['q']);
  });
});

describe('headers bindings, as a 3.10 broker matched them', () => {
  // Each binding's arguments as the management API shows them, and the headers it took.
  const BINDINGS: Record<string, Record<string, unknown>> = {
    allx_only: { 'x-match': 'all-with-x', 'x-foo': '1' },
    allx_mixed: { 'x-match': 'all-with-x', 'x-foo': '1', a: '1' },
    anyx: { 'x-match': 'any-with-x', 'x-foo': '1' },
    all_onlyx: { 'x-match': 'all', 'x-foo': '1' },
    any_onlyx: { 'x-match': 'any', 'x-foo': '1' },
    empty: {},
    any_empty: { 'x-match': 'any' },
    void_a: { 'x-match': 'all', a: 'undefined' },
    num1: { 'x-match': 'all', n: 1 },
    str1: { 'x-match': 'all', n: '1' },
    bool: { 'x-match': 'all', b: true },
    dbl: { 'x-match': 'all', d: 1.5 },
  };
  const MESSAGES: FieldTable[] = [
    {},
    { 'x-foo': '1' },
    { 'x-foo': '1', a: '1' },
    { a: '1' },
    { a: null },
    { a: 5 },
    { n: 1 },
    { n: '1' },
    { n: { '!': 'double', value: 1 } },
    { b: true },
    { b: 'true' },
    { d: 1.5 },
    { 'x-match': 'all-with-x', 'x-foo': '1' },
  ];
  const EXPECTED: Record<string, number[]> = {
    allx_only: [1, 2, 12],
    allx_mixed: [2],
    anyx: [1, 2, 12],
    all_onlyx: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    any_onlyx: [],
    empty: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    any_empty: [],
    void_a: [2, 3, 4, 5],
    num1: [6, 8],
    str1: [7],
    bool: [9],
    dbl: [11],
  };
  it.each(Object.keys(BINDINGS))('binding %s takes the messages the broker gave it', (name) => {
    const spec = headersSpec(BINDINGS[name] as Record<string, unknown>);
    const taken = MESSAGES.flatMap((headers, index) => {
      const map = new Map(Object.entries(headers).map(([k, v]) => [k, comparableFromTyped(v)]));
      return headersMatch(spec, map) ? [index] : [];
    });
    expect(taken).toEqual(EXPECTED[name]);
  });

  it('compares numbers by value across types, strings and bytes by their bytes, floats as 32-bit', () => {
    const snap = snapshot(
      [exchange('h', 'headers')],
      ['ts', 'bytes', 'float', 'big', 'raw'],
      [
        bind('h', 'ts', '', { t: 5 }),
        bind('h', 'bytes', '', { s: 'hi' }),
        bind('h', 'float', '', { f: 0.1 }),
        bind('h', 'big', '', { n: 9007199254740992 }),
        bind('h', 'raw', '', { r: 'Not UTF-8, base64 is: /wBB' }),
      ],
    );
    const to = (headers: FieldTable) => names(snap, { exchange: 'h', headers });
    expect(to({ t: { '!': 'timestamp', value: 5 } })).toEqual(['ts']);
    expect(to({ s: { '!': 'bytes', value: Buffer.from('hi').toString('base64') } })).toEqual(['bytes']);
    expect(to({ f: { '!': 'float', value: 0.1 } })).toEqual([]);
    expect(to({ f: 0.1 })).toEqual(['float']);
    expect(to({ n: { '!': 'int64', value: '9007199254740992' } })).toEqual(['big']);
    expect(to({ r: { '!': 'bytes', value: '/wBB' } })).toEqual(['raw']);
    expect(to({ t: '5' })).toEqual([]);
  });
});

describe('routing through a vhost', () => {
  it('direct: the bindings whose key equals the routing key; fanout: every binding', () => {
    const snap = snapshot(
      [exchange('d', 'direct'), exchange('f', 'fanout')],
      ['q1', 'q2', 'q3'],
      [
        bind('d', 'q1', 'a'),
        bind('d', 'q2', 'A'),
        bind('d', 'q3', ''),
        bind('f', 'q1', 'x'),
        bind('f', 'q2'),
      ],
    );
    expect(names(snap, { exchange: 'd', routingKey: 'a' })).toEqual(['q1']);
    expect(names(snap, { exchange: 'd', routingKey: '' })).toEqual(['q3']);
    expect(names(snap, { exchange: 'f', routingKey: 'anything' })).toEqual(['q1', 'q2']);
  });

  it('the default exchange: the queue named by the key, if it exists', () => {
    const snap = snapshot([], ['orders'], []);
    const result = routeMessage(snap, { exchange: '', routingKey: 'orders', headers: {} });
    expect(result.queues).toEqual([
      {
        queue: 'orders',
        vhost: '/',
        via: [
          { exchange: '', type: 'direct', by: 'default-exchange', routingKey: 'orders', arguments: null },
        ],
      },
    ]);
    expect(names(snap, { exchange: '', routingKey: 'nope' })).toEqual([]);
  });

  it('follows exchange-to-exchange bindings, counts each queue once with its shortest way, and ends cycles', () => {
    const snap = snapshot(
      [exchange('a', 'topic'), exchange('b', 'fanout'), exchange('c', 'direct')],
      ['q', 'r'],
      [
        bind('a', 'X:b', 'k.*'),
        bind('a', 'q', '#'),
        bind('b', 'X:c'),
        bind('b', 'X:a'),
        bind('c', 'q', 'k.1'),
        bind('c', 'r', 'k.1'),
        bind('c', 'X:b', 'k.1'),
      ],
    );
    const result = routeMessage(snap, { exchange: 'a', routingKey: 'k.1', headers: {} });
    expect(
      result.queues.map((q) => [q.queue, q.via.map((hop) => `${hop.exchange}:${hop.routingKey}`)]),
    ).toEqual([
      ['q', ['a:#']],
      ['r', ['a:k.*', 'b:', 'c:k.1']],
    ]);
  });

  it('the alternate exchange takes what the bindings do not, by argument or else by policy, recursively', () => {
    const snap = snapshot(
      [
        exchange('main', 'direct', { arguments: { 'alternate-exchange': 'ae1' }, policy: 'p' }),
        exchange('ae1', 'direct', { policy: 'p' }),
        exchange('ae2', 'fanout', { internal: true }),
      ],
      ['hit', 'ae1-hit', 'last'],
      [bind('main', 'hit', 'k'), bind('ae1', 'ae1-hit', 'k2'), bind('ae2', 'last')],
    );
    const policies = new Map([['p', { 'alternate-exchange': 'ae2' }]]);
    const to = (routingKey: string) =>
      routeMessage(snap, { exchange: 'main', routingKey, headers: {} }, { policies }).queues.map((q) => [
        q.queue,
        q.via.map((hop) => `${hop.exchange}:${hop.by}`),
      ]);
    expect(to('k')).toEqual([['hit', ['main:binding']]]);
    expect(to('k2')).toEqual([['ae1-hit', ['main:alternate-exchange', 'ae1:binding']]]);
    expect(to('other')).toEqual([
      ['last', ['main:alternate-exchange', 'ae1:alternate-exchange', 'ae2:binding']],
    ]);
  });

  it('no alternate exchange when a binding matched, even one to an exchange that routes nowhere', () => {
    const snap = snapshot(
      [
        exchange('x', 'direct', { arguments: { 'alternate-exchange': 'ae' } }),
        exchange('empty', 'fanout'),
        exchange('ae', 'fanout'),
      ],
      ['unrouted'],
      [bind('x', 'X:empty', 'k'), bind('ae', 'unrouted')],
    );
    expect(names(snap, { exchange: 'x', routingKey: 'k' })).toEqual([]);
    expect(names(snap, { exchange: 'x', routingKey: 'j' })).toEqual(['unrouted']);
  });

  it('an alternate exchange that is missing or loops back ends quietly, the missing one reported', () => {
    const snap = snapshot(
      [
        exchange('x', 'direct', { arguments: { 'alternate-exchange': 'y' } }),
        exchange('y', 'direct', { arguments: { 'alternate-exchange': 'x' } }),
        exchange('z', 'direct', { arguments: { 'alternate-exchange': 'gone' } }),
      ],
      [],
      [],
    );
    expect(routeMessage(snap, { exchange: 'x', routingKey: 'k', headers: {} })).toMatchObject({
      queues: [],
      missingAlternates: [],
    });
    expect(routeMessage(snap, { exchange: 'z', routingKey: 'k', headers: {} }).missingAlternates).toEqual([
      { exchange: 'z', alternate: 'gone' },
    ]);
  });

  it('an exchange of a type it cannot compute is reported with the way to it; the rest is still routed', () => {
    const snap = snapshot(
      [exchange('f', 'fanout'), exchange('hash', 'x-consistent-hash')],
      ['q', 'behind'],
      [bind('f', 'q'), bind('f', 'X:hash'), bind('hash', 'behind', '10')],
    );
    const result = routeMessage(snap, { exchange: 'f', routingKey: 'k', headers: {} });
    expect(result.queues.map((q) => q.queue)).toEqual(['q']);
    expect(result.unknown).toEqual([
      { exchange: 'hash', type: 'x-consistent-hash', via: [expect.objectContaining({ exchange: 'f' })] },
    ]);
  });

  it('CC and BCC headers add routing keys; a CC that is not an array is refused as the broker would', () => {
    const snap = snapshot(
      [exchange('t', 'topic')],
      ['a', 'b', 'c'],
      [bind('t', 'a', 'a.#'), bind('t', 'b', 'b.*'), bind('t', 'c', 'c')],
    );
    expect(
      names(snap, { exchange: 't', routingKey: 'a.1', headers: { CC: ['b.x', 7], BCC: ['c'] } }),
    ).toEqual(['a', 'b', 'c']);
    expect(names(snap, { exchange: '', routingKey: 'x', headers: { CC: ['a', 'c'] } })).toEqual(['a', 'c']);
    expect(() => names(snap, { exchange: 't', routingKey: 'a', headers: { CC: 'b.x' } })).toThrow(
      /CC header/,
    );
  });

  it('a missing exchange is exit 5, naming it', () => {
    const snap = snapshot([], [], []);
    let error: unknown;
    try {
      names(snap, { exchange: 'nope' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WarrenError);
    expect((error as WarrenError).exitCode).toBe(ExitCode.refused);
    expect((error as WarrenError).message).toContain("exchange 'nope' does not exist in vhost '/'");
  });

  it('a Router routes many keys over one snapshot with the same answers', () => {
    const snap = snapshot([exchange('t', 'topic')], ['q'], [bind('t', 'q', 'a.*')]);
    const router = new Router(snap);
    expect(
      ['a.b', 'a', 'a.b.c'].map(
        (routingKey) => router.route({ exchange: 't', routingKey, headers: {} }).queues.length,
      ),
    ).toEqual([1, 0, 0]);
  });
});
