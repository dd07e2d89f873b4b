import { describe, expect, it } from 'vitest';
import { bindingRecord } from '../../src/inventory/records.js';
import { checkBindings, NOT_IN_FILE } from '../../src/topology/bindingCheck.js';
import { parseTopology } from '../../src/topology/spec.js';

const FILE = parseTopology(
  JSON.stringify({
    exchanges: [
      { name: 'orders', type: 'topic' },
      { name: 'docs', type: 'headers' },
      { name: 'audit', type: 'fanout' },
    ],
    queues: [{ name: 'created' }, { name: 'pdfs' }],
    bindings: [
      { source: 'orders', queue: 'created', key: 'order.created' },
      { source: 'orders', exchange: 'audit', key: 'order.#' },
      {
        source: 'docs',
        queue: 'pdfs',
        arguments: {
          'x-match': 'all',
          pages: { '!': 'int64', value: 12 },
          ratio: 1.5,
          meta: { '!': 'table', value: { '!': 'x' } },
        },
      },
      { source: 'amq.topic', queue: 'created', key: 'legacy.#' },
    ],
  }),
  'topology.json',
);

/** A binding as the management API lists it. */
const api = (
  source: string,
  destination: string,
  key = '',
  args: Record<string, unknown> = {},
  type = 'queue',
) =>
  bindingRecord({
    source,
    vhost: '/',
    destination,
    destination_type: type,
    routing_key: key,
    arguments: args,
  });

const ALL_THERE = [
  api('', 'created', 'created'),
  api('orders', 'created', 'order.created'),
  api('orders', 'audit', 'order.#', {}, 'exchange'),
  // The API shows every number plainly, and tables' keys in its own order.
  api('docs', 'pdfs', '', { ratio: 1.5, pages: 12, meta: { '!': 'x' }, 'x-match': 'all' }),
  api('amq.topic', 'created', 'legacy.#'),
];

describe('declare --check: bindings against the management API', () => {
  it('each binding of the file the broker has is present (typed values compared as the API shows them)', () => {
    expect(checkBindings(FILE, ALL_THERE).map((r) => `${r.name} ${r.status}`)).toEqual([
      "binding 'orders' → queue 'created' (key 'order.created') present",
      "binding 'orders' → exchange 'audit' (key 'order.#') present",
      "binding 'docs' → queue 'pdfs' present",
      "binding 'amq.topic' → queue 'created' (key 'legacy.#') present",
    ]);
  });

  it('a binding the broker lacks is missing; one it has between entities of the file, unlisted, differs', () => {
    const live = [
      ...ALL_THERE.filter((b) => b.routingKey !== 'order.created'),
      api('orders', 'created', 'order.cancelled'),
      api('docs', 'pdfs', '', { 'x-match': 'any', pages: 12 }),
      // Not between two entities of the file: none of its business.
      api('orders', 'elsewhere', 'order.#'),
      api('amq.topic', 'created', 'other.#'),
      api('elsewhere', 'audit', '', {}, 'exchange'),
    ];
    const results = checkBindings(FILE, live);
    expect(results.filter((r) => r.status !== 'present')).toEqual([
      {
        kind: 'binding',
        name: "binding 'orders' → queue 'created' (key 'order.created')",
        status: 'missing',
      },
      {
        kind: 'binding',
        name: "binding 'docs' → queue 'pdfs'",
        status: 'differs',
        detail: `${NOT_IN_FILE}, arguments {"pages":12,"x-match":"any"}`,
      },
      {
        kind: 'binding',
        name: "binding 'orders' → queue 'created' (key 'order.cancelled')",
        status: 'differs',
        detail: NOT_IN_FILE,
      },
    ]);
  });

  it('a value of another type is another binding', () => {
    const live = ALL_THERE.map((b) =>
      b.source === 'docs' ? { ...b, arguments: { ...b.arguments, pages: '12' } } : b,
    );
    expect(checkBindings(FILE, live).find((r) => r.name === "binding 'docs' → queue 'pdfs'")?.status).toBe(
      'missing',
    );
  });
});
