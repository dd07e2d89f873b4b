/** `warren info`'s outputs from a tree, without a broker: text on a terminal, and the graph. */
import { describe, expect, it } from 'vitest';
import { dotString, treeDot } from '../../src/format/infoDot.js';
import { treeNdjson, treeText } from '../../src/format/infoTree.js';
import { bindingRecord, consumerRecord, exchangeRecord, queueRecord } from '../../src/inventory/records.js';
import type { Snapshot } from '../../src/inventory/snapshot.js';
import { exchangeTree, vhostTree } from '../../src/inventory/tree.js';
import { type Paint, PLAIN } from '../../src/ui/colour.js';

const vhost = '/';
const topology: Snapshot = {
  vhost,
  exchanges: [exchangeRecord({ name: 'orders', vhost, type: 'topic' })],
  queues: [
    queueRecord({
      name: 'orders.created',
      vhost,
      messages: 3,
      messages_ready: 1,
      messages_unacknowledged: 2,
      consumers: 1,
    }),
  ],
  bindings: [
    bindingRecord({
      source: 'orders',
      vhost,
      destination: 'orders.created',
      destination_type: 'queue',
      routing_key: 'order.created',
    }),
  ],
  consumers: [
    {
      ...consumerRecord({
        queue: { name: 'orders.created', vhost },
        consumer_tag: 'ctag-1',
        ack_required: true,
        prefetch_count: 10,
      }),
      clientName: 'billing',
    },
  ],
};
const options = { defaultExchange: false, all: false };

describe('info as text', () => {
  it('draws the vhost with guides, a binding on the line of what it leads to', () => {
    expect(treeText(vhostTree(topology, options), { paint: PLAIN, title: 'vhost /' })).toBe(
      [
        'vhost /',
        '└─ exchange orders (topic)',
        "   └─ 'order.created' → queue orders.created (classic) messages 3 ready 1 unacked 2 consumers 1",
        "      └─ consumer ctag-1 connection 'billing' prefetch 10 ack manual",
        '',
      ].join('\n'),
    );
  });

  it('on a narrow terminal wraps a long line under its own branch, never wider than the terminal', () => {
    const text = treeText(exchangeTree(topology, 'orders', options) ?? [], { paint: PLAIN, columns: 40 });
    const lines = text.trimEnd().split('\n');
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(40);
    expect(lines).toEqual([
      'exchange orders (topic)',
      "└─ 'order.created' → queue",
      '     orders.created (classic) messages 3',
      '     ready 1 unacked 2 consumers 1',
      '   └─ consumer ctag-1',
      "        connection 'billing' prefetch 10",
      '        ack manual',
    ]);
  });

  it('a name wider than the terminal fills its row and goes on in the next', () => {
    const long: Snapshot = {
      ...topology,
      exchanges: [exchangeRecord({ name: 'x'.repeat(50), vhost, type: 'topic' })],
    };
    const text = treeText(exchangeTree(long, 'x'.repeat(50), options) ?? [], { paint: PLAIN, columns: 30 });
    expect(text).toBe(`exchange ${'x'.repeat(21)}\n  ${'x'.repeat(28)}\n  ${'x'} (topic)\n`);
  });

  it('colours each kind of node, and escapes control characters in names', () => {
    const tag = (name: string) => (text: string) => `<${name}>${text}</${name}>`;
    const paint = {
      enabled: true,
      ...Object.fromEntries(
        ['red', 'yellow', 'green', 'blue', 'magenta', 'cyan', 'dim', 'bold'].map((n) => [n, tag(n)]),
      ),
    } as unknown as Paint;
    const hostile: Snapshot = {
      ...topology,
      exchanges: [exchangeRecord({ name: 'ev\u001b[2Jil\nx', vhost, type: 'fanout' })],
      bindings: [],
    };
    const text = treeText(exchangeTree(hostile, 'ev\u001b[2Jil\nx', options) ?? [], { paint });
    expect(text).toBe(
      '<dim>exchange</dim> <bold><cyan>ev\\x1b[2Jil\\x0ax</cyan></bold> <dim>(fanout)</dim>\n',
    );
    const queue = treeText(vhostTree(topology, options), { paint, title: 'vhost /\u0007' });
    expect(queue.split('\n')[0]).toBe('<bold>vhost /\\x07</bold>');
    expect(queue).toContain('<bold><green>orders.created</green></bold>');
    expect(queue).toContain("<yellow>'order.created'</yellow>");
    expect(queue).toContain('<magenta>ctag-1</magenta>');
  });

  it('NDJSON: one line per node, each with the fields of its line in a fixed order', () => {
    const lines = treeNdjson(vhostTree(topology, options))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.id, l.parent, l.depth, l.kind, l.shownAt])).toEqual([
      [1, null, 0, 'exchange', null],
      [2, 1, 1, 'binding', null],
      [3, 2, 2, 'queue', null],
      [4, 3, 3, 'consumer', null],
    ]);
  });
});

describe('info as a Graphviz graph', () => {
  it('escapes backslashes, quotes and line breaks in labels', () => {
    expect(dotString('a\\b"c\nd')).toBe('"a\\\\b\\"c\\nd"');
    expect(dotString('ends in \\')).toBe('"ends in \\\\"');
    expect(dotString('esc\u001b')).toBe('"esc\\\\x1b"');
  });

  it('exchanges as ellipses, queues as boxes, bindings and consumers as edges', () => {
    expect(treeDot(vhostTree(topology, options), 'vhost /')).toBe(
      [
        'digraph warren {',
        '  graph [rankdir=LR, label="vhost /", labelloc=t];',
        '  e1 [shape=ellipse, label="orders\\ntopic"];',
        '  q2 [shape=box, label="orders.created\\nclassic, messages 3 (ready 1, unacked 2)"];',
        '  c3 [shape=note, label="billing\\nprefetch 10, ack manual"];',
        '  e1 -> q2 [label="order.created"];',
        '  q2 -> c3 [style=dashed];',
        '}',
        '',
      ].join('\n'),
    );
  });
});
