/**
 * `warren info` as text: the routing tree for a person (box-drawing guides, a colour per
 * kind of node, names escaped for the terminal, long lines wrapped under their own branch so
 * the guides stay straight on a narrow terminal), and as NDJSON for a program.
 */
import type { BindingRecord, ConsumerRecord, ExchangeRecord, QueueRecord } from '../inventory/records.js';
import { type TreeNode, treeLines } from '../inventory/tree.js';
import type { Paint } from '../ui/colour.js';
import { WIDE } from '../ui/spinner.js';
import { visibleInLine } from '../ui/terminalText.js';

/** A piece of a line: its text (already safe for a terminal) and its colour. */
interface Segment {
  text: string;
  paint?: (text: string) => string;
}

export interface TreeTextOptions {
  paint: Paint;
  /** The terminal's width; lines are not wrapped when unknown. */
  columns?: number | undefined;
  /** The first line, above the tree (`vhost /`). */
  title?: string;
}

/** One NDJSON line per node, depth first (docs/commands/info.md "NDJSON"). */
export function treeNdjson(roots: TreeNode[]): string {
  return treeLines(roots)
    .map((line) => `${JSON.stringify(line)}\n`)
    .join('');
}

const exchangeName = (name: string) => (name === '' ? '(default)' : visibleInLine(name));
const count = (value: number | null) => (value === null ? '?' : String(value));

function exchangeSegments(record: ExchangeRecord, paint: Paint): Segment[] {
  const details = [record.type, ...(record.internal ? ['internal'] : [])].join(', ');
  return [
    { text: 'exchange', paint: paint.dim },
    { text: exchangeName(record.name), paint: (t) => paint.bold(paint.cyan(t)) },
    { text: `(${visibleInLine(details)})`, paint: paint.dim },
  ];
}

function queueSegments(record: QueueRecord, paint: Paint): Segment[] {
  return [
    { text: 'queue', paint: paint.dim },
    { text: visibleInLine(record.name), paint: (t) => paint.bold(paint.green(t)) },
    { text: `(${visibleInLine(record.type)})`, paint: paint.dim },
    { text: `messages ${count(record.messages)}` },
    { text: `ready ${count(record.messagesReady)}` },
    { text: `unacked ${count(record.messagesUnacknowledged)}` },
    { text: `consumers ${count(record.consumers)}` },
  ];
}

function consumerSegments(record: ConsumerRecord, paint: Paint): Segment[] {
  const connection = record.clientName ?? record.connection;
  return [
    { text: 'consumer', paint: paint.dim },
    { text: visibleInLine(record.consumerTag), paint: paint.magenta },
    ...(connection === null ? [] : [{ text: `connection '${visibleInLine(connection)}'` }]),
    { text: `prefetch ${record.prefetchCount}` },
    { text: `ack ${record.ackRequired ? 'manual' : 'auto'}` },
    ...(record.exclusive ? [{ text: 'exclusive' }] : []),
    ...(record.active === false ? [{ text: 'inactive', paint: paint.yellow }] : []),
  ];
}

/** The binding's key and arguments, and the arrow to the node it leads to (or comes from). */
function bindingSegments(record: BindingRecord, downstream: boolean, paint: Paint): Segment[] {
  const args =
    Object.keys(record.arguments).length > 0
      ? [{ text: visibleInLine(JSON.stringify(record.arguments)) }]
      : [];
  return [
    ...(downstream ? [] : [{ text: '←', paint: paint.dim }]),
    { text: `'${visibleInLine(record.routingKey)}'`, paint: paint.yellow },
    ...args,
    { text: downstream ? '→' : 'from', paint: paint.dim },
  ];
}

function nodeSegments(node: TreeNode, paint: Paint): Segment[] {
  switch (node.kind) {
    case 'exchange':
      return exchangeSegments(node.record, paint);
    case 'queue':
      return queueSegments(node.record, paint);
    case 'consumer':
      return consumerSegments(node.record, paint);
    case 'binding':
      return [];
  }
}

const widthOf = (text: string) => [...text].reduce((sum, c) => sum + (WIDE.test(c) ? 2 : 1), 0);

/** The longest start of `text` no wider than `room` (one character at least), and the rest. */
function split(text: string, room: number): [string, string] {
  const characters = [...text];
  let width = 0;
  let kept = 0;
  while (kept < characters.length && (kept === 0 || width + widthOf(characters[kept] as string) <= room)) {
    width += widthOf(characters[kept] as string);
    kept += 1;
  }
  return [characters.slice(0, kept).join(''), characters.slice(kept).join('')];
}

/**
 * Segments in rows, joined by a space: the first row no wider than `first`, the others than
 * `room`. A segment goes whole to the next row when it fits there; one wider than any row
 * fills the rest of this row and goes on in the next.
 */
function rows(segments: Segment[], first: number, room: number): Segment[][] {
  const out: Segment[][] = [[]];
  let used = 0;
  for (const segment of segments) {
    let text = segment.text;
    while (text !== '') {
      const row = out[out.length - 1] as Segment[];
      const free = (out.length === 1 ? first : room) - used - (row.length > 0 ? 1 : 0);
      const width = widthOf(text);
      if (width <= free || (row.length === 0 && free <= 0)) {
        row.push({ ...segment, text });
        used += (row.length > 1 ? 1 : 0) + width;
        break;
      }
      if (width > room && free > 0) {
        const [piece, rest] = split(text, free);
        row.push({ ...segment, text: piece });
        text = rest;
      }
      out.push([]);
      used = 0;
    }
  }
  return out;
}

/** Below this many columns for the text, lines are left for the terminal to wrap. */
const LEAST_ROOM = 16;

class TreeWriter {
  readonly lines: string[] = [];
  private readonly ancestors: number[] = [];

  constructor(private readonly options: TreeTextOptions) {}

  private line(first: string, next: string, segments: Segment[]): void {
    const { paint, columns } = this.options;
    const width = columns ?? 0;
    const room = width - widthOf(next) - 2;
    const wrapped = room >= LEAST_ROOM ? rows(segments, width - widthOf(first), room) : [segments];
    wrapped.forEach((row, index) => {
      const guide = index === 0 ? first : `${next}  `;
      const text = row.map((s) => (s.paint ? s.paint(s.text) : s.text)).join(' ');
      this.lines.push(`${guide === '' ? '' : paint.dim(guide)}${text}`);
    });
  }

  /** A node, its guides: `first` before its own line, `next` before what hangs under it. */
  node(node: TreeNode, first: string, next: string, downstream: boolean): void {
    const { paint } = this.options;
    let shown = node;
    let segments: Segment[] = [];
    if (node.kind === 'binding') {
      segments = bindingSegments(node.record, downstream, paint);
      shown = node.children[0];
    }
    segments = [...segments, ...nodeSegments(shown, paint)];
    if ((shown.kind === 'exchange' || shown.kind === 'queue') && shown.shownAt !== null) {
      const cycle = this.ancestors.includes(shown.shownAt);
      segments.push({ text: cycle ? '↻ cycle, shown above' : '↑ shown above', paint: paint.dim });
    }
    this.line(first, next, segments);
    this.ancestors.push(node.id, shown.id);
    this.children(shown.children, next, downstream);
    this.ancestors.length -= 2;
  }

  children(children: TreeNode[], prefix: string, downstream: boolean): void {
    children.forEach((child, index) => {
      const last = index === children.length - 1;
      this.node(child, `${prefix}${last ? '└─ ' : '├─ '}`, `${prefix}${last ? '   ' : '│  '}`, downstream);
    });
  }
}

/**
 * The tree for a person. A binding shares its line with the node it leads to
 * (`'key' → queue q`), or in a queue's tree with the exchange it comes from (`← 'key' from`).
 */
export function treeText(roots: TreeNode[], options: TreeTextOptions): string {
  const writer = new TreeWriter(options);
  const downstream = roots[0]?.kind !== 'queue' || options.title !== undefined;
  if (options.title === undefined) {
    for (const root of roots) writer.node(root, '', '', downstream);
  } else {
    writer.lines.push(options.paint.bold(visibleInLine(options.title)));
    writer.children(roots, '', true);
  }
  return writer.lines.map((line) => `${line}\n`).join('');
}
