/**
 * Where a message would go, computed from a vhost's snapshot as RabbitMQ 3.10 routes it,
 * without publishing anything: the exchange's matching bindings (direct, fanout, topic,
 * headers), exchange-to-exchange bindings followed (each exchange visited once, so cycles
 * end), and an exchange's alternate exchange when its own bindings match nothing. The
 * default exchange ('') delivers to the queue named by the routing key, if there is one.
 * The CC and BCC headers add routing keys, as the broker's sender-selected distribution does.
 */
import type { FieldTable, TypedValue } from '../broker/fieldTable.js';
import { BrokerRefusedError, UsageError } from '../errors.js';
import type { BindingRecord, ExchangeRecord } from './records.js';
import {
  type Comparable,
  comparableFromTyped,
  type HeadersSpec,
  headersMatch,
  headersSpec,
  TopicTrie,
} from './routingMatch.js';
import type { Snapshot } from './snapshot.js';

/** The exchange types warren can route through; any other (plugins) it cannot compute. */
export const ROUTABLE_TYPES = ['direct', 'fanout', 'topic', 'headers'] as const;

export interface RouteRequest {
  exchange: string;
  routingKey: string;
  /** The message's headers in warren's typed form (what `-H` gives). */
  headers: FieldTable;
}

/** One step of the way to a queue: a binding that matched, the alternate exchange, or the default exchange. */
export interface Hop {
  exchange: string;
  type: string;
  by: 'binding' | 'alternate-exchange' | 'default-exchange';
  /** The binding's key (for the default exchange: the routing key); null for the alternate exchange. */
  routingKey: string | null;
  /** The binding's arguments; null for the alternate and the default exchange. */
  arguments: Record<string, unknown> | null;
}

export interface RoutedQueue {
  queue: string;
  vhost: string;
  /** The first way found to the queue (fewest steps), from the exchange published to. */
  via: Hop[];
}

export interface RouteResult {
  exchange: ExchangeRecord;
  /** The queues reached, each once, by name. */
  queues: RoutedQueue[];
  /** Exchanges reached whose type warren cannot compute (x-consistent-hash, plugins…). */
  unknown: { exchange: string; type: string; via: Hop[] }[];
  /** Alternate exchanges named (by argument or policy) that do not exist. */
  missingAlternates: { exchange: string; alternate: string }[];
}

export interface RoutingOptions {
  /** The vhost's policies by name: their definitions (for `alternate-exchange` by policy). */
  policies?: Map<string, Record<string, unknown>>;
}

type ExchangeIndex =
  | { type: 'direct'; byKey: Map<string, BindingRecord[]> }
  | { type: 'fanout'; bindings: BindingRecord[] }
  | { type: 'topic'; trie: TopicTrie<BindingRecord> }
  | { type: 'headers'; specs: [HeadersSpec, BindingRecord][] }
  | { type: 'unknown' };

/** A snapshot made ready to route many messages: each exchange's bindings indexed once. */
export class Router {
  private readonly exchanges = new Map<string, ExchangeRecord>();
  private readonly queues = new Set<string>();
  private readonly bindingsFrom = new Map<string, BindingRecord[]>();
  private readonly indexes = new Map<string, ExchangeIndex>();

  constructor(
    private readonly snapshot: Snapshot,
    private readonly options: RoutingOptions = {},
  ) {
    for (const exchange of snapshot.exchanges) this.exchanges.set(exchange.name, exchange);
    for (const queue of snapshot.queues) this.queues.add(queue.name);
    for (const binding of snapshot.bindings) {
      if (binding.source === '') continue;
      const list = this.bindingsFrom.get(binding.source);
      if (list) list.push(binding);
      else this.bindingsFrom.set(binding.source, [binding]);
    }
  }

  exchange(name: string): ExchangeRecord | undefined {
    return this.exchanges.get(name);
  }

  route(request: RouteRequest): RouteResult {
    const start = this.exchanges.get(request.exchange);
    if (!start) {
      throw new BrokerRefusedError(
        `exchange '${request.exchange}' does not exist in vhost '${this.snapshot.vhost}'`,
        { hint: "a publish to it would be refused (404); see 'warren ls exchanges'" },
      );
    }
    const keys = routingKeys(request);
    const result: RouteResult = { exchange: start, queues: [], unknown: [], missingAlternates: [] };
    if (start.name === '') {
      for (const key of keys) {
        if (this.queues.has(key) && !result.queues.some((q) => q.queue === key)) {
          const hop: Hop = {
            exchange: '',
            type: start.type,
            by: 'default-exchange',
            routingKey: key,
            arguments: null,
          };
          result.queues.push({ queue: key, vhost: this.snapshot.vhost, via: [hop] });
        }
      }
      return sorted(result);
    }
    this.walk(start, keys, headerMap(request.headers), result);
    return sorted(result);
  }

  /** Breadth first from the exchange published to: every exchange reached is routed through once. */
  private walk(
    start: ExchangeRecord,
    keys: string[],
    headers: Map<string, Comparable>,
    result: RouteResult,
  ): void {
    const reached = new Map<string, RoutedQueue>();
    const seen = new Set([start.name]);
    const work: { exchange: ExchangeRecord; via: Hop[] }[] = [{ exchange: start, via: [] }];
    for (let next = 0; next < work.length; next++) {
      const { exchange, via } = work[next] as (typeof work)[number];
      const index = this.index(exchange);
      if (index.type === 'unknown') {
        result.unknown.push({ exchange: exchange.name, type: exchange.type, via });
        continue;
      }
      const matched = matchBindings(index, keys, headers);
      const follow = (name: string, hop: Hop) => {
        const target = this.exchanges.get(name);
        if (!target || seen.has(name)) return;
        seen.add(name);
        work.push({ exchange: target, via: [...via, hop] });
      };
      for (const binding of matched) {
        const hop: Hop = {
          exchange: exchange.name,
          type: exchange.type,
          by: 'binding',
          routingKey: binding.routingKey,
          arguments: binding.arguments,
        };
        if (binding.destinationType === 'exchange') follow(binding.destination, hop);
        else if (!reached.has(binding.destination))
          reached.set(binding.destination, {
            queue: binding.destination,
            vhost: this.snapshot.vhost,
            via: [...via, hop],
          });
      }
      if (matched.length > 0) continue;
      // The broker tries the alternate exchange only when the exchange's own bindings matched nothing.
      const alternate = this.alternateOf(exchange);
      if (alternate === undefined) continue;
      if (!this.exchanges.has(alternate))
        result.missingAlternates.push({ exchange: exchange.name, alternate });
      const hop: Hop = {
        exchange: exchange.name,
        type: exchange.type,
        by: 'alternate-exchange',
        routingKey: null,
        arguments: null,
      };
      follow(alternate, hop);
    }
    result.queues = [...reached.values()];
  }

  private alternateOf(exchange: ExchangeRecord): string | undefined {
    return alternateExchangeOf(exchange, this.options.policies);
  }

  private index(exchange: ExchangeRecord): ExchangeIndex {
    let index = this.indexes.get(exchange.name);
    if (!index) {
      index = indexBindings(exchange.type, this.bindingsFrom.get(exchange.name) ?? []);
      this.indexes.set(exchange.name, index);
    }
    return index;
  }
}

/** The `alternate-exchange` argument, else that of the exchange's policy (the argument wins, as in the broker). */
export function alternateExchangeOf(
  exchange: ExchangeRecord,
  policies: RoutingOptions['policies'],
): string | undefined {
  const argument = exchange.arguments['alternate-exchange'];
  if (argument !== undefined) return String(argument);
  if (!exchange.policy) return undefined;
  const byPolicy = policies?.get(exchange.policy)?.['alternate-exchange'];
  return byPolicy === undefined ? undefined : String(byPolicy);
}

function indexBindings(type: string, bindings: BindingRecord[]): ExchangeIndex {
  switch (type) {
    case 'direct': {
      const byKey = new Map<string, BindingRecord[]>();
      for (const binding of bindings) {
        const list = byKey.get(binding.routingKey);
        if (list) list.push(binding);
        else byKey.set(binding.routingKey, [binding]);
      }
      return { type, byKey };
    }
    case 'fanout':
      return { type, bindings };
    case 'topic': {
      const trie = new TopicTrie<BindingRecord>();
      for (const binding of bindings) trie.add(binding.routingKey, binding);
      return { type, trie };
    }
    case 'headers':
      return { type, specs: bindings.map((binding) => [headersSpec(binding.arguments), binding]) };
    default:
      return { type: 'unknown' };
  }
}

function matchBindings(
  index: ExchangeIndex,
  keys: string[],
  headers: Map<string, Comparable>,
): BindingRecord[] {
  switch (index.type) {
    case 'fanout':
      return index.bindings;
    case 'headers':
      return index.specs.filter(([spec]) => headersMatch(spec, headers)).map(([, binding]) => binding);
    case 'direct':
      if (keys.length === 1) return index.byKey.get(keys[0] as string) ?? [];
      return [...new Set(keys.flatMap((key) => index.byKey.get(key) ?? []))];
    case 'topic':
      if (keys.length === 1) return index.trie.match(keys[0] as string);
      return [...new Set(keys.flatMap((key) => index.trie.match(key)))];
    default:
      return [];
  }
}

/**
 * The routing key, then those of the CC and BCC headers (arrays: their long strings count,
 * other items not). The broker refuses a message whose CC or BCC is not an array.
 */
export function routingKeys(request: RouteRequest): string[] {
  const keys = [request.routingKey];
  for (const name of ['CC', 'BCC']) {
    if (!Object.hasOwn(request.headers, name)) continue;
    const value = request.headers[name];
    if (!Array.isArray(value)) {
      throw new UsageError(
        `the ${name} header must be an array of strings (the broker refuses the message otherwise)`,
        {
          hint: `-H '${name}:=["key.one","key.two"]'`,
        },
      );
    }
    for (const item of value) {
      const text = longString(item);
      if (text !== undefined && !keys.includes(text)) keys.push(text);
    }
  }
  return keys;
}

function longString(item: TypedValue): string | undefined {
  if (typeof item === 'string') return item;
  if (item !== null && typeof item === 'object' && !Array.isArray(item) && item['!'] === 'string')
    return String(item['value']);
  return undefined;
}

function headerMap(headers: FieldTable): Map<string, Comparable> {
  const map = new Map<string, Comparable>();
  for (const [key, value] of Object.entries(headers)) map.set(key, comparableFromTyped(value));
  return map;
}

function sorted(result: RouteResult): RouteResult {
  result.queues.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  return result;
}

/** Routes one message over a snapshot (a Router, for many, indexes the bindings once). */
export function routeMessage(
  snapshot: Snapshot,
  request: RouteRequest,
  options: RoutingOptions = {},
): RouteResult {
  return new Router(snapshot, options).route(request);
}
