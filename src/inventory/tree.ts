/**
 * The routing tree of `warren info`, built from a vhost's snapshot without asking the broker
 * anything: exchange → binding → queue or exchange → consumer, or, for a queue, the bindings
 * and exchanges that lead into it.
 *
 * Every exchange and queue is expanded (its bindings or consumers listed under it) the first
 * time it appears; where it appears again (a second binding to the same queue, a DAG of
 * exchanges, a cycle e1 → e2 → e1) it is a leaf whose `shownAt` names the node that expands
 * it. So the tree is finite and no larger than the topology. Nodes are numbered from 1 in
 * the order they are printed (depth first), and every list is in a fixed order, so the same
 * topology gives the same tree.
 */

import type { BindingRecord, ConsumerRecord, ExchangeRecord, QueueRecord } from './records.js';
import type { Snapshot } from './snapshot.js';

interface NodeBase {
  id: number;
}
export interface ExchangeNode extends NodeBase {
  kind: 'exchange';
  record: ExchangeRecord;
  /** The node that expands this exchange, when it is not this one. */
  shownAt: number | null;
  children: BindingNode[];
}
export interface QueueNode extends NodeBase {
  kind: 'queue';
  record: QueueRecord;
  shownAt: number | null;
  children: (ConsumerNode | BindingNode)[];
}
/** A binding; its one child is its destination, or, in a queue's tree, its source. */
export interface BindingNode extends NodeBase {
  kind: 'binding';
  record: BindingRecord;
  children: [ExchangeNode | QueueNode];
}
export interface ConsumerNode extends NodeBase {
  kind: 'consumer';
  record: ConsumerRecord;
  children: [];
}
export type TreeNode = ExchangeNode | QueueNode | BindingNode | ConsumerNode;

export interface TreeOptions {
  /** The default exchange ('') and its implicit binding to every queue. */
  defaultExchange: boolean;
  /** `amq.*` exchanges that nothing is bound to or from, hidden otherwise. */
  all: boolean;
}

/** A node's record with where it sits: one NDJSON line of `warren info`. */
export interface TreeLine {
  id: number;
  parent: number | null;
  depth: number;
  kind: TreeNode['kind'];
  shownAt: number | null;
  record: TreeNode['record'];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const bindingOrder = (a: BindingRecord, b: BindingRecord) =>
  byText(a.destination, b.destination) ||
  byText(a.destinationType, b.destinationType) ||
  byText(a.source, b.source) ||
  byText(a.routingKey, b.routingKey) ||
  byText(a.propertiesKey, b.propertiesKey);

/** The snapshot indexed, and the walk's state: the next id, what was expanded where. */
class TreeBuilder {
  private readonly exchanges = new Map<string, ExchangeRecord>();
  private readonly queues = new Map<string, QueueRecord>();
  private readonly consumers = new Map<string, ConsumerRecord[]>();
  readonly bindings: BindingRecord[];
  private nextId = 1;
  private readonly expanded = new Map<string, number>();

  constructor(
    snapshot: Snapshot,
    private readonly options: TreeOptions,
  ) {
    for (const exchange of snapshot.exchanges) this.exchanges.set(exchange.name, exchange);
    for (const queue of snapshot.queues) this.queues.set(queue.name, queue);
    const consumers = [...snapshot.consumers].sort((a, b) => byText(a.consumerTag, b.consumerTag));
    for (const consumer of consumers) {
      this.consumers.set(consumer.queue, [...(this.consumers.get(consumer.queue) ?? []), consumer]);
    }
    // A binding of something gone between the API's lists (deleted meanwhile) is left out.
    this.bindings = snapshot.bindings
      .filter((b) => options.defaultExchange || b.source !== '')
      .filter((b) => this.exchanges.has(b.source))
      .filter((b) => (b.destinationType === 'queue' ? this.queues : this.exchanges).has(b.destination))
      .sort(bindingOrder);
  }

  exchange(name: string): ExchangeRecord | undefined {
    return this.exchanges.get(name);
  }

  queue(name: string): QueueRecord | undefined {
    return this.queues.get(name);
  }

  /** The exchanges a vhost's tree shows, in name order. */
  shownExchanges(): ExchangeRecord[] {
    const bound = new Set(
      this.bindings.flatMap((b) => [`e:${b.source}`, `${b.destinationType[0]}:${b.destination}`]),
    );
    return [...this.exchanges.values()]
      .filter((e) => e.name !== '' || this.options.defaultExchange)
      .filter((e) => this.options.all || !e.name.startsWith('amq.') || bound.has(`e:${e.name}`))
      .sort((a, b) => byText(a.name, b.name));
  }

  isExpanded(kind: 'exchange' | 'queue', name: string): boolean {
    return this.expanded.has(`${kind}:${name}`);
  }

  /** An exchange with the bindings from it (`downstream`) or into it, each followed. */
  exchangeNode(record: ExchangeRecord, downstream: boolean): ExchangeNode {
    const id = this.nextId++;
    const shownAt = this.expanded.get(`exchange:${record.name}`) ?? null;
    const node: ExchangeNode = { kind: 'exchange', id, record, shownAt, children: [] };
    if (shownAt !== null) return node;
    this.expanded.set(`exchange:${record.name}`, id);
    const bindings = downstream
      ? this.bindings.filter((b) => b.source === record.name)
      : this.bindings.filter((b) => b.destinationType === 'exchange' && b.destination === record.name);
    node.children = bindings.map((binding) => this.bindingNode(binding, downstream));
    return node;
  }

  /** A queue with its consumers, and in a queue's own tree the bindings into it. */
  queueNode(record: QueueRecord, upstream = false): QueueNode {
    const id = this.nextId++;
    const shownAt = this.expanded.get(`queue:${record.name}`) ?? null;
    const node: QueueNode = { kind: 'queue', id, record, shownAt, children: [] };
    if (shownAt !== null) return node;
    this.expanded.set(`queue:${record.name}`, id);
    for (const consumer of this.consumers.get(record.name) ?? []) {
      node.children.push({ kind: 'consumer', id: this.nextId++, record: consumer, children: [] });
    }
    if (upstream) {
      for (const binding of this.bindings) {
        if (binding.destinationType === 'queue' && binding.destination === record.name) {
          node.children.push(this.bindingNode(binding, false));
        }
      }
    }
    return node;
  }

  private bindingNode(record: BindingRecord, downstream: boolean): BindingNode {
    const id = this.nextId++;
    let child: ExchangeNode | QueueNode;
    if (!downstream) child = this.exchangeNode(this.exchanges.get(record.source) as ExchangeRecord, false);
    else if (record.destinationType === 'exchange')
      child = this.exchangeNode(this.exchanges.get(record.destination) as ExchangeRecord, true);
    else child = this.queueNode(this.queues.get(record.destination) as QueueRecord);
    return { kind: 'binding', id, record, children: [child] };
  }
}

/**
 * A vhost's tree: first the exchanges no shown exchange is bound to, each followed down;
 * then the exchanges not reached that way (each of a cycle is bound from another); then the
 * queues no shown exchange leads to (with the default exchange hidden, the unbound ones).
 */
export function vhostTree(snapshot: Snapshot, options: TreeOptions): TreeNode[] {
  const builder = new TreeBuilder(snapshot, options);
  const exchanges = builder.shownExchanges();
  const shown = new Set(exchanges.map((e) => e.name));
  const boundFrom = new Set(
    builder.bindings
      .filter((b) => b.destinationType === 'exchange' && shown.has(b.source) && b.source !== b.destination)
      .map((b) => b.destination),
  );
  const roots: TreeNode[] = [];
  for (const exchange of exchanges) {
    if (!boundFrom.has(exchange.name)) roots.push(builder.exchangeNode(exchange, true));
  }
  for (const exchange of exchanges) {
    if (!builder.isExpanded('exchange', exchange.name)) roots.push(builder.exchangeNode(exchange, true));
  }
  const queues = [...snapshot.queues].sort((a, b) => byText(a.name, b.name));
  for (const queue of queues) {
    if (!builder.isExpanded('queue', queue.name)) roots.push(builder.queueNode(queue));
  }
  return roots;
}

/** One exchange followed down, or undefined when the snapshot has no such exchange. */
export function exchangeTree(snapshot: Snapshot, name: string, options: TreeOptions): TreeNode[] | undefined {
  const builder = new TreeBuilder(snapshot, {
    ...options,
    defaultExchange: options.defaultExchange || name === '',
  });
  const exchange = builder.exchange(name);
  return exchange && [builder.exchangeNode(exchange, true)];
}

/** One queue: its consumers, then the bindings into it, each followed up to where it starts. */
export function queueTree(snapshot: Snapshot, name: string, options: TreeOptions): TreeNode[] | undefined {
  const builder = new TreeBuilder(snapshot, options);
  const queue = builder.queue(name);
  return queue && [builder.queueNode(queue, true)];
}

/** The tree as NDJSON lines: depth first, each naming its parent. */
export function treeLines(roots: TreeNode[]): TreeLine[] {
  const lines: TreeLine[] = [];
  const visit = (node: TreeNode, parent: number | null, depth: number) => {
    const shownAt = node.kind === 'exchange' || node.kind === 'queue' ? node.shownAt : null;
    lines.push({ id: node.id, parent, depth, kind: node.kind, shownAt, record: node.record });
    for (const child of node.children) visit(child, node.id, depth + 1);
  };
  for (const root of roots) visit(root, null, 0);
  return lines;
}
