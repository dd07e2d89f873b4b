import { describe, expect, it } from 'vitest';
import { exportTopology, REASONS, topologyText } from '../../src/inventory/export.js';
import { bindingRecord, exchangeRecord, queueRecord } from '../../src/inventory/records.js';
import type { Snapshot } from '../../src/inventory/snapshot.js';
import { parseTopology } from '../../src/topology/spec.js';

/** A snapshot from the management API's JSON, as loadSnapshot makes it. */
function snapshot(api: {
  exchanges?: Record<string, unknown>[];
  queues?: Record<string, unknown>[];
  bindings?: Record<string, unknown>[];
}): Snapshot {
  return {
    vhost: '/',
    exchanges: (api.exchanges ?? []).map((e) => exchangeRecord({ vhost: '/', durable: true, ...e })),
    queues: (api.queues ?? []).map((q) => queueRecord({ vhost: '/', durable: true, type: 'classic', ...q })),
    bindings: (api.bindings ?? []).map((b) => bindingRecord({ vhost: '/', destination_type: 'queue', ...b })),
    consumers: [],
  };
}

const BROKERS_OWN = ['', 'amq.direct', 'amq.fanout', 'amq.headers', 'amq.match', 'amq.topic'].map((name) => ({
  name,
  type: 'direct',
}));

const SHOP = {
  exchanges: [
    ...BROKERS_OWN,
    { name: 'shop.orders', type: 'topic', arguments: { 'alternate-exchange': 'shop.unrouted' } },
    { name: 'shop.audit', type: 'fanout', durable: false, internal: true },
    { name: 'shop.unrouted', type: 'fanout' },
    { name: 'shop.docs', type: 'headers' },
    { name: 'shop.temp', type: 'fanout', auto_delete: true },
  ],
  queues: [
    {
      name: 'shop.orders.created',
      type: 'quorum',
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': 5,
        'x-dead-letter-exchange': 'shop.unrouted',
        'x-quorum-initial-group-size': 3,
      },
    },
    { name: 'shop.history', type: 'stream', arguments: { 'x-queue-type': 'stream', 'x-max-age': '7D' } },
    {
      name: 'shop.audit.log',
      durable: false,
      arguments: { 'x-message-ttl': 3600000, 'x-max-length': '10', 'x-expires': 600000, 'x-max-age': '1D' },
    },
    { name: 'shop.pdfs', arguments: { zeta: 1, alpha: { '!': 'odd', b: [2, { y: 1, x: 0 }] } } },
    { name: 'amq.gen-Xy12', exclusive: true, auto_delete: true },
    { name: 'shop.reply.1', exclusive: true },
    { name: 'shop.subscriber', auto_delete: true },
  ],
  bindings: [
    { source: '', destination: 'shop.orders.created', routing_key: 'shop.orders.created' },
    { source: 'shop.orders', destination: 'shop.orders.created', routing_key: 'order.created' },
    {
      source: 'shop.orders',
      destination: 'shop.audit',
      destination_type: 'exchange',
      routing_key: 'order.#',
    },
    { source: 'shop.audit', destination: 'shop.audit.log' },
    { source: 'amq.topic', destination: 'shop.audit.log', routing_key: 'audit.#' },
    {
      source: 'shop.docs',
      destination: 'shop.pdfs',
      arguments: { 'x-match': 'all', format: 'pdf', pages: 12, colour: true },
    },
    { source: 'shop.orders', destination: 'shop.subscriber', routing_key: 'order.*' },
    { source: 'shop.temp', destination: 'shop.audit.log' },
    { source: 'amq.fanout', destination: 'amq.gen-Xy12' },
  ],
};

describe('export: a snapshot as a topology file', () => {
  it('writes each entity with its settings, fields at their defaults left out, in a fixed key order', () => {
    const { topology } = exportTopology(snapshot(SHOP));
    expect(topology.exchanges).toEqual([
      { name: 'shop.audit', type: 'fanout', durable: false, internal: true },
      { name: 'shop.docs', type: 'headers' },
      { name: 'shop.orders', type: 'topic', alternateExchange: 'shop.unrouted' },
      { name: 'shop.unrouted', type: 'fanout' },
    ]);
    expect(topology.queues).toEqual([
      {
        name: 'shop.audit.log',
        type: 'classic',
        durable: false,
        messageTtl: 3600000,
        expires: 600000,
        // A value its named field would refuse stays an argument, as the broker has it.
        arguments: { 'x-max-age': '1D', 'x-max-length': '10' },
      },
      { name: 'shop.history', type: 'stream', maxAge: '7D' },
      {
        name: 'shop.orders.created',
        type: 'quorum',
        deadLetterExchange: 'shop.unrouted',
        deliveryLimit: 5,
        arguments: { 'x-quorum-initial-group-size': 3 },
      },
      {
        name: 'shop.pdfs',
        type: 'classic',
        arguments: { alpha: { '!': 'table', value: { '!': 'odd', b: [2, { x: 0, y: 1 }] } }, zeta: 1 },
      },
    ]);
    expect(Object.keys(topology.queues[0] ?? {})).toEqual([
      'name',
      'type',
      'durable',
      'messageTtl',
      'expires',
      'arguments',
    ]);
    expect(topology.bindings).toEqual([
      { source: 'amq.topic', queue: 'shop.audit.log', key: 'audit.#' },
      { source: 'shop.audit', queue: 'shop.audit.log' },
      {
        source: 'shop.docs',
        queue: 'shop.pdfs',
        arguments: { colour: true, format: 'pdf', pages: 12, 'x-match': 'all' },
      },
      { source: 'shop.orders', exchange: 'shop.audit', key: 'order.#' },
      { source: 'shop.orders', queue: 'shop.orders.created', key: 'order.created' },
    ]);
  });

  it('says what it left out and why, each name once', () => {
    const { leftOut } = exportTopology(snapshot(SHOP));
    expect(leftOut).toEqual([
      { kind: 'exchange', reason: REASONS.brokersOwn, names: BROKERS_OWN.map((e) => e.name) },
      { kind: 'exchange', reason: REASONS.autoDeleteExchange, names: ['shop.temp'] },
      { kind: 'queue', reason: REASONS.serverNamed, names: ['amq.gen-Xy12'] },
      { kind: 'queue', reason: REASONS.exclusive, names: ['shop.reply.1'] },
      { kind: 'queue', reason: REASONS.autoDeleteQueue, names: ['shop.subscriber'] },
      {
        kind: 'binding',
        reason: REASONS.binding,
        names: [
          "'shop.orders' → queue 'shop.subscriber'",
          "'shop.temp' → queue 'shop.audit.log'",
          "'amq.fanout' → queue 'amq.gen-Xy12'",
        ],
      },
    ]);
  });

  it('keeps auto-delete exchanges and queues, and their bindings, when asked', () => {
    const { topology, leftOut } = exportTopology(snapshot(SHOP), { includeAutoDelete: true });
    expect(topology.exchanges).toContainEqual({ name: 'shop.temp', type: 'fanout', autoDelete: true });
    expect(topology.queues).toContainEqual({ name: 'shop.subscriber', type: 'classic', autoDelete: true });
    expect(topology.bindings).toContainEqual({ source: 'shop.temp', queue: 'shop.audit.log' });
    expect(leftOut.map((l) => l.reason)).not.toContain(REASONS.autoDeleteQueue);
  });

  it('with a regex: only the exchanges and queues it matches, and the bindings between them', () => {
    const { topology, leftOut } = exportTopology(snapshot(SHOP), { match: /^shop\.(audit|orders)/ });
    expect(topology.exchanges.map((e) => e['name'])).toEqual(['shop.audit', 'shop.orders']);
    expect(topology.queues.map((q) => q['name'])).toEqual(['shop.audit.log', 'shop.orders.created']);
    expect(topology.bindings).toEqual([
      { source: 'amq.topic', queue: 'shop.audit.log', key: 'audit.#' },
      { source: 'shop.audit', queue: 'shop.audit.log' },
      { source: 'shop.orders', exchange: 'shop.audit', key: 'order.#' },
      { source: 'shop.orders', queue: 'shop.orders.created', key: 'order.created' },
    ]);
    // What the regex did not match is not "left out": it was not asked for.
    expect(leftOut).toEqual([]);
  });

  it('is the same text whatever order the API listed things in', () => {
    const reversed = {
      exchanges: [...SHOP.exchanges].reverse(),
      queues: [...SHOP.queues].reverse(),
      bindings: [...SHOP.bindings].reverse(),
    };
    const text = topologyText(exportTopology(snapshot(SHOP)).topology);
    expect(topologyText(exportTopology(snapshot(reversed)).topology)).toBe(text);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe('  "exchanges": [');
  });

  it('an empty vhost is a file with three empty lists', () => {
    expect(topologyText(exportTopology(snapshot({ exchanges: BROKERS_OWN })).topology)).toBe(
      '{\n  "exchanges": [],\n  "queues": [],\n  "bindings": []\n}\n',
    );
  });

  it('reads back with declare --file as the entities the broker has', () => {
    const topology = parseTopology(topologyText(exportTopology(snapshot(SHOP)).topology), 'export.json');
    expect(topology.exchanges.find((e) => e.name === 'shop.orders')).toEqual({
      name: 'shop.orders',
      type: 'topic',
      durable: true,
      autoDelete: false,
      internal: false,
      arguments: { 'alternate-exchange': 'shop.unrouted' },
    });
    const byName = new Map(topology.queues.map((q) => [q.name, q]));
    for (const queue of SHOP.queues.slice(0, 3)) {
      const spec = byName.get(queue.name);
      expect(spec?.arguments).toEqual({ 'x-queue-type': queue.type ?? 'classic', ...queue.arguments });
      expect(spec?.durable).toBe(queue.durable ?? true);
    }
    // A table with a "!" key goes out as that table, the key riding on its prototype.
    const alpha = byName.get('shop.pdfs')?.arguments['alpha'] as Record<string, unknown>;
    expect(alpha).toEqual({ b: [2, { x: 0, y: 1 }] });
    expect(alpha['!']).toBe('odd');
    expect(topology.bindings.find((b) => b.source === 'shop.docs')).toEqual({
      source: 'shop.docs',
      destination: { queue: 'shop.pdfs' },
      key: '',
      arguments: { colour: true, format: 'pdf', pages: 12, 'x-match': 'all' },
    });
  });
});
