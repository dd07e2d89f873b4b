/**
 * How RabbitMQ 3.10 matches one exchange's bindings against a message: topic binding keys
 * (words split on '.', `*` one word, `#` zero or more; the key '' is no words at all) and
 * headers-exchange arguments (x-match all, any, all-with-x, any-with-x), with values
 * compared as the broker compares them (Erlang `==`: numbers by value whatever their type,
 * strings and byte arrays by their bytes). `routing.ts` walks the exchanges with these.
 */
import { TYPE_ALIASES, type TypedValue } from '../broker/fieldTable.js';

/** A topic routing key or binding key as the broker splits it: '' is no word at all. */
export function topicWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

interface TrieNode<T> {
  words: Map<string, TrieNode<T>>;
  star: TrieNode<T> | undefined;
  hash: TrieNode<T> | undefined;
  items: T[];
  id: number;
}

/** A topic exchange's binding keys as a trie of words, as the broker keeps them. */
export class TopicTrie<T> {
  private readonly root: TrieNode<T>;
  private nodes = 0;

  constructor() {
    this.root = this.node();
  }

  private node(): TrieNode<T> {
    return { words: new Map(), star: undefined, hash: undefined, items: [], id: this.nodes++ };
  }

  add(bindingKey: string, item: T): void {
    let at = this.root;
    for (const word of topicWords(bindingKey)) {
      if (word === '*') at = at.star ??= this.node();
      else if (word === '#') at = at.hash ??= this.node();
      else {
        const next = at.words.get(word) ?? this.node();
        at.words.set(word, next);
        at = next;
      }
    }
    at.items.push(item);
  }

  /** The items whose binding keys match the routing key, each once. */
  match(routingKey: string): T[] {
    const words = topicWords(routingKey);
    const found = new Set<T>();
    // A (node, word) pair reached twice gives nothing new: `#.#.#` stays linear.
    const seen = new Set<number>();
    const width = words.length + 1;
    const walk = (node: TrieNode<T>, at: number): void => {
      const mark = node.id * width + at;
      if (seen.has(mark)) return;
      seen.add(mark);
      if (node.hash) for (let next = at; next <= words.length; next++) walk(node.hash, next);
      if (at === words.length) {
        for (const item of node.items) found.add(item);
        return;
      }
      const child = node.words.get(words[at] as string);
      if (child) walk(child, at + 1);
      if (node.star) walk(node.star, at + 1);
    };
    walk(this.root, 0);
    return [...found];
  }
}

/**
 * A field value as the broker compares it. Numbers of every integer and float type are
 * equal when their values are (int 1 = double 1.0 = timestamp 1); long strings and byte
 * arrays when their bytes are; a decimal only to the same decimal.
 */
export type Comparable =
  | { kind: 'number'; value: number | bigint }
  | { kind: 'bytes'; value: Buffer }
  | { kind: 'bool'; value: boolean }
  | { kind: 'void' }
  | { kind: 'decimal'; places: number; digits: string }
  | { kind: 'array'; value: Comparable[] }
  | { kind: 'table'; value: Map<string, Comparable> };

/** What the management API writes for a binding argument of bytes that are not UTF-8. */
const NOT_UTF8 = 'Not UTF-8, base64 is: ';

/**
 * A binding argument as the management API shows it. The API's JSON has lost the AMQP
 * types: a void argument (match on presence) is shown as the string "undefined", bytes that
 * are not UTF-8 as "Not UTF-8, base64 is: …"; both are read back as what they were.
 */
export function comparableFromApi(value: unknown): Comparable {
  if (value === null || value === 'undefined') return { kind: 'void' };
  if (typeof value === 'string') {
    return value.startsWith(NOT_UTF8)
      ? { kind: 'bytes', value: Buffer.from(value.slice(NOT_UTF8.length), 'base64') }
      : { kind: 'bytes', value: Buffer.from(value) };
  }
  if (typeof value === 'number') return { kind: 'number', value };
  if (typeof value === 'boolean') return { kind: 'bool', value };
  if (Array.isArray(value)) return { kind: 'array', value: value.map(comparableFromApi) };
  const table = new Map<string, Comparable>();
  for (const [key, item] of Object.entries(value as Record<string, unknown>))
    table.set(key, comparableFromApi(item));
  return { kind: 'table', value: table };
}

/** A header value in warren's typed form (`-H k=v` a string, `-H k:=JSON` typed). */
export function comparableFromTyped(value: TypedValue): Comparable {
  if (value === null) return { kind: 'void' };
  if (typeof value === 'string') return { kind: 'bytes', value: Buffer.from(value) };
  if (typeof value === 'number') return { kind: 'number', value };
  if (typeof value === 'boolean') return { kind: 'bool', value };
  if (Array.isArray(value)) return { kind: 'array', value: value.map(comparableFromTyped) };
  if (Object.hasOwn(value, '!')) return comparableFromTypedForm(value as { '!': string; value: unknown });
  const table = new Map<string, Comparable>();
  for (const [key, item] of Object.entries(value)) table.set(key, comparableFromTyped(item as TypedValue));
  return { kind: 'table', value: table };
}

function comparableFromTypedForm(form: { '!': string; value: unknown }): Comparable {
  const { value } = form;
  const type = TYPE_ALIASES[form['!']] ?? form['!'];
  switch (type) {
    case 'string':
      return { kind: 'bytes', value: Buffer.from(String(value)) };
    case 'bytes':
      return { kind: 'bytes', value: Buffer.from(String(value), 'base64') };
    case 'bool':
    case 'boolean':
      return { kind: 'bool', value: value === true };
    case 'void':
      return { kind: 'void' };
    case 'table':
      return comparableFromTyped(value as TypedValue);
    case 'decimal': {
      const decimal = value as { places: number; digits: number | string };
      return { kind: 'decimal', places: decimal.places, digits: String(decimal.digits) };
    }
    case 'float':
      // The broker holds the 32-bit float it was sent, not the double it was written as.
      return { kind: 'number', value: Math.fround(Number(value)) };
    default:
      return { kind: 'number', value: typeof value === 'string' ? BigInt(value) : Number(value) };
  }
}

function numbersEqual(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === typeof b) return a === b;
  const [big, small] = typeof a === 'bigint' ? [a, b as number] : [b as bigint, a as number];
  return Number.isInteger(small) && big === BigInt(small);
}

/** Erlang's `==` on two field values. */
export function valuesEqual(a: Comparable, b: Comparable): boolean {
  switch (a.kind) {
    case 'number':
      return b.kind === 'number' && numbersEqual(a.value, b.value);
    case 'bytes':
      return b.kind === 'bytes' && a.value.equals(b.value);
    case 'bool':
      return b.kind === 'bool' && a.value === b.value;
    case 'void':
      return b.kind === 'void';
    case 'decimal':
      return b.kind === 'decimal' && a.places === b.places && a.digits === b.digits;
    case 'array':
      return (
        b.kind === 'array' &&
        a.value.length === b.value.length &&
        a.value.every((item, index) => valuesEqual(item, b.value[index] as Comparable))
      );
    case 'table': {
      if (b.kind !== 'table' || a.value.size !== b.value.size) return false;
      for (const [key, item] of a.value) {
        const other = b.value.get(key);
        if (!other || !valuesEqual(item, other)) return false;
      }
      return true;
    }
  }
}

export const X_MATCH_MODES = ['all', 'any', 'all-with-x', 'any-with-x'] as const;
export type XMatch = (typeof X_MATCH_MODES)[number];

/** A headers binding's arguments, ready to match messages. */
export interface HeadersSpec {
  mode: XMatch;
  /** The arguments that take part (x-match never; other x- ones only with the -with-x modes). */
  fields: [string, Comparable][];
}

export function headersSpec(args: Record<string, unknown>): HeadersSpec {
  const given = args['x-match'];
  // The broker refuses other values when binding; an older binding's are read as all.
  const mode = X_MATCH_MODES.includes(given as XMatch) ? (given as XMatch) : 'all';
  const withX = mode.endsWith('-with-x');
  const fields: [string, Comparable][] = [];
  for (const [key, value] of Object.entries(args)) {
    if (key === 'x-match' || (!withX && key.startsWith('x-'))) continue;
    fields.push([key, comparableFromApi(value)]);
  }
  return { mode, fields };
}

/**
 * Whether a message with these headers matches: with all, every field is present and equal
 * (a void field: present); with any, at least one is. No fields: all matches, any does not.
 */
export function headersMatch(spec: HeadersSpec, headers: Map<string, Comparable>): boolean {
  const all = spec.mode === 'all' || spec.mode === 'all-with-x';
  for (const [key, expected] of spec.fields) {
    const actual = headers.get(key);
    const matches = actual !== undefined && (expected.kind === 'void' || valuesEqual(expected, actual));
    if (all && !matches) return false;
    if (!all && matches) return true;
  }
  return all;
}
