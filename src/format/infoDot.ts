/**
 * `warren info --format dot`: the tree as a Graphviz digraph. Exchanges are ellipses, queues
 * boxes, consumers notes; each binding is an edge from its source to its destination,
 * labelled with its key and arguments, whichever way the tree was walked. Node ids are made
 * up (e1, q1, c1), so a name only ever appears in a label, escaped.
 */

import type { BindingRecord, ConsumerRecord, ExchangeRecord, QueueRecord } from '../inventory/records.js';
import { type TreeNode, treeLines } from '../inventory/tree.js';
import { visible } from '../ui/terminalText.js';

/** A label as a DOT string: backslashes and quotes escaped, line breaks as `\n`. */
export function dotString(text: string): string {
  const escaped = visible(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `"${escaped}"`;
}

const count = (value: number | null) => (value === null ? '?' : String(value));

function exchangeLabel(record: ExchangeRecord): string {
  return `${record.name === '' ? '(default)' : record.name}\n${record.type}`;
}

function queueLabel(record: QueueRecord): string {
  return `${record.name}\n${record.type}, messages ${count(record.messages)} (ready ${count(record.messagesReady)}, unacked ${count(record.messagesUnacknowledged)})`;
}

function consumerLabel(record: ConsumerRecord): string {
  const connection = record.clientName ?? record.connection ?? record.consumerTag;
  return `${connection}\nprefetch ${record.prefetchCount}, ack ${record.ackRequired ? 'manual' : 'auto'}`;
}

function bindingLabel(record: BindingRecord): string {
  const args = Object.entries(record.arguments).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return [record.routingKey, ...args].join('\n');
}

export function treeDot(roots: TreeNode[], title: string): string {
  const ids = new Map<string, string>();
  const nodes: string[] = [];
  const edges: string[] = [];
  const node = (key: string, prefix: string, attributes: string): string => {
    let id = ids.get(key);
    if (id === undefined) {
      id = `${prefix}${ids.size + 1}`;
      ids.set(key, id);
      nodes.push(`  ${id} [${attributes}];`);
    }
    return id;
  };
  const exchange = (record: ExchangeRecord) =>
    node(`e:${record.name}`, 'e', `shape=ellipse, label=${dotString(exchangeLabel(record))}`);
  const queue = (record: QueueRecord) =>
    node(`q:${record.name}`, 'q', `shape=box, label=${dotString(queueLabel(record))}`);
  const lines = treeLines(roots);
  const byId = new Map(lines.map((line) => [line.id, line]));
  for (const line of lines) {
    if (line.kind === 'exchange') exchange(line.record as ExchangeRecord);
    else if (line.kind === 'queue') queue(line.record as QueueRecord);
  }
  for (const line of lines) {
    if (line.kind === 'binding') {
      const binding = line.record as BindingRecord;
      const from = ids.get(`e:${binding.source}`);
      const to = ids.get(`${binding.destinationType === 'queue' ? 'q' : 'e'}:${binding.destination}`);
      edges.push(`  ${from} -> ${to} [label=${dotString(bindingLabel(binding))}];`);
    } else if (line.kind === 'consumer') {
      const consumer = line.record as ConsumerRecord;
      const id = node(
        `c:${consumer.queue}:${consumer.consumerTag}`,
        'c',
        `shape=note, label=${dotString(consumerLabel(consumer))}`,
      );
      const parent = byId.get(line.parent ?? 0);
      edges.push(`  ${queue(parent?.record as QueueRecord)} -> ${id} [style=dashed];`);
    }
  }
  return [
    'digraph warren {',
    `  graph [rankdir=LR, label=${dotString(title)}, labelloc=t];`,
    ...nodes,
    ...edges,
    '}',
    '',
  ].join('\n');
}
