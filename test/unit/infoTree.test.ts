/** The routing tree of `warren info`, built from a snapshot without a broker (src/inventory/tree.ts). */
import { describe, expect, it } from 'vitest';
import { bindingRecord, consumerRecord, exchangeRecord, queueRecord } from '../../src/inventory/records.js';
import type { Snapshot } from '../../src/inventory/snapshot.js';
import {
  exchangeTree,
  queueTree,
  type TreeNode,
  type TreeOptions,
  treeLines,
  vhostTree,
} from '../../src/inventory/tree.js';

const vhost = '/';
const exchange = (name: string, type = 'topic') => exchangeRecord({ name, vhost, type });
const queue = (name: string) => queueRecord({ name, vhost, messages: 1 });
const bind = (source: string, destination: string, key = '', type = 'queue', args = {}) =>
  bindingRecord({
    source,
    vhost,
    destination,
    destination_type: type,
    routing_key: key,
    arguments: args,
    properties_key: key || '~',
  });
const consumer = (queueName: string, tag: string) =>
  consumerRecord({ queue: { name: queueName, vhost }, consumer_tag: tag, prefetch_count: 5 });

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return { vhost, exchanges: [], queues: [], bindings: [], consumers: [], ...parts };
}

const HIDDEN: TreeOptions = { defaultExchange: false, all: false };

/** The tree as indented lines: kind, name (or key), and `^N` for a node shown at N. */
function outline(roots: TreeNode[]): string[] {
  return treeLines(roots).map((line) => {
    const r = line.record as unknown as Record<string, unknown>;
    const label =
      line.kind === 'binding'
        ? `'${r['routingKey']}'`
        : line.kind === 'consumer'
          ? r['consumerTag']
          : r['name'];
    const ref = line.shownAt === null ? '' : ` ^${line.shownAt}`;
    return `${'  '.repeat(line.depth)}${line.id} ${line.kind} ${label}${ref}`;
  });
}

describe('the routing tree of a vhost', () => {
  const topology = snapshot({
    exchanges: [
      exchange(''),
      exchange('amq.topic'),
      exchange('amq.direct'),
      exchange('orders'),
      exchange('audit', 'fanout'),
    ],
    queues: [queue('created'), queue('audit.log'), queue('lonely')],
    bindings: [
      bind('', 'created', 'created'),
      bind('', 'audit.log', 'audit.log'),
      bind('', 'lonely', 'lonely'),
      bind('orders', 'created', 'order.created'),
      bind('orders', 'audit', '#', 'exchange'),
      bind('audit', 'audit.log'),
      bind('amq.topic', 'created', 'x.*'),
    ],
    consumers: [consumer('created', 'ctag-2'), consumer('created', 'ctag-1')],
  });

  it('follows exchange-to-exchange bindings, expands each node once, and puts unbound queues last', () => {
    expect(outline(vhostTree(topology, HIDDEN))).toEqual([
      '1 exchange amq.topic',
      "  2 binding 'x.*'",
      '    3 queue created',
      '      4 consumer ctag-1',
      '      5 consumer ctag-2',
      '6 exchange orders',
      "  7 binding '#'",
      '    8 exchange audit',
      "      9 binding ''",
      '        10 queue audit.log',
      "  11 binding 'order.created'",
      '    12 queue created ^3',
      '13 queue lonely',
    ]);
  });

  it('--all shows the amq.* exchanges nothing is bound to; --default-exchange the implicit bindings', () => {
    const lines = outline(vhostTree(topology, { defaultExchange: true, all: true }));
    expect(lines.slice(0, 8)).toEqual([
      '1 exchange ',
      "  2 binding 'audit.log'",
      '    3 queue audit.log',
      "  4 binding 'created'",
      '    5 queue created',
      '      6 consumer ctag-1',
      '      7 consumer ctag-2',
      "  8 binding 'lonely'",
    ]);
    expect(lines).toContain('10 exchange amq.direct');
    expect(lines.filter((l) => / queue lonely$/.test(l))).toHaveLength(1);
  });

  it('a cycle e1 → e2 → e1 is expanded once and marked where it closes', () => {
    const cycle = snapshot({
      exchanges: [exchange('e1'), exchange('e2')],
      queues: [queue('q')],
      bindings: [bind('e1', 'e2', 'a', 'exchange'), bind('e2', 'e1', 'b', 'exchange'), bind('e2', 'q', 'c')],
    });
    expect(outline(vhostTree(cycle, HIDDEN))).toEqual([
      '1 exchange e1',
      "  2 binding 'a'",
      '    3 exchange e2',
      "      4 binding 'b'",
      '        5 exchange e1 ^1',
      "      6 binding 'c'",
      '        7 queue q',
    ]);
  });

  it('an exchange bound to itself is still a root', () => {
    const self = snapshot({ exchanges: [exchange('e')], bindings: [bind('e', 'e', 'k', 'exchange')] });
    expect(outline(vhostTree(self, HIDDEN))).toEqual([
      '1 exchange e',
      "  2 binding 'k'",
      '    3 exchange e ^1',
    ]);
  });

  it('leaves out a binding whose destination went away between the API lists', () => {
    const gone = snapshot({ exchanges: [exchange('e')], bindings: [bind('e', 'vanished', 'k')] });
    expect(outline(vhostTree(gone, HIDDEN))).toEqual(['1 exchange e']);
  });
});

describe('the tree of one exchange or queue', () => {
  const topology = snapshot({
    exchanges: [exchange(''), exchange('e1'), exchange('e2', 'headers'), exchange('other')],
    queues: [queue('q'), queue('elsewhere')],
    bindings: [
      bind('', 'q', 'q'),
      bind('e1', 'e2', 'k', 'exchange'),
      bind('e2', 'q', '', 'queue', { 'x-match': 'all', type: 'x' }),
      bind('other', 'elsewhere', 'z'),
    ],
    consumers: [consumer('q', 'c1')],
  });

  it('an exchange: only what it leads to', () => {
    expect(outline(exchangeTree(topology, 'e1', HIDDEN) ?? [])).toEqual([
      '1 exchange e1',
      "  2 binding 'k'",
      '    3 exchange e2',
      "      4 binding ''",
      '        5 queue q',
      '          6 consumer c1',
    ]);
    const lines = treeLines(exchangeTree(topology, 'e1', HIDDEN) ?? []);
    expect(lines[3]?.record).toMatchObject({ arguments: { 'x-match': 'all', type: 'x' } });
    expect(lines.map((l) => l.parent)).toEqual([null, 1, 2, 3, 4, 5]);
  });

  it('a queue: its consumers, then the paths into it, against the flow', () => {
    expect(outline(queueTree(topology, 'q', HIDDEN) ?? [])).toEqual([
      '1 queue q',
      '  2 consumer c1',
      "  3 binding ''",
      '    4 exchange e2',
      "      5 binding 'k'",
      '        6 exchange e1',
    ]);
    expect(outline(queueTree(topology, 'q', { defaultExchange: true, all: false }) ?? [])).toContain(
      "  3 binding 'q'",
    );
  });

  it('a name the snapshot does not have is undefined', () => {
    expect(exchangeTree(topology, 'nope', HIDDEN)).toBeUndefined();
    expect(queueTree(topology, 'nope', HIDDEN)).toBeUndefined();
  });
});
